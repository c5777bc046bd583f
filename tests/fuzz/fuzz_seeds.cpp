// Writes a starting corpus for every fuzz target into OUT/<target>/: the
// minimal model as GGUF (Q8_0 and BF16 dense) and as safetensors, config.json
// files, its tokenizer.json and a small .tiktoken, a history exported as JSON
// and Markdown, the harmony conformance conversations, records of the
// tokenizer corpus, and those conversations rendered to o200k ids in
// fuzz_harmony_stream's byte scheme.
//
//   fuzz_seeds OUT      (OSSDESK_FUZZ_TIKTOKEN set for the last two)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harmony/conversation_json.h"
#include "harmony/renderer.h"
#include "minimal_model.h"
#include "o200k.h"
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/database.h"
#include "ossdesk/storage/export.h"
#include "ossdesk/storage/messages.h"

using namespace ossdesk;
namespace fs = std::filesystem;

namespace {

const fs::path kTestData = OSSDESK_FUZZ_TEST_DATA;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

std::vector<std::string> conversation_inputs() {
  std::vector<std::string> out;
  for (const char* file : {"harmony/cases.json", "harmony/cases_from_harmony_tests.json"})
    for (const auto& c : nlohmann::json::parse(read(kTestData / file))) out.push_back(c.at("input").dump());
  return out;
}

// Ids in fuzz_harmony_stream's scheme: a special as 0xF0 + its index there,
// any other id as three big-endian bytes.
std::string stream_bytes(const std::vector<TokenId>& ids) {
  const auto& names = fuzz::kHarmonyStreamSpecials;
  std::string out;
  for (TokenId id : ids) {
    bool done = false;
    for (std::size_t k = 0; k < std::size(names) && !done; ++k)
      if (fuzz::o200k().special_id(names[k]) == id) out += static_cast<char>(0xF0 + k), done = true;
    if (!done) out += {static_cast<char>(id >> 16), static_cast<char>(id >> 8), static_cast<char>(id)};
  }
  return out;
}

// `first` then `rest`: a harness whose first input byte picks a mode.
std::string after_byte(char first, const std::string& rest) {
  std::string out(1, first);
  out += rest;
  return out;
}

// A history with what an export has to carry: branches, a tool call, stats,
// every status, text that is not UTF-8 and text that looks like our markers.
void write_history_exports(const fs::path& work, const fs::path& out) {
  using namespace storage;
  Database db = Database::open(work / "history.db");
  const RowId c = create_conversation(db, {.title = "Weather \"now\" -->", .settings = {}, .created_ms = 1000});
  const auto message = [](Role role, std::string text, std::int64_t at) {
    NewMessage m;
    m.role = role;
    m.content = std::move(text);
    m.created_ms = at;
    return m;
  };
  const RowId question = append_message(db, c, message(Role::User, "Hi <!-- ossdesk:end -->", 1001));
  NewMessage call = message(Role::Assistant, "", 1002);
  call.reasoning = "Look it up.\n</details>";
  call.tool_calls = {{"call_1", "functions.get_weather", R"({"city":"Paris"})"}};
  call.stats = {.model = "gpt-oss-20b", .backend = "vulkan", .device = "GPU", .reasoning_effort = "low",
                .prompt_tokens = 10, .generated_tokens = 3, .ttft_ms = 1.5, .decode_tokens_per_s = 90.0, .thinking_ms = 0.5};
  append_message(db, c, call);
  NewMessage tool = message(Role::Tool, R"({"temp_c": 21.5})", 1003);
  tool.tool_call_id = "call_1";
  tool.tool_name = "functions.get_weather";
  append_message(db, c, tool);
  NewMessage cut = message(Role::Assistant, std::string("cut \xE2\x82 here"), 1004);
  cut.status = MessageStatus::Partial;
  add_message(db, c, question, cut);
  write(out / "history_import/export.json", after_byte('\0', export_json(db)));
  write(out / "history_import/export.md", after_byte('\x01', export_markdown(db)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds OUT\n");
    return 2;
  }
  const fs::path out = argv[1];
  const auto tokenizer = fuzz::minimal_tokenizer();
  const fs::path work = out / ".work";
  fs::create_directories(work);

  fuzz::write_minimal_model(out / "gguf_model/minimal-q8_0.gguf", true, DType::Q8_0, *tokenizer);
  fuzz::write_minimal_model(out / "gguf_model/minimal-bf16.gguf", true, DType::BF16, *tokenizer);
  const fs::path hf = work / "hf";
  fuzz::write_minimal_model(hf, false, DType::Q8_0, *tokenizer);
  write(out / "safetensors_model/model.safetensors", read(hf / "model.safetensors"));
  write(out / "model_config/minimal.json", read(hf / "config.json"));
  write(out / "model_config/tiny-a.json", read(kTestData / "golden/tiny-a/config.json"));
  write(out / "tokenizer_files/minimal.json", after_byte('\0', read(hf / "tokenizer.json")));
  write(out / "tokenizer_files/bytes.tiktoken", "\x01" "AA== 0\nAQ== 1\naGU= 2\nbGw= 3\n");

  write_history_exports(work, out);

  const auto conversations = conversation_inputs();
  for (std::size_t i = 0; i < conversations.size(); ++i)
    write(out / "conversation_json" / ("case-" + std::to_string(i) + ".json"), conversations[i]);

  const std::string corpus = read(kTestData / "tokenizer/corpus.txt");
  std::size_t start = 0, n = 0;
  for (std::size_t end; (end = corpus.find('\x1e', start)) != std::string::npos && n < 200; start = end + 1)
    if (end - start < 4096) write(out / "tokenizer_round_trip" / ("record-" + std::to_string(n++)), corpus.substr(start, end - start));

  for (std::size_t i = 0; i < conversations.size(); ++i) {
    const auto ids = harmony::render_tokens(harmony::conversation_from_json(conversations[i]), fuzz::o200k());
    write(out / "harmony_stream" / ("case-" + std::to_string(i)), after_byte('\x01', stream_bytes(ids)));
  }
  fs::remove_all(work);
  std::printf("seeds written to %s\n", out.c_str());
  return 0;
}

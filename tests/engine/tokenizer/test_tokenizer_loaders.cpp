// The builders: the o200k_harmony special ids, .tiktoken files (real and hostile),
// Hugging Face tokenizer.json (small hand-made ones, good and bad) and from_vocab.
// A hostile file must give ossdesk::Error naming the file and what was wrong,
// never a crash; the sanitizer build runs these too.
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <random>

#include "ossdesk/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_test_support.h"

using namespace ossdesk;
using ossdesk::test::describe_bytes;
using ossdesk::test::o200k_tokenizer;
using ossdesk::test::work_path;
using ossdesk::test::write_file;

Q_DECLARE_METATYPE(std::string)

namespace {

// Runs `build` and returns the ossdesk::Error it throws (nullopt if none; any
// other exception escapes and fails the test).
template <typename Build>
std::optional<Error> error_from(Build build) {
  try {
    build();
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

std::vector<std::string> o200k_lines() {
  const std::string content = test::read_file(test::o200k_tiktoken_path());
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < content.size()) {
    const std::size_t end = content.find('\n', pos);
    lines.push_back(content.substr(pos, end - pos));
    pos = end == std::string::npos ? content.size() : end + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines, const char* ending) {
  std::string out;
  for (const auto& line : lines) out += line + ending;
  return out;
}

// A tiny byte-level BPE: ids 0..255 are the bytes, then a few merges, then one
// special token. As a tokenizer.json it spells model.vocab keys GPT-2's way.
nlohmann::json tiny_tokenizer_json() {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[gpt2_unicode_encode(std::string(1, static_cast<char>(b)))] = b;
  const char* merges[] = {"he", "ll", "hell", "hello", " hello"};
  for (int i = 0; i < 5; ++i) vocab[gpt2_unicode_encode(merges[i])] = 256 + i;
  nlohmann::json added = nlohmann::json::array();
  added.push_back({{"id", 261}, {"content", "<|end|>"}, {"special", true}});
  return {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}},
          {"added_tokens", added}};
}

}  // namespace

class TestTokenizerLoaders : public QObject {
  Q_OBJECT

 private slots:
  void harmony_special_ids() {
    const Tokenizer& tok = o200k_tokenizer();
    QCOMPARE(tok.vocab_size(), std::size_t(201088));
    const std::pair<const char*, TokenId> named[] = {
        {"<|startoftext|>", 199998}, {"<|endoftext|>", 199999}, {"<|return|>", 200002}, {"<|constrain|>", 200003},
        {"<|channel|>", 200005},     {"<|start|>", 200006},     {"<|end|>", 200007},    {"<|message|>", 200008},
        {"<|call|>", 200012},        {"<|endofprompt|>", 200018}};
    for (const auto& [text, id] : named) {
      QCOMPARE(tok.special_id(text), std::optional<TokenId>(id));
      QCOMPARE(tok.token_bytes(id), std::string(text));
      QVERIFY(tok.is_special(id));
    }
    for (TokenId id : {200000, 200001, 200004, 200009, 200010, 200011, 200013, 200017, 200019, 201087}) {
      const std::string text = "<|reserved_" + std::to_string(id) + "|>";
      QCOMPARE(tok.token_bytes(id), text);
      QCOMPARE(tok.special_id(text), std::optional<TokenId>(id));
    }
    // tiktoken's o200k_harmony gives 200018 a second name; it decodes as <|endofprompt|>.
    QCOMPARE(tok.special_id("<|reserved_200018|>"), std::optional<TokenId>(200018));
    QCOMPARE(tok.encode("<|reserved_200018|><|endofprompt|>", true), (std::vector<TokenId>{200018, 200018}));
    QCOMPARE(tok.decode(std::vector<TokenId>{200018}), std::string("<|endofprompt|>"));

    QCOMPARE(tok.special_id("<|reserved_201088|>"), std::nullopt);
    QCOMPARE(tok.special_id("<|reserved_199999|>"), std::nullopt);
    QCOMPARE(tok.special_id("hello"), std::nullopt);
    QCOMPARE(tok.special_id("!"), std::nullopt);
    for (TokenId id : {0, 1000, 199997}) QVERIFY(!tok.is_special(id));
    QCOMPARE(tok.token_bytes(0), std::string("!"));
    QCOMPARE(tok.token_bytes(199997), std::string(" cocos"));
    for (TokenId bad : {-1, 201088, 1 << 30}) {
      QVERIFY_THROWS_EXCEPTION(Error, tok.token_bytes(bad));
      QVERIFY_THROWS_EXCEPTION(Error, tok.decode(std::vector<TokenId>{5, bad}));
    }
  }

  void missing_tiktoken_file_is_an_io_error() {
    const auto error = error_from([] { Tokenizer::from_tiktoken_file(work_path("does-not-exist.tiktoken")); });
    QVERIFY(error);
    QCOMPARE(error->kind(), ErrorKind::Io);
    QVERIFY(QString(error->what()).contains("does-not-exist.tiktoken"));
  }

  void hostile_tiktoken_files_data() {
    QTest::addColumn<std::string>("content");
    QTest::addColumn<QString>("message");
    QTest::newRow("bad base64") << std::string("IQ== 0\n!!!! 1\n") << ":2: expected base64 token bytes";
    QTest::newRow("non-canonical base64") << std::string("IR== 0\n") << ":1: expected base64";
    QTest::newRow("base64 length") << std::string("IQ= 0\n") << ":1: expected base64";
    QTest::newRow("missing rank") << std::string("IQ== 0\nIg==\n") << ":2: expected \"<base64> <rank>\"";
    QTest::newRow("rank not a number") << std::string("IQ== one\n") << ":1: expected a decimal rank";
    QTest::newRow("negative rank") << std::string("IQ== -1\n") << ":1: expected a decimal rank";
    QTest::newRow("two spaces") << std::string("IQ==  0\n") << ":1: expected a decimal rank";
    QTest::newRow("trailing junk") << std::string("IQ== 0x\n") << ":1: expected a decimal rank";
    QTest::newRow("huge rank") << std::string("IQ== 99999999999999999999999999\n") << ":1: expected a decimal rank";
    QTest::newRow("rank out of range") << std::string("IQ== 199998\n") << ":1: rank 199998 is out of range";
    QTest::newRow("duplicate rank") << std::string("IQ== 0\nIg== 0\n") << ":2: rank 0 appears a second time";
    QTest::newRow("empty line") << std::string("IQ== 0\n\nIg== 1\n") << ":2: empty line";
    QTest::newRow("too few ranks") << std::string("IQ== 0\nIg== 1\n") << "2 ranks; expected the 199998";
    QTest::newRow("empty file") << std::string() << "0 ranks; expected the 199998";
    QTest::newRow("nul bytes") << std::string("\0\0\0 \0", 5) << ":1: expected base64";
    QTest::newRow("binary") << std::string("\x89PNG\r\n\x1a\n\xff\xfe") << ":1: expected";
  }

  void hostile_tiktoken_files() {
    QFETCH(std::string, content);
    QFETCH(QString, message);
    const std::string path = work_path("hostile.tiktoken");
    write_file(path, content);
    const auto error = error_from([&] { Tokenizer::from_tiktoken_file(path); });
    QVERIFY2(error, "no error");
    QCOMPARE(error->kind(), ErrorKind::BadInput);
    const QString what = QString::fromUtf8(error->what());
    QVERIFY2(what.contains(QString::fromStdString(path)), qPrintable(what));
    QVERIFY2(what.contains(message), qPrintable(what));
  }

  void tiktoken_with_duplicate_bytes() {
    std::vector<std::string> lines = o200k_lines();
    lines[1] = lines[0].substr(0, lines[0].find(' ')) + " 1";
    const std::string path = work_path("duplicate-bytes.tiktoken");
    write_file(path, join_lines(lines, "\n"));
    const auto error = error_from([&] { Tokenizer::from_tiktoken_file(path); });
    QVERIFY(error);
    QVERIFY2(QString(error->what()).contains("token 1 and token 0 have the same bytes"), error->what());
  }

  void tiktoken_with_crlf_lines_loads() {
    const std::string path = work_path("crlf.tiktoken");
    write_file(path, join_lines(o200k_lines(), "\r\n"));
    const auto tok = Tokenizer::from_tiktoken_file(path);
    QCOMPARE(tok->encode("Hello world", false), (std::vector<TokenId>{13225, 2375}));
  }

  // Random damage to a real file's first lines: always an Error, never a crash.
  void mutated_tiktoken_files() {
    std::vector<std::string> lines = o200k_lines();
    lines.resize(64);
    const std::string original = join_lines(lines, "\n");
    const std::string path = work_path("mutated.tiktoken");
    std::mt19937 rng(2024);
    for (int round = 0; round < 300; ++round) {
      std::string content = original;
      for (int k = 1 + static_cast<int>(rng() % 8); k > 0; --k) {
        const std::size_t at = rng() % content.size();
        switch (rng() % 3) {
          case 0: content[at] = static_cast<char>(rng() % 256); break;
          case 1: content.erase(at, 1 + rng() % 5); break;
          default: content.insert(at, 1, " =\n\r\0"[rng() % 5]); break;
        }
        if (content.empty()) break;
      }
      write_file(path, content);
      const auto error = error_from([&] { Tokenizer::from_tiktoken_file(path); });
      QVERIFY(error);
      QCOMPARE(error->kind(), ErrorKind::BadInput);
    }
  }

  void tiny_tokenizer_json_loads() {
    const std::string path = work_path("tiny-tokenizer.json");
    write_file(path, tiny_tokenizer_json().dump());
    const auto tok = Tokenizer::from_hf_tokenizer_json(path);
    QCOMPARE(tok->vocab_size(), std::size_t(262));
    QCOMPARE(tok->encode("hello hello<|end|>", true), (std::vector<TokenId>{259, 260, 261}));
    QCOMPARE(tok->encode("hello<|end|>", false).back(), TokenId('>'));
    QCOMPARE(tok->token_bytes(' '), std::string(" "));
    QCOMPARE(tok->special_id("<|end|>"), std::optional<TokenId>(261));
    QVERIFY(tok->is_special(261));
    QVERIFY(!tok->is_special(260));
    QCOMPARE(tok->decode(tok->encode("say hello\n", false)), std::string("say hello\n"));
  }

  void hostile_tokenizer_json_data() {
    QTest::addColumn<std::string>("content");
    QTest::addColumn<QString>("message");
    const auto with_vocab = [](const nlohmann::json& vocab) {
      return nlohmann::json{{"model", {{"type", "BPE"}, {"vocab", vocab}}}}.dump();
    };
    QTest::newRow("truncated") << std::string("{\"model\": {\"vocab\": {\"a\": 1") << "not valid JSON at byte";
    QTest::newRow("not json") << std::string("\x89PNG\r\n") << "not valid JSON";
    QTest::newRow("array") << std::string("[]") << "expected a JSON object at the top level";
    QTest::newRow("no model") << std::string("{}") << "missing object \"model\"";
    QTest::newRow("no vocab") << std::string(R"({"model": {"type": "BPE"}})") << "missing object \"model.vocab\"";
    QTest::newRow("vocab array") << std::string(R"({"model": {"vocab": []}})") << "missing object \"model.vocab\"";
    QTest::newRow("not BPE") << std::string(R"({"model": {"type": "Unigram", "vocab": {}}})")
                             << "model.type is \"Unigram\"; expected \"BPE\"";
    QTest::newRow("string id") << with_vocab({{"a", "0"}}) << "model.vocab[\"a\"]: expected an integer id";
    QTest::newRow("float id") << with_vocab({{"a", 1.5}}) << "expected an integer id";
    QTest::newRow("negative id") << with_vocab({{"a", -1}}) << "id -1 is out of range";
    QTest::newRow("huge id") << with_vocab({{"a", 4294967296000ull}}) << "is out of range";
    QTest::newRow("id beyond the count") << with_vocab({{"a", 0}, {"b", 2}})
                                         << "id 2 is out of range; the file lists 2 tokens";
    nlohmann::json gap = nlohmann::json::parse(with_vocab({{"a", 0}, {"b", 2}}));
    gap["added_tokens"] = nlohmann::json::array({{{"id", 0}, {"content", "a"}}});  // listed again: 3 entries
    QTest::newRow("gap") << gap.dump() << "id 1 has no token";
    QTest::newRow("unmapped character") << with_vocab({{"\xE2\x82\xAC", 0}}) << "U+20AC at byte 0";
    QTest::newRow("missing bytes") << with_vocab({{"a", 0}, {"b", 1}}) << "no ordinary token is the single byte 0x00";
    nlohmann::json conflict = tiny_tokenizer_json();
    conflict["added_tokens"].push_back({{"id", 5}, {"content", "<|x|>"}});
    QTest::newRow("id conflict") << conflict.dump() << "added_tokens[1] gives id 5 the bytes \"<|x|>\"";
    nlohmann::json twice = tiny_tokenizer_json();
    twice["added_tokens"].push_back({{"id", 262}, {"content", "<|end|>"}});
    QTest::newRow("special twice") << twice.dump() << "token 262 and token 261 are both the special token";
    nlohmann::json no_content = tiny_tokenizer_json();
    no_content["added_tokens"].push_back({{"id", 262}});
    QTest::newRow("added without content") << no_content.dump() << "added_tokens[1]: missing string \"content\"";
    nlohmann::json added_object = tiny_tokenizer_json();
    added_object["added_tokens"] = {{"a", 1}};
    QTest::newRow("added not array") << added_object.dump() << "\"added_tokens\" is object; expected an array";
    QTest::newRow("deep nesting") << std::string(100000, '[') + std::string(100000, ']')
                                  << "nested more than 127 levels deep";
    // model.type is printed in its error: dump() of a million nested arrays overflowed the stack.
    QTest::newRow("deep model.type") << R"({"model": {"vocab": {}, "type": )" + std::string(1000000, '[') +
                                            std::string(1000000, ']') + "}}"
                                     << "nested more than 127 levels deep";
  }

  void hostile_tokenizer_json() {
    QFETCH(std::string, content);
    QFETCH(QString, message);
    const std::string path = work_path("hostile-tokenizer.json");
    write_file(path, content);
    const auto error = error_from([&] { Tokenizer::from_hf_tokenizer_json(path); });
    QVERIFY2(error, "no error");
    QCOMPARE(error->kind(), ErrorKind::BadInput);
    const QString what = QString::fromUtf8(error->what());
    QVERIFY2(what.contains(QString::fromStdString(path)), qPrintable(what));
    QVERIFY2(what.contains(message), qPrintable(what));
  }

  // The GGUF path: the bytes and flags of every id give back the same tokenizer.
  void from_vocab_round_trip() {
    const Tokenizer& tok = o200k_tokenizer();
    std::vector<std::string> bytes;
    std::vector<bool> special;
    for (TokenId id = 0; id < static_cast<TokenId>(tok.vocab_size()); ++id) {
      bytes.push_back(tok.token_bytes(id));
      special.push_back(tok.is_special(id));
    }
    const auto copy = Tokenizer::from_vocab(bytes, special, "copy.gguf");
    QCOMPARE(copy->vocab_size(), tok.vocab_size());
    const std::string corpus = test::read_file(test::corpus_path()).substr(0, 200000);
    for (bool allow_special : {false, true}) {
      const std::vector<TokenId> ids = copy->encode(corpus, allow_special);
      QVERIFY(ids == tok.encode(corpus, allow_special));
      QVERIFY(copy->decode(ids) == (allow_special ? test::with_canonical_special_names(corpus) : corpus));
    }
    QCOMPARE(copy->special_id("<|start|>"), std::optional<TokenId>(200006));
    // One name per id in a vocabulary; the o200k_harmony alias is added all the same.
    QCOMPARE(copy->special_id("<|reserved_200018|>"), std::optional<TokenId>(200018));
    // ... but only where id 200018 is <|endofprompt|>.
    special[200018] = false;
    bytes[200018] = "<|reserved_200018|>x";
    QCOMPARE(Tokenizer::from_vocab(bytes, special, "other.gguf")->special_id("<|reserved_200018|>"), std::nullopt);
  }

  void hostile_vocabularies() {
    std::vector<std::string> bytes;
    for (int b = 0; b < 256; ++b) bytes.emplace_back(1, static_cast<char>(b));
    const std::vector<bool> plain(256, false);
    struct Case {
      std::vector<std::string> bytes;
      std::vector<bool> special;
      const char* message;
    };
    auto plus = [&](std::vector<std::string> extra, std::vector<bool> flags) {
      std::vector<std::string> b = bytes;
      std::vector<bool> s = plain;
      b.insert(b.end(), extra.begin(), extra.end());
      s.insert(s.end(), flags.begin(), flags.end());
      return Case{b, s, ""};
    };
    std::vector<Case> cases;
    cases.push_back({{}, {}, "the vocabulary is empty"});
    cases.push_back({bytes, std::vector<bool>(255, false), "256 token strings but 255 special flags"});
    cases.push_back({std::vector<std::string>(bytes.begin() + 1, bytes.end()), std::vector<bool>(255, false),
                     "no ordinary token is the single byte 0x00"});
    cases.push_back(plus({""}, {false}));
    cases.back().message = "token 256 is empty";
    cases.push_back(plus({"ab", "ab"}, {false, false}));
    cases.back().message = "token 257 and token 256 have the same bytes \"ab\"";
    cases.push_back(plus({"<|s|>", "<|s|>"}, {true, true}));
    cases.back().message = "token 257 and token 256 are both the special token \"<|s|>\"";
    cases.push_back(plus({std::string(70000, 'x')}, {false}));
    cases.back().message = "token 256 is 70000 bytes long";
    for (const Case& c : cases) {
      const auto error = error_from([&] { Tokenizer::from_vocab(c.bytes, c.special, "hostile.gguf"); });
      QVERIFY2(error, c.message);
      QCOMPARE(error->kind(), ErrorKind::BadInput);
      QVERIFY2(QString(error->what()).startsWith("hostile.gguf: "), error->what());
      QVERIFY2(QString(error->what()).contains(c.message), error->what());
    }
  }
};

QTEST_GUILESS_MAIN(TestTokenizerLoaders)
#include "test_tokenizer_loaders.moc"

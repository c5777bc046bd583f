// HarmonyStreamParser fed any token sequence a model could emit. The input's
// bytes pick tokens (fuzz_seeds writes rendered conversations this way): a
// byte >= 0xF0 picks one of the harmony specials, so they are common as in real
// output; any other byte starts three that pick an ordinary o200k id.
// Checked, besides "never throws" (the parser's promise):
//  - messages are numbered 0, 1, 2 ... in order of their MessageStart;
//  - each message's ContentDelta texts add up to its MessageEnd text, which is
//    what messages() keeps for it;
//  - every text the parser emits is valid UTF-8;
//  - after finish() no message is open.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "harmony/stream_parser.h"
#include "harmony/utf8_assembler.h"
#include "o200k.h"

using namespace ossdesk;
using harmony::HarmonyEvent;
using harmony::HarmonyEventKind;

namespace {

constexpr TokenId kOrdinaryIds = 199998;  // o200k_base's ranks; the specials follow

const std::vector<TokenId>& specials() {
  static const std::vector<TokenId> ids = [] {
    std::vector<TokenId> out;
    for (const char* name : fuzz::kHarmonyStreamSpecials) out.push_back(fuzz::o200k().special_id(name).value());
    return out;
  }();
  return ids;
}

std::vector<TokenId> tokens_from(const std::uint8_t* data, std::size_t size) {
  std::vector<TokenId> out;
  for (std::size_t i = 0; i < size;) {
    if (data[i] >= 0xF0) {
      out.push_back(specials()[(data[i] - 0xF0) % specials().size()]);
      i += 1;
    } else if (i + 2 < size) {
      out.push_back(static_cast<TokenId>((data[i] << 16 | data[i + 1] << 8 | data[i + 2]) % kOrdinaryIds));
      i += 3;
    } else {
      out.push_back(data[i]);
      i += 1;
    }
  }
  return out;
}

struct Checker {
  int next_index = 0;
  int open_index = -1;
  std::string streamed;
  std::vector<std::string> ended;

  void check(const std::vector<HarmonyEvent>& events) {
    for (const auto& e : events) {
      if (e.kind != HarmonyEventKind::Anomaly && harmony::sanitize_utf8(e.text) != e.text)
        fuzz::property_failed("emitted text is not valid UTF-8");
      switch (e.kind) {
        case HarmonyEventKind::MessageStart:
          if (open_index != -1 || e.message_index != next_index) fuzz::property_failed("MessageStart out of order");
          open_index = next_index++;
          streamed.clear();
          break;
        case HarmonyEventKind::ContentDelta:
          if (e.message_index != open_index) fuzz::property_failed("ContentDelta outside its message");
          streamed += e.text;
          break;
        case HarmonyEventKind::MessageEnd:
          if (e.message_index != open_index) fuzz::property_failed("MessageEnd of a message not open");
          if (e.text != streamed) fuzz::property_failed("deltas do not add up to the message");
          ended.push_back(e.text);
          open_index = -1;
          break;
        case HarmonyEventKind::Anomaly:
          break;
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte says whether the prompt already opened an assistant message.
  harmony::HarmonyStreamParser parser(fuzz::o200k(), data[0] % 2 ? "assistant" : "");
  Checker checker;
  const auto never_throws = [](auto&& call) {
    try {
      return call();
    } catch (...) {
      fuzz::property_failed("the parser threw");
    }
  };
  for (TokenId id : tokens_from(data + 1, size - 1)) checker.check(never_throws([&] { return parser.push(id); }));
  checker.check(never_throws([&] { return parser.finish(); }));
  if (parser.in_message() || checker.open_index != -1) fuzz::property_failed("a message is open after finish()");
  if (parser.messages().size() != checker.ended.size()) fuzz::property_failed("messages() disagrees with the MessageEnd events");
  for (std::size_t i = 0; i < checker.ended.size(); ++i)
    if (parser.messages()[i].content != checker.ended[i]) fuzz::property_failed("messages() content differs from MessageEnd");
  return 0;
}

// HarmonyStreamParser on scripted token streams: well-formed turns (from
// openai/harmony's parser tests), UTF-8 split across tokens, and malformed
// output, which must be recovered from and never throw.
#include <QtTest/QtTest>

#include <random>

#include "fake_tokenizer.h"
#include "harmony/special_tokens.h"
#include "harmony/stream_parser.h"
#include "harmony/utf8_assembler.h"

using namespace ossdesk;
using namespace ossdesk::harmony;
using ossdesk::test::FakeTokenizer;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";

// Everything one stream produced.
struct Run {
  std::vector<HarmonyEvent> events;
  std::vector<ChatMessage> messages;

  int count(HarmonyEventKind kind) const {
    return static_cast<int>(std::count_if(events.begin(), events.end(), [&](const HarmonyEvent& e) { return e.kind == kind; }));
  }
  bool has_anomaly(const std::string& part) const {
    for (const auto& e : events)
      if (e.kind == HarmonyEventKind::Anomaly && e.text.find(part) != std::string::npos) return true;
    return false;
  }
  // The events without anomalies, as text; consecutive deltas merged:
  // S[role|channel|recipient|content_type|constraint] D[text] E[stop|text]
  std::string transcript() const {
    std::string out;
    bool in_delta = false;
    for (const auto& e : events) {
      if (e.kind == HarmonyEventKind::Anomaly) continue;
      if (e.kind == HarmonyEventKind::ContentDelta) {
        if (!in_delta) out += " D[";
        out += e.text;
        in_delta = true;
        continue;
      }
      if (in_delta) out += "]";
      in_delta = false;
      const HarmonyHeader& h = e.header;
      if (e.kind == HarmonyEventKind::MessageStart)
        out += " S[" + h.role + (h.name.empty() ? "" : ":" + h.name) + "|" + h.channel + "|" + h.recipient + "|" +
               h.content_type + "|" + h.constraint + "]";
      else if (e.kind == HarmonyEventKind::MessageEnd)
        out += std::string(" E[") + to_string(e.stop) + "|" + e.text + "]";
    }
    if (in_delta) out += "]";
    return out.empty() ? out : out.substr(1);
  }
  std::string anomalies() const {
    std::string out;
    for (const auto& e : events)
      if (e.kind == HarmonyEventKind::Anomaly) out += e.text + "\n";
    return out;
  }
};

Run run(const FakeTokenizer& tok, const std::vector<TokenId>& ids, std::string open_role = "assistant",
        bool finish = true) {
  HarmonyStreamParser parser(tok, std::move(open_role));
  Run r;
  for (TokenId id : ids) {
    std::vector<HarmonyEvent> ev = parser.push(id);
    r.events.insert(r.events.end(), ev.begin(), ev.end());
  }
  if (finish) {
    std::vector<HarmonyEvent> ev = parser.finish();
    r.events.insert(r.events.end(), ev.begin(), ev.end());
  }
  r.messages = parser.messages();
  return r;
}

Run run(const FakeTokenizer& tok, std::string_view text, std::string open_role = "assistant", bool finish = true) {
  return run(tok, tok.ids(text), std::move(open_role), finish);
}

// Independent of the code under test: Qt's decoder replaces invalid UTF-8.
bool valid_utf8(const std::string& s) {
  return QString::fromUtf8(s.data(), qsizetype(s.size())).toUtf8() == QByteArray::fromStdString(s);
}

std::vector<TokenId> cat(std::initializer_list<std::vector<TokenId>> parts) {
  std::vector<TokenId> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

#define CHECK_TRANSCRIPT(r, want) \
  QVERIFY2((r).transcript() == std::string(want), ("got: " + (r).transcript() + "\nanomalies:\n" + (r).anomalies()).c_str())

}  // namespace

class TestHarmonyStreamParser : public QObject {
  Q_OBJECT

 private slots:
  void analysis_then_final_then_return() {
    FakeTokenizer tok;
    const Run r = run(tok,
                      "<|channel|>analysis<|message|>User asks 2+2.<|end|>"
                      "<|start|>assistant<|channel|>final<|message|>4<|return|>");
    CHECK_TRANSCRIPT(r, "S[assistant|analysis|||] D[User asks 2+2.] E[end|User asks 2+2.] "
                        "S[assistant|final|||] D[4] E[return|4]");
    QCOMPARE(r.count(HarmonyEventKind::Anomaly), 0);
    QCOMPARE(r.messages.size(), std::size_t(2));
    QCOMPARE(r.messages[1].role, std::string("assistant"));
    QCOMPARE(r.messages[1].channel, std::string("final"));
    QCOMPARE(r.messages[1].content, std::string("4"));
    // Message indices distinguish the two messages.
    QCOMPARE(r.events.front().message_index, 0);
    QCOMPARE(r.events.back().message_index, 1);
  }

  void tool_call_with_constrain() {
    FakeTokenizer tok;
    const Run r = run(tok,
                      "<|channel|>commentary to=functions.get_weather <|constrain|>json"
                      "<|message|>{\"location\":\"Tokyo\"}<|call|>");
    CHECK_TRANSCRIPT(r, "S[assistant|commentary|functions.get_weather|<|constrain|>json|json] "
                        "D[{\"location\":\"Tokyo\"}] E[call|{\"location\":\"Tokyo\"}]");
    QCOMPARE(r.count(HarmonyEventKind::Anomaly), 0);
    QCOMPARE(r.messages[0].recipient, std::string("functions.get_weather"));
    QCOMPARE(r.messages[0].content_type, std::string("<|constrain|>json"));
  }

  // harmony: test_tool_call_with_constrain_marker_adjacent and
  // test_tool_call_with_channel_before_recipient_and_constrain_adjacent.
  void tool_call_header_variants() {
    FakeTokenizer tok;
    Run r = run(tok,
                "<|start|>assistant to=functions.get_weather<|channel|>commentary<|constrain|>json"
                "<|message|>{\"location\": \"Tokyo\"}<|end|>",
                "");
    CHECK_TRANSCRIPT(r, "S[assistant|commentary|functions.get_weather|<|constrain|>json|json] "
                        "D[{\"location\": \"Tokyo\"}] E[end|{\"location\": \"Tokyo\"}]");
    r = run(tok,
            "<|start|>assistant<|channel|>commentary to=functions.get_weather<|constrain|>json"
            "<|message|>{\"latitude\":48.8566,\"longitude\":2.3522}<|call|>",
            "");
    CHECK_TRANSCRIPT(r, "S[assistant|commentary|functions.get_weather|<|constrain|>json|json] "
                        "D[{\"latitude\":48.8566,\"longitude\":2.3522}] "
                        "E[call|{\"latitude\":48.8566,\"longitude\":2.3522}]");
    // A plain content type (harmony's test_simple_tool_call): "code", no <|constrain|>.
    r = run(tok,
            "<|channel|>analysis<|message|>Use the tool.<|end|>"
            "<|start|>assistant to=lookup_weather<|channel|>analysis code<|message|>{\"location\": \"Tokyo\"}");
    CHECK_TRANSCRIPT(r, "S[assistant|analysis|||] D[Use the tool.] E[end|Use the tool.] "
                        "S[assistant|analysis|lookup_weather|code|code] D[{\"location\": \"Tokyo\"}] "
                        "E[truncated|{\"location\": \"Tokyo\"}]");
    QCOMPARE(r.count(HarmonyEventKind::Anomaly), 0);
  }

  // harmony: test_tool_response_parsing and test_streamable_parser.
  void tool_messages() {
    FakeTokenizer tok;
    Run r = run(tok, "<|start|>browser.search to=assistant<|channel|>commentary<|message|>{\"result\": 1}<|end|>", "");
    CHECK_TRANSCRIPT(r, "S[tool:browser.search|commentary|assistant||] D[{\"result\": 1}] E[end|{\"result\": 1}]");
    QCOMPARE(r.messages[0].role, std::string("tool"));
    QCOMPARE(r.messages[0].name, std::string("browser.search"));

    r = run(tok,
            "<|channel|>analysis<|message|>Let's browse.<|end|>"
            "<|start|>assistant<|channel|>commentary to=browser.search code<|message|>{\"query\": \"x\"}<|call|>"
            "<|start|>browser.search to=assistant<|channel|>commentary<|message|>{\"result\": \"y\"}<|end|>");
    QCOMPARE(r.messages.size(), std::size_t(3));
    QCOMPARE(r.count(HarmonyEventKind::Anomaly), 0);
    QCOMPARE(r.messages[1].recipient, std::string("browser.search"));
    QCOMPARE(r.messages[1].content_type, std::string("code"));
    QCOMPARE(r.messages[2].name, std::string("browser.search"));
  }

  void multibyte_character_split_across_tokens() {
    FakeTokenizer tok;
    const TokenId heart_a = tok.add_token("\xF0\x9F");  // 💖 = F0 9F 92 96
    const TokenId heart_b = tok.add_token("\x92\x96");
    const TokenId e_a = tok.add_token("a\xC3");          // é = C3 A9
    const TokenId e_b = tok.add_token("\xA9" "b");
    HarmonyStreamParser parser(tok);
    for (TokenId id : tok.ids("<|channel|>final<|message|>")) parser.push(id);
    QVERIFY(parser.push(heart_a).empty());  // nothing printable yet
    std::vector<HarmonyEvent> ev = parser.push(heart_b);
    QCOMPARE(ev.size(), std::size_t(1));
    QCOMPARE(ev[0].text, std::string("\xF0\x9F\x92\x96"));
    ev = parser.push(e_a);
    QCOMPARE(ev.size(), std::size_t(1));
    QCOMPARE(ev[0].text, std::string("a"));
    ev = parser.push(e_b);
    QCOMPARE(ev[0].text, std::string("\xC3\xA9" "b"));
    ev = parser.push(kReturnId);
    QCOMPARE(ev.back().kind, HarmonyEventKind::MessageEnd);
    QCOMPARE(ev.back().text, std::string("\xF0\x9F\x92\x96" "a\xC3\xA9" "b"));
  }

  // harmony: test_streamable_parser_does_not_leak_bytes_between_messages.
  void incomplete_bytes_do_not_leak_into_the_next_message() {
    FakeTokenizer tok;
    const TokenId partial = tok.add_token("\xE2\x80");
    const Run r = run(tok, cat({tok.ids("<|start|>assistant<|message|>"), {partial, partial},
                                tok.ids("<|end|><|start|>assistant<|message|>Hi<|end|>")}),
                      "");
    QCOMPARE(r.messages.size(), std::size_t(2));
    QCOMPARE(r.messages[0].content, kFffd + kFffd);
    QCOMPARE(r.messages[1].content, std::string("Hi"));
  }

  // harmony: test_streamable_parser_flushes_partial_bytes_on_eos.
  void partial_bytes_become_replacement_at_the_end() {
    FakeTokenizer tok;
    const TokenId partial = tok.add_token(" \xE2\x80");
    const Run r = run(tok, cat({tok.ids("<|start|>assistant<|message|>"), {partial}, tok.ids("Hi")}), "");
    CHECK_TRANSCRIPT(r, "S[assistant||||] D[ " + kFffd + "Hi] E[truncated| " + kFffd + "Hi]");
  }

  // harmony: test_parse_completion_with_invalid_content_token_errors_on_eos.
  void unknown_token_id_in_content() {
    FakeTokenizer tok;
    const Run r = run(tok, cat({tok.ids("<|channel|>analysis<|message|>Practice."), {123456789}, {500}, {-1}}));
    QCOMPARE(r.messages.size(), std::size_t(1));
    // 500 is inside the vocabulary range but unknown to the fake: the
    // tokenizer throws, the parser must not.
    QCOMPARE(r.messages[0].content, "Practice." + kFffd + kFffd + kFffd);
    QVERIFY(r.has_anomaly("123456789"));
  }

  // ---- malformed output ----

  void garbage_before_start() {
    FakeTokenizer tok;
    Run r = run(tok, "garbage<|start|>assistant<|channel|>final<|message|>Hi<|return|>");
    CHECK_TRANSCRIPT(r, "S[assistant|final|||] D[Hi] E[return|Hi]");
    QVERIFY(r.has_anomaly("garbage"));

    r = run(tok,
            "<|channel|>analysis<|message|>x<|end|>junk text"
            "<|start|>assistant<|channel|>final<|message|>ok<|return|>");
    CHECK_TRANSCRIPT(r, "S[assistant|analysis|||] D[x] E[end|x] S[assistant|final|||] D[ok] E[return|ok]");
    QVERIFY(r.has_anomaly("junk text"));

    // Whitespace between messages is not worth an anomaly.
    r = run(tok, "<|channel|>analysis<|message|>x<|end|>\n<|start|>assistant<|channel|>final<|message|>ok<|return|>");
    QCOMPARE(r.count(HarmonyEventKind::Anomaly), 0);
    QCOMPARE(r.messages.size(), std::size_t(2));
  }

  void missing_channel() {
    FakeTokenizer tok;
    // No channel is legal harmony: the runtime treats it as the answer.
    Run r = run(tok, "<|message|>Hello<|return|>");
    CHECK_TRANSCRIPT(r, "S[assistant||||] D[Hello] E[return|Hello]");
    QCOMPARE(r.count(HarmonyEventKind::Anomaly), 0);
    // A channel marker with no name is an anomaly, the message still comes through.
    r = run(tok, "<|channel|><|message|>Hello<|end|>");
    CHECK_TRANSCRIPT(r, "S[assistant||||] D[Hello] E[end|Hello]");
    QVERIFY(r.has_anomaly("without a channel name"));
  }

  void stream_ends_mid_message() {
    FakeTokenizer tok;
    Run r = run(tok, "<|channel|>final<|message|>The answ");
    CHECK_TRANSCRIPT(r, "S[assistant|final|||] D[The answ] E[truncated|The answ]");
    QCOMPARE(r.count(HarmonyEventKind::Anomaly), 0);
    // Without finish() the message stays open.
    r = run(tok, "<|channel|>final<|message|>The answ", "assistant", /*finish=*/false);
    QCOMPARE(r.count(HarmonyEventKind::MessageEnd), 0);
    QVERIFY(r.messages.empty());
    // Ending inside a header: whatever header there was becomes an empty message.
    r = run(tok, "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>fin");
    CHECK_TRANSCRIPT(r, "S[assistant|analysis|||] D[a] E[end|a] S[assistant|fin|||] E[truncated|]");
    QVERIFY(r.has_anomaly("inside a message header"));
    // Ending right after <|start|>: nothing to report.
    r = run(tok, "<|channel|>analysis<|message|>a<|end|><|start|>");
    QCOMPARE(r.messages.size(), std::size_t(1));
    QCOMPARE(r.count(HarmonyEventKind::Anomaly), 0);
  }

  void repeated_start() {
    FakeTokenizer tok;
    Run r = run(tok, "<|start|><|start|>assistant<|channel|>final<|message|>ok<|return|>");
    CHECK_TRANSCRIPT(r, "S[assistant|final|||] D[ok] E[return|ok]");
    QVERIFY(r.has_anomaly("repeated <|start|>"));
    // <|start|> where <|end|> was due: the open message closes as truncated.
    r = run(tok, "<|channel|>analysis<|message|>thinking<|start|>assistant<|channel|>final<|message|>ok<|return|>");
    CHECK_TRANSCRIPT(r, "S[assistant|analysis|||] D[thinking] E[truncated|thinking] "
                        "S[assistant|final|||] D[ok] E[return|ok]");
    QVERIFY(r.has_anomaly("without an end token"));
  }

  void message_token_with_no_header() {
    FakeTokenizer tok;
    Run r = run(tok, "<|channel|>analysis<|message|>a<|end|><|message|>b<|return|>");
    CHECK_TRANSCRIPT(r, "S[assistant|analysis|||] D[a] E[end|a] S[assistant||||] D[b] E[return|b]");
    QVERIFY(r.has_anomaly("without a header"));
    r = run(tok, "<|start|><|message|>x<|end|>", "");
    CHECK_TRANSCRIPT(r, "S[assistant||||] D[x] E[end|x]");
    QVERIFY(r.has_anomaly("no role"));
  }

  // harmony's non-strict test_missing_message_token_requires_non_strict_mode.
  void missing_message_token() {
    FakeTokenizer tok;
    Run r = run(tok, "<|channel|>commentary Hello<|end|>");
    CHECK_TRANSCRIPT(r, "S[assistant|commentary|||] D[Hello] E[end|Hello]");
    QVERIFY(r.has_anomaly("missing <|message|>"));
    // An end token right after the prompt's header: no message at all.
    r = run(tok, "<|return|>");
    QVERIFY(r.messages.empty());
    QVERIFY(r.has_anomaly("outside a message"));
  }

  void header_too_long_becomes_content() {
    FakeTokenizer tok;
    std::string words;
    for (int i = 0; i < 30; ++i) words += "word ";  // 150 byte tokens, no <|message|>
    const Run r = run(tok, words + "<|return|>");
    QCOMPARE(r.messages.size(), std::size_t(1));
    QCOMPARE(r.messages[0].content, words);
    QVERIFY(r.has_anomaly("longer than"));
    // The content streamed as soon as the header gave up, not at the end.
    int deltas_before_end = 0;
    for (const auto& e : r.events) deltas_before_end += e.kind == HarmonyEventKind::ContentDelta;
    QVERIFY(deltas_before_end > 50);
  }

  void missing_start_after_end() {
    FakeTokenizer tok;
    const Run r = run(tok, "<|channel|>analysis<|message|>a<|end|><|channel|>final<|message|>b<|return|>");
    CHECK_TRANSCRIPT(r, "S[assistant|analysis|||] D[a] E[end|a] S[assistant|final|||] D[b] E[return|b]");
    QVERIFY(r.has_anomaly("without <|start|>"));
  }

  void unexpected_special_tokens_are_dropped() {
    FakeTokenizer tok;
    const Run r = run(tok,
                      "<|channel|>final<|message|>a<|endoftext|>b<|reserved_200014|>c<|channel|>d<|constrain|>e"
                      "<|message|>f<|return|><|end|><|call|>");
    CHECK_TRANSCRIPT(r, "S[assistant|final|||] D[abcdef] E[return|abcdef]");
    QVERIFY(r.has_anomaly("<|endoftext|>"));
    QVERIFY(r.has_anomaly("<|reserved_200014|>"));
    QVERIFY(r.has_anomaly("stray <|channel|>"));
    QVERIFY(r.has_anomaly("stray <|message|>"));
    QVERIFY(r.has_anomaly("<|end|> outside a message"));
  }

  void invalid_utf8_in_header_is_sanitized() {
    FakeTokenizer tok;
    const TokenId bad = tok.add_token("\xFF");
    const Run r = run(tok, cat({tok.ids("<|channel|>fi"), {bad}, tok.ids("nal<|message|>x<|end|>")}));
    QCOMPARE(r.messages[0].channel, "fi" + kFffd + "nal");
  }

  // Parsers for other roles: a tool's own output parsed from <|start|>.
  void open_role_empty_expects_start() {
    FakeTokenizer tok;
    const Run r = run(tok, "<|start|>user<|message|>hi<|end|>", "");
    CHECK_TRANSCRIPT(r, "S[user||||] D[hi] E[end|hi]");
  }

  // Random streams of structural tokens, text, broken UTF-8 and unknown ids:
  // never a throw, deltas always whole characters, and every message's deltas
  // add up to the text its MessageEnd reports.
  void random_streams_hold_the_invariants() {
    FakeTokenizer tok;
    std::vector<TokenId> pool = {kStartId, kEndId, kMessageId, kChannelId, kReturnId, kCallId, kConstrainId,
                                 199999,   200014, 123456789,  -7,         600};
    for (const char* t : {"assistant", "analysis", "final", "commentary", " to=functions.f", "json", " ", "x",
                          "\xF0\x9F", "\x92\x96", "\xC3", "\xA9", "\xE2\x80", "\xFF", "\xED\xA0\x80", "user",
                          "tool", "to=", "\n"})
      pool.push_back(tok.add_token(t));
    std::mt19937 rng(12345);
    for (int iteration = 0; iteration < 3000; ++iteration) {
      HarmonyStreamParser parser(tok, iteration % 3 == 0 ? "" : "assistant");
      std::vector<HarmonyEvent> all;
      const int n = 1 + int(rng() % 80);
      for (int i = 0; i < n; ++i) {
        std::vector<HarmonyEvent> ev = parser.push(pool[rng() % pool.size()]);
        all.insert(all.end(), ev.begin(), ev.end());
      }
      std::vector<HarmonyEvent> ev = parser.finish();
      all.insert(all.end(), ev.begin(), ev.end());

      int open = -1, ends = 0;
      std::string content;
      for (const HarmonyEvent& e : all) {
        QVERIFY(valid_utf8(e.text));
        for (const std::string* f : {&e.header.role, &e.header.channel, &e.header.recipient, &e.header.content_type})
          QVERIFY(valid_utf8(*f));
        switch (e.kind) {
          case HarmonyEventKind::MessageStart:
            QCOMPARE(open, -1);
            open = e.message_index;
            QCOMPARE(open, ends);
            QVERIFY(!e.header.role.empty());
            content.clear();
            break;
          case HarmonyEventKind::ContentDelta:
            QCOMPARE(e.message_index, open);
            QVERIFY(!e.text.empty());
            content += e.text;
            break;
          case HarmonyEventKind::MessageEnd:
            QCOMPARE(e.message_index, open);
            QCOMPARE(e.text, content);
            open = -1;
            ++ends;
            break;
          case HarmonyEventKind::Anomaly:
            QVERIFY(!e.text.empty());
            break;
        }
      }
      QCOMPARE(open, -1);  // finish() closed everything
      QCOMPARE(int(parser.messages().size()), ends);
    }
  }

  void utf8_assembler_maximal_subparts() {
    Utf8Assembler a;
    QCOMPARE(a.push("\xF0\x9F"), std::string());
    QVERIFY(a.holding());
    QCOMPARE(a.push("\x92\x96"), std::string("\xF0\x9F\x92\x96"));
    QCOMPARE(a.push("a\xF0\x9F\x92"), std::string("a"));
    QCOMPARE(a.push("X"), kFffd + "X");  // one U+FFFD for the broken 3-byte prefix
    QCOMPARE(a.push("\xC3"), std::string());
    QCOMPARE(a.flush(), kFffd);
    QVERIFY(!a.holding());
    QCOMPARE(sanitize_utf8("\xE0\x80"), kFffd + kFffd);          // overlong lead
    QCOMPARE(sanitize_utf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // surrogate
    QCOMPARE(sanitize_utf8("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
    QCOMPARE(sanitize_utf8("\xE2\x82\xAC\xC0\xAF"), "\xE2\x82\xAC" + kFffd + kFffd);
    QCOMPARE(sanitize_utf8("ok \xF0\x90\x80"), "ok " + kFffd);
  }
};

QTEST_GUILESS_MAIN(TestHarmonyStreamParser)
#include "test_harmony_stream_parser.moc"

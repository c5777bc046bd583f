// Harmony rendering conformance: every conversation in tests/data/harmony
// (cases.json: openai/harmony's test-data; cases_from_harmony_tests.json:
// the cases of harmony's src/tests.rs and tests/test_harmony.py that our
// input format can express) must render byte for byte as harmony renders it.
#include <QtTest/QtTest>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harmony/conversation_json.h"
#include "harmony/renderer.h"
#include "ossdesk/error.h"

using namespace ossdesk;
using namespace ossdesk::harmony;

namespace {

const std::string kDataDir = std::string(OSSDESK_TEST_DATA_DIR) + "/harmony/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Harmony's tests trim trailing whitespace from their expected files
// (load_test_data / .rstrip()), so a file's final newline is not part of
// the expected text.
std::string rstrip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

// On mismatch, say where: the texts are long and differ by a byte or two.
QByteArray first_difference(const std::string& got, const std::string& want) {
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  auto around = [&](const std::string& s) { return QByteArray::fromStdString(s.substr(i < 40 ? 0 : i - 40, 100)); };
  return "first difference at byte " + QByteArray::number(qulonglong(i)) + "\n  got:  ..." + around(got) +
         "...\n  want: ..." + around(want) + "...";
}

void add_case_rows(const std::string& file) {
  const nlohmann::ordered_json cases = nlohmann::ordered_json::parse(read_file(kDataDir + file));
  QVERIFY2(cases.is_array() && !cases.empty(), (file + " has no cases").c_str());
  int n = 0;
  for (const auto& c : cases) {
    std::string expected;
    std::string name;
    if (c.contains("expected_text")) {
      expected = c.at("expected_text").get<std::string>();
      name = c.value("source", file + " #" + std::to_string(n));
    } else {
      name = c.at("expected").get<std::string>();
      expected = rstrip(read_file(kDataDir + name));
    }
    QTest::newRow((file + ": " + name).c_str())
        << QByteArray::fromStdString(c.at("input").dump()) << QByteArray::fromStdString(expected);
    ++n;
  }
}

}  // namespace

class TestHarmonyRender : public QObject {
  Q_OBJECT

 private slots:
  void conformance_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");
    add_case_rows("cases.json");
    add_case_rows("cases_from_harmony_tests.json");
  }

  void conformance() {
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    const Conversation c = conversation_from_json(input.toStdString());
    const std::string got = render_for_completion(c);
    const std::string want = expected.toStdString();
    QVERIFY2(got == want, first_difference(got, want).constData());
  }

  void reasoning_effort_words() {
    QCOMPARE(to_string(ReasoningEffort::Low), "low");
    QCOMPARE(to_string(ReasoningEffort::Medium), "medium");
    QCOMPARE(to_string(ReasoningEffort::High), "high");
    for (ReasoningEffort e : {ReasoningEffort::Low, ReasoningEffort::Medium, ReasoningEffort::High})
      QVERIFY(parse_reasoning_effort(to_string(e)) == e);
    QVERIFY(!parse_reasoning_effort("High"));
    QVERIFY(!parse_reasoning_effort(""));
    QVERIFY(!parse_reasoning_effort("max"));
  }

  // The system message as built from SystemSpec, field by field.
  void system_message_fields() {
    Conversation c;
    SystemSpec s;
    s.identity = "";
    s.knowledge_cutoff.reset();
    s.channels.clear();
    s.reasoning = ReasoningEffort::Low;
    c.system = s;
    QCOMPARE(render_for_completion(c), std::string("<|start|>system<|message|>Reasoning: low<|end|><|start|>assistant"));

    c.system->identity = "You are a test.";
    c.system->current_date = "2030-01-02";
    QCOMPARE(render_for_completion(c), std::string("<|start|>system<|message|>You are a test.\nCurrent date: 2030-01-02\n\n"
                                                   "Reasoning: low<|end|><|start|>assistant"));
  }

  // With function tools the system message tells the model where calls go;
  // without a system message there is nowhere to say it.
  void function_tools_line() {
    Conversation c;
    c.system = SystemSpec{};
    c.developer = DeveloperSpec{};
    const std::string line = "Calls to these tools must go to the commentary channel: 'functions'.";
    QVERIFY(render_for_completion(c).find(line) == std::string::npos);
    c.developer->tools.push_back({"ping", "Pings.", ""});
    const std::string text = render_for_completion(c);
    QVERIFY(text.find("# Valid channels: analysis, commentary, final. Channel must be included for every message.\n" +
                      line + "<|end|>") != std::string::npos);
    QVERIFY(text.find("<|start|>developer<|message|># Tools\n\n## functions\n\nnamespace functions {\n\n"
                      "// Pings.\ntype ping = () => any;\n\n} // namespace functions<|end|>") != std::string::npos);
  }

  // Multi-line tool descriptions become one comment line each (Rust
  // str::lines: no empty line for a trailing newline, "\r\n" as a break).
  void tool_description_lines() {
    Conversation c;
    c.system.reset();
    c.developer = DeveloperSpec{};
    c.developer->tools.push_back({"f", "first\r\nsecond\n\nfourth\n", ""});
    QCOMPARE(render_for_completion(c),
             std::string("<|start|>developer<|message|># Tools\n\n## functions\n\nnamespace functions {\n\n"
                         "// first\n// second\n// \n// fourth\ntype f = () => any;\n\n} // namespace functions"
                         "<|end|><|start|>assistant"));
  }

  void messages_in_history() {
    ChatMessage call{"assistant", "{\"q\":1}", "commentary", "functions.f", "<|constrain|>json", ""};
    QCOMPARE(render_message(call),
             std::string("<|start|>assistant to=functions.f<|channel|>commentary <|constrain|>json<|message|>{\"q\":1}<|call|>"));
    ChatMessage plain_type{"assistant", "x", "analysis", "python", "code", ""};
    QCOMPARE(render_message(plain_type),
             std::string("<|start|>assistant to=python<|channel|>analysis code<|message|>x<|call|>"));
    ChatMessage tool{"tool", "{\"t\":20}", "commentary", "assistant", "", "functions.f"};
    QCOMPARE(render_message(tool),
             std::string("<|start|>functions.f to=assistant<|channel|>commentary<|message|>{\"t\":20}<|end|>"));
    ChatMessage named_user{"user", "hi", "", "", "", "alice"};
    QCOMPARE(render_message(named_user), std::string("<|start|>user:alice<|message|>hi<|end|>"));
    // "all" is the implicit recipient: never written, but still a call.
    ChatMessage to_all{"assistant", "x", "", "all", "", ""};
    QCOMPARE(render_message(to_all), std::string("<|start|>assistant<|message|>x<|call|>"));
  }

  // harmony: render(msg) == render_conversation([msg]) and the completion
  // prompt starts with it (test_render_and_render_conversation_roundtrip).
  void message_and_conversation_agree() {
    Conversation c;
    c.system.reset();
    c.messages.push_back({"user", "Hello", "", "", "", ""});
    QCOMPARE(render_conversation(c), render_message(c.messages[0]));
    QCOMPARE(render_for_completion(c), render_message(c.messages[0]) + "<|start|>assistant");
  }

  // harmony drops analysis only before the first final message, and only
  // when the last assistant message is final.
  void drop_analysis_rules() {
    Conversation c;
    c.system.reset();
    c.messages = {{"user", "q1", "", "", "", ""},
                  {"assistant", "a1", "analysis", "", "", ""},
                  {"assistant", "f1", "final", "", "", ""},
                  {"user", "q2", "", "", "", ""},
                  {"assistant", "a2", "analysis", "", "", ""}};
    // Last assistant message is analysis (turn in progress): nothing dropped.
    QVERIFY(render_for_completion(c).find("a1") != std::string::npos);
    c.messages.push_back({"assistant", "f2", "final", "", "", ""});
    std::string text = render_for_completion(c);
    QVERIFY(text.find("a1") == std::string::npos);
    QVERIFY(text.find("a2") != std::string::npos);
    c.drop_analysis = false;
    QVERIFY(render_for_completion(c).find("a1") != std::string::npos);
  }

  void invalid_messages_throw() {
    Conversation c;
    c.messages.push_back({"robot", "x", "", "", "", ""});
    QVERIFY_THROWS_EXCEPTION(ossdesk::Error, render_for_completion(c));
    c.messages[0] = {"tool", "x", "", "", "", ""};
    QVERIFY_THROWS_EXCEPTION(ossdesk::Error, render_for_completion(c));
    c.messages.clear();
    c.developer = DeveloperSpec{"", {{"f", "", "{not json"}}};
    try {
      render_for_completion(c);
      QFAIL("bad parameters_json rendered");
    } catch (const ossdesk::Error& e) {
      QCOMPARE(e.kind(), ErrorKind::BadInput);
      QVERIFY(std::string(e.what()).find("tool 'f'") != std::string::npos);
    }
  }
};

QTEST_GUILESS_MAIN(TestHarmonyRender)
#include "test_harmony_render.moc"

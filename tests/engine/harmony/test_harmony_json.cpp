// The conversation JSON loader: defaults, every field, and a clear error
// naming the field for each kind of mistake.
#include <QtTest/QtTest>

#include "harmony/conversation_json.h"
#include "harmony/renderer.h"
#include "ossdesk/error.h"

using namespace ossdesk;
using namespace ossdesk::harmony;

namespace {

// The error message a bad document produces ("" when it loads).
std::string error_of(const std::string& json) {
  try {
    conversation_from_json(json);
  } catch (const ossdesk::Error& e) {
    if (e.kind() != ErrorKind::BadInput) return "wrong kind: " + std::string(e.what());
    return e.what();
  }
  return {};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A JSON Schema of `levels` objects nested through "items": arrays of arrays
// ... of strings, which harmony renders as "string[][]...".
std::string nested_array_schema(int levels) {
  std::string s;
  for (int i = 1; i < levels; ++i) s += "{\"type\":\"array\",\"items\":";
  s += "{\"type\":\"string\"}";
  return s + std::string(levels - 1, '}');
}

// A conversation whose one tool has that schema: the document nests 4 levels
// more (top, developer, tools, the tool) around it.
std::string conversation_with_schema(const std::string& schema) {
  return "{\"developer\": {\"tools\": [{\"name\": \"f\", \"parameters\": " + schema + "}]}, \"messages\": []}";
}

Conversation with_tool_parameters(const std::string& parameters_json) {
  Conversation c;
  c.developer = DeveloperSpec{};
  c.developer->tools.push_back(ToolSpec{"f", "", parameters_json});
  return c;
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

class TestHarmonyJson : public QObject {
  Q_OBJECT

 private slots:
  void defaults() {
    const Conversation c = conversation_from_json("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
    QVERIFY(c.system.has_value());  // left out: the default system message
    QVERIFY(c.system->reasoning == ReasoningEffort::Medium);
    QCOMPARE(c.system->identity, std::string("You are ChatGPT, a large language model trained by OpenAI."));
    QVERIFY(c.system->knowledge_cutoff == std::string("2024-06"));
    QVERIFY(!c.system->current_date);
    QCOMPARE(c.system->channels, (std::vector<std::string>{"analysis", "commentary", "final"}));
    QVERIFY(!c.developer);
    QVERIFY(c.drop_analysis);
    QCOMPARE(c.messages.size(), std::size_t(1));
  }

  void every_field() {
    const Conversation c = conversation_from_json("{"
      "\"system\": {\"reasoning\": \"high\", \"knowledge_cutoff\": null, \"date\": \"2025-01-02\","
                 "\"channels\": [\"analysis\", \"final\"], \"identity\": \"Bot.\"},"
      "\"developer\": {\"instructions\": \"Be brief.\","
                    "\"tools\": [{\"name\": \"f\", \"description\": \"d\", \"parameters\": {\"type\": \"object\", \"z\": 1, \"a\": 2}},"
                              "{\"name\": \"g\"}]},"
      "\"messages\": [{\"role\": \"assistant\", \"content\": \"{}\", \"channel\": \"commentary\","
                    "\"recipient\": \"functions.f\", \"content_type\": \"<|constrain|>json\"},"
                   "{\"role\": \"tool\", \"name\": \"functions.f\", \"content\": \"ok\"}],"
      "\"drop_analysis\": false}");
    QVERIFY(c.system->reasoning == ReasoningEffort::High);
    QVERIFY(!c.system->knowledge_cutoff);
    QVERIFY(c.system->current_date == std::string("2025-01-02"));
    QCOMPARE(c.system->channels, (std::vector<std::string>{"analysis", "final"}));
    QCOMPARE(c.system->identity, std::string("Bot."));
    QCOMPARE(c.developer->instructions, std::string("Be brief."));
    QCOMPARE(c.developer->tools.size(), std::size_t(2));
    // Key order is the schema's own: harmony renders properties in that order.
    QCOMPARE(c.developer->tools[0].parameters_json, std::string("{\"type\":\"object\",\"z\":1,\"a\":2}"));
    QVERIFY(c.developer->tools[1].parameters_json.empty());
    QVERIFY(c.developer->tools[1].description.empty());
    QCOMPARE(c.messages[0].recipient, std::string("functions.f"));
    QCOMPARE(c.messages[0].content_type, std::string("<|constrain|>json"));
    QCOMPARE(c.messages[1].name, std::string("functions.f"));
    QVERIFY(!c.drop_analysis);
  }

  void null_system_means_none() {
    const Conversation c = conversation_from_json("{\"system\": null, \"messages\": []}");
    QVERIFY(!c.system);
    QCOMPARE(render_for_completion(c), std::string("<|start|>assistant"));
  }

  void errors_name_the_field_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QByteArray>("mentions");
    QTest::newRow("not json") << QByteArray("{\"messages\": [") << QByteArray("not valid JSON");
    QTest::newRow("top not object") << QByteArray("[]") << QByteArray("top level: expected an object");
    QTest::newRow("unknown top field") << QByteArray("{\"mesages\": []}") << QByteArray("unknown field \"mesages\"");
    QTest::newRow("bad effort") << QByteArray("{\"system\": {\"reasoning\": \"max\"}}")
                                << QByteArray("system.reasoning: expected \"low\", \"medium\" or \"high\"");
    QTest::newRow("channels not array") << QByteArray("{\"system\": {\"channels\": \"final\"}}")
                                        << QByteArray("system.channels: expected an array");
    QTest::newRow("channel not string") << QByteArray("{\"system\": {\"channels\": [\"final\", 3]}}")
                                        << QByteArray("system.channels[1]: expected a string");
    QTest::newRow("messages not array") << QByteArray("{\"messages\": {}}") << QByteArray("messages: expected an array");
    QTest::newRow("bad role") << QByteArray("{\"messages\": [{\"role\": \"bot\", \"content\": \"x\"}]}")
                              << QByteArray("messages[0].role: expected one of");
    QTest::newRow("missing content") << QByteArray("{\"messages\": [{\"role\": \"user\"}]}")
                                     << QByteArray("messages[0]: missing \"content\"");
    QTest::newRow("content not string") << QByteArray("{\"messages\": [{\"role\": \"user\", \"content\": 5}]}")
                                        << QByteArray("messages[0].content: expected a string, got number");
    QTest::newRow("tool without name") << QByteArray("{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}")
                                       << QByteArray("messages[0].name");
    QTest::newRow("tool spec without name") << QByteArray("{\"developer\": {\"tools\": [{\"description\": \"d\"}]}}")
                                            << QByteArray("developer.tools[0]: missing \"name\"");
    QTest::newRow("unknown message field")
        << QByteArray("{\"messages\": [{\"role\": \"user\", \"content\": \"x\", \"chanel\": \"final\"}]}")
        << QByteArray("messages[0]: unknown field \"chanel\"");
    QTest::newRow("drop_analysis not bool") << QByteArray("{\"drop_analysis\": \"yes\"}")
                                            << QByteArray("drop_analysis: expected true or false");
  }

  void errors_name_the_field() {
    QFETCH(QByteArray, json);
    QFETCH(QByteArray, mentions);
    const std::string err = error_of(json.toStdString());
    QVERIFY2(!err.empty(), "document loaded without an error");
    QVERIFY2(contains(err, "conversation JSON: "), err.c_str());
    QVERIFY2(contains(err, mentions.toStdString()), err.c_str());
  }

  // copy, dump() and schema_to_typescript recurse once per level: a schema
  // nested 20000 deep crashed `render` with a stack overflow. serde_json,
  // which harmony reads JSON with, refuses a 128th level; so do we.
  void json_nested_deeper_than_127_levels_is_refused() {
    const Conversation ok = conversation_from_json(conversation_with_schema(nested_array_schema(123)));
    QVERIFY(contains(render_for_completion(ok), "(_: string" + repeat("[]", 122) + ") => any;"));

    for (int levels : {124, 20000, 200000}) {
      const std::string err = error_of(conversation_with_schema(nested_array_schema(levels)));
      QVERIFY2(contains(err, "conversation JSON: arrays and objects nested more than 127 levels deep"), err.c_str());
    }
    const std::string brackets = error_of("{\"messages\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
    QVERIFY2(contains(brackets, "nested more than 127 levels deep"), brackets.c_str());
  }

  // The same limit where a ToolSpec reaches the renderer without the
  // conversation JSON (the engine API).
  void tool_parameters_nested_deeper_than_127_levels_are_refused() {
    QVERIFY(contains(render_for_completion(with_tool_parameters(nested_array_schema(127))),
                     "(_: string" + repeat("[]", 126) + ") => any;"));
    for (int levels : {128, 20000}) {
      try {
        render_for_completion(with_tool_parameters(nested_array_schema(levels)));
        QFAIL("rendered a schema nested too deep");
      } catch (const ossdesk::Error& e) {
        QVERIFY(e.kind() == ErrorKind::BadInput);
        QVERIFY2(contains(e.what(), "tool 'f': parameters: arrays and objects nested more than 127 levels deep"), e.what());
      }
    }
  }
};

QTEST_GUILESS_MAIN(TestHarmonyJson)
#include "test_harmony_json.moc"

// JSON Schema -> TypeScript-like text: the rules harmony applies beyond the
// schemas its own tests cover (nested objects, arrays, oneOf at both levels,
// type unions, defaults of every JSON type), and serde_json's number format.
#include <QtTest/QtTest>

#include "harmony/schema_typescript.h"

using namespace ossdesk::harmony;

namespace {

std::string ts(const char* schema) { return schema_to_typescript(OrderedJson::parse(schema), ""); }

}  // namespace

class TestHarmonySchema : public QObject {
  Q_OBJECT

 private slots:
  void scalars_and_unions() {
    QCOMPARE(ts("{\"type\": \"string\"}"), std::string("string"));
    QCOMPARE(ts("{\"type\": \"integer\"}"), std::string("number"));
    QCOMPARE(ts("{\"type\": \"boolean\"}"), std::string("boolean"));
    QCOMPARE(ts("{\"type\": \"null\"}"), std::string("any"));
    QCOMPARE(ts("{}"), std::string("any"));
    QCOMPARE(ts("{\"enum\": [\"a\"]}"), std::string("any"));  // enum needs type string
    QCOMPARE(ts("{\"type\": \"string\", \"enum\": [\"a\", \"b\"]}"), std::string("\"a\" | \"b\""));
    QCOMPARE(ts("{\"type\": \"string\", \"enum\": [1, 2]}"), std::string("string"));
    QCOMPARE(ts("{\"type\": [\"integer\", \"string\", \"null\"]}"), std::string("number | string | null"));
    QCOMPARE(ts("{\"anyOf\": [{\"type\": \"string\"}]}"), std::string("any"));  // harmony ignores anyOf
  }

  void arrays() {
    QCOMPARE(ts("{\"type\": \"array\"}"), std::string("Array<any>"));
    QCOMPARE(ts("{\"type\": \"array\", \"items\": {\"type\": \"number\"}}"), std::string("number[]"));
    QCOMPARE(ts("{\"type\": \"array\", \"items\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}}"),
             std::string("string[][]"));
    QCOMPARE(ts("{\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\"}}}}"),
             std::string("{\na?: string,\n}[]"));
  }

  // Nested properties are indented four spaces; the nested object's
  // description is written both above the property and inside the type.
  void nested_objects() {
    QCOMPARE(ts("{\"type\": \"object\"}"), std::string("{\n}"));
    QCOMPARE(ts("{\"type\": \"object\", \"properties\": {\"loc\": {\"type\": \"object\", \"description\": \"where\","
                    "\"properties\": {\"lat\": {\"type\": \"number\"}}, \"required\": [\"lat\"]}}}"),
             std::string("{\n// where\nloc?:     // where\n{\n    lat: number,\n    },\n}"));
  }

  void defaults_of_every_type() {
    QCOMPARE(ts("{\"type\": \"object\", \"properties\": {"
                    "\"n\": {\"type\": \"number\", \"default\": 0.5},"
                    "\"i\": {\"type\": \"integer\", \"default\": -3},"
                    "\"b\": {\"type\": \"boolean\", \"default\": false},"
                    "\"z\": {\"type\": \"string\", \"default\": null},"
                    "\"s\": {\"type\": \"string\", \"default\": \"a \\\"q\\\"\"},"
                    "\"e\": {\"type\": \"string\", \"enum\": [\"x\", \"y\"], \"default\": \"y\"},"
                    "\"o\": {\"type\": \"object\", \"default\": {\"k\": [1, 2.0]}}}}"),
             std::string("{\n"
                         "n?: number, // default: 0.5\n"
                         "i?: number, // default: -3\n"
                         "b?: boolean, // default: false\n"
                         "z?: string, // default: null\n"
                         "s?: string, // default: \"a \"q\"\"\n"
                         "e?: \"x\" | \"y\", // default: y\n"
                         "o?: {\n    }, // default: {\"k\":[1,2.0]}\n"
                         "}"));
  }

  void nullable() {
    QCOMPARE(ts("{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\", \"nullable\": true},"
                    "\"b\": {\"type\": [\"string\", \"null\"], \"nullable\": true}}}"),
             std::string("{\na?: string | null,\nb?: string | null,\n}"));
  }

  void one_of_at_top_level() {
    // Variant defaults that are enum strings print as JSON here, unlike elsewhere.
    QCOMPARE(ts("{\"oneOf\": [{\"type\": \"string\", \"enum\": [\"x\"], \"default\": \"x\", \"description\": \"d\"},"
                              "{\"type\": \"number\", \"nullable\": true}]}"),
             std::string("\n | \"x\" // d default: \"x\"\n | number | null"));
  }

  void one_of_property() {
    // The property's description is skipped when the first variant repeats it.
    QCOMPARE(ts("{\"type\": \"object\", \"required\": [\"v\"], \"properties\": {\"v\": {\"description\": \"same\","
                    "\"oneOf\": [{\"type\": \"string\", \"description\": \"same\"},"
                              "{\"type\": \"number\", \"description\": \"other\", \"nullable\": true}]}}}"),
             std::string("{\nv:\n | string\n | number | null // other\n,\n}"));
    // Otherwise it goes above, and the first variant's own description is dropped.
    QCOMPARE(ts("{\"type\": \"object\", \"properties\": {\"v\": {\"description\": \"prop\", \"default\": \"k\","
                    "\"oneOf\": [{\"type\": \"string\", \"description\": \"first\"},"
                              "{\"type\": \"string\", \"enum\": [\"p\"], \"default\": \"p\"}]}}}"),
             std::string("{\n// prop\n// default: \"k\"\nv?:\n | string\n | \"p\" // default: p\n,\n}"));
  }

  void titles_and_examples() {
    QCOMPARE(ts("{\"type\": \"object\", \"properties\": {\"q\": {\"type\": \"string\", \"title\": \"Q\","
                    "\"examples\": [\"a\", 1, \"b\"]}}}"),
             std::string("{\n// Q\n//\n// Examples:\n// - \"a\"\n// - \"b\"\nq?: string,\n}"));
  }

  // serde_json prints floats with ryu: shortest digits, plain decimals for
  // 1e-5 <= |v| < 1e16 (with ".0" for whole numbers), exponents otherwise.
  void serde_json_numbers() {
    auto text = [](const char* json) { return serde_json_text(OrderedJson::parse(json)); };
    QCOMPARE(text("0.5"), std::string("0.5"));
    QCOMPARE(text("1.0"), std::string("1.0"));
    QCOMPARE(text("-2.5"), std::string("-2.5"));
    QCOMPARE(text("-0.0"), std::string("-0.0"));
    QCOMPARE(text("123.456"), std::string("123.456"));
    QCOMPARE(text("1e15"), std::string("1000000000000000.0"));
    QCOMPARE(text("1e16"), std::string("1e16"));
    QCOMPARE(text("1.5e20"), std::string("1.5e20"));
    QCOMPARE(text("0.00001"), std::string("0.00001"));
    QCOMPARE(text("0.000001"), std::string("1e-6"));
    QCOMPARE(text("1.5e-7"), std::string("1.5e-7"));
    QCOMPARE(text("12345678901234567890"), std::string("12345678901234567890"));
    QCOMPARE(text("{\"b\": [true, null, \"\\n\"], \"a\": 1}"), std::string("{\"b\":[true,null,\"\\n\"],\"a\":1}"));
  }
};

QTEST_GUILESS_MAIN(TestHarmonySchema)
#include "test_harmony_schema.moc"

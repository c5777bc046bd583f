// JSON Schema -> TypeScript-like text, following openai/harmony's
// json_schema_to_typescript rule by rule (see schema_typescript.h).
#include "harmony/schema_typescript.h"

#include <charconv>
#include <cstdlib>
#include <set>
#include <vector>

namespace ossdesk::harmony {
namespace {

// Harmony looks members up with serde_json's `get`, which yields nothing on a
// non-object; mirroring that keeps odd schemas (arrays, strings) from throwing.
const OrderedJson* member(const OrderedJson& value, const char* key) {
  if (!value.is_object()) return nullptr;
  auto it = value.find(key);
  return it == value.end() ? nullptr : &*it;
}

const std::string* string_member(const OrderedJson& value, const char* key) {
  const OrderedJson* m = member(value, key);
  return m && m->is_string() ? m->get_ptr<const std::string*>() : nullptr;
}

const OrderedJson* array_member(const OrderedJson& value, const char* key) {
  const OrderedJson* m = member(value, key);
  return m && m->is_array() ? m : nullptr;
}

bool is_enum(const OrderedJson& schema) {
  const OrderedJson* e = array_member(schema, "enum");
  return e && !e->empty();
}

bool is_nullable(const OrderedJson& schema) {
  const OrderedJson* n = member(schema, "nullable");
  return n && n->is_boolean() && n->get<bool>();
}

// " | null" is added for `nullable: true` unless the type already says null.
std::string with_nullable(std::string type_text, const OrderedJson& schema) {
  if (is_nullable(schema) && type_text.find("null") == std::string::npos) type_text += " | null";
  return type_text;
}

// Harmony writes a string default in quotes, except for enums where it writes
// the bare word; one of its code paths (variants of a top-level oneOf) prints
// enum string defaults as JSON instead, hence `json_for_enum_strings`.
std::string default_comment(const OrderedJson& value, const OrderedJson& schema,
                            bool json_for_enum_strings) {
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (!is_enum(schema)) return "default: \"" + s + "\"";
    if (!json_for_enum_strings) return "default: " + s;
  }
  return "default: " + serde_json_text(value);
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string one_of_at_top(const OrderedJson& variants, const std::string& indent) {
  std::string out;
  for (const OrderedJson& variant : variants) {
    out += "\n" + indent + " | ";
    out += with_nullable(schema_to_typescript(variant, indent + "   "), variant);
    std::vector<std::string> comments;
    if (const std::string* d = string_member(variant, "description")) comments.push_back(*d);
    if (const OrderedJson* def = member(variant, "default"))
      comments.push_back(default_comment(*def, variant, /*json_for_enum_strings=*/true));
    if (!comments.empty()) out += " // " + join(comments, " ");
  }
  return out;
}

// A property whose schema is a oneOf: comments above the name, then one
// `| type` line per variant and a lone `,` line.
void one_of_property(std::string& out, const std::string& key, bool required,
                     const OrderedJson& property, const OrderedJson& variants,
                     const std::string& indent) {
  const std::string* property_desc = string_member(property, "description");
  bool skip_desc = false;
  if (property_desc && !variants.empty()) {
    const std::string* first_desc = string_member(variants.front(), "description");
    skip_desc = first_desc && *first_desc == *property_desc;
  }
  bool desc_above = false;
  if (!skip_desc && property_desc) {
    out += indent + "// " + *property_desc + "\n";
    desc_above = true;
  }
  if (const OrderedJson* def = member(property, "default"))
    out += indent + "// " + default_comment(*def, property, false) + "\n";
  out += indent + key + (required ? "" : "?") + ":\n";
  std::size_t i = 0;
  for (const OrderedJson& variant : variants) {
    out += indent + " | ";
    out += with_nullable(schema_to_typescript(variant, indent + "   "), variant);
    std::vector<std::string> comments;
    // The first variant's description is dropped when the property's was
    // written above; any variant repeating the property's description too.
    if (!(i == 0 && desc_above)) {
      const std::string* d = string_member(variant, "description");
      if (d && !(property_desc && *d == *property_desc)) comments.push_back(*d);
    }
    if (const OrderedJson* def = member(variant, "default"))
      comments.push_back(default_comment(*def, variant, false));
    if (!comments.empty()) out += " // " + join(comments, " ");
    out += "\n";
    ++i;
  }
  out += indent + ",\n";
}

std::string object_type(const OrderedJson& schema, const std::string& indent) {
  std::string out;
  if (const std::string* d = string_member(schema, "description")) out += indent + "// " + *d + "\n";
  out += "{\n";
  const OrderedJson* props = member(schema, "properties");
  if (props && props->is_object()) {
    std::set<std::string> required;
    if (const OrderedJson* req = array_member(schema, "required"))
      for (const OrderedJson& r : *req)
        if (r.is_string()) required.insert(r.get<std::string>());
    for (auto it = props->begin(); it != props->end(); ++it) {
      const std::string& key = it.key();
      const OrderedJson& val = it.value();
      const bool is_required = required.count(key) > 0;
      const bool has_one_of = member(val, "oneOf") != nullptr;
      if (const std::string* t = string_member(val, "title"))
        out += indent + "// " + *t + "\n" + indent + "//\n";
      if (!has_one_of)
        if (const std::string* d = string_member(val, "description")) out += indent + "// " + *d + "\n";
      if (const OrderedJson* ex = array_member(val, "examples"); ex && !ex->empty()) {
        out += indent + "// Examples:\n";
        for (const OrderedJson& e : *ex)
          if (e.is_string()) out += indent + "// - \"" + e.get<std::string>() + "\"\n";
      }
      if (const OrderedJson* variants = array_member(val, "oneOf")) {
        one_of_property(out, key, is_required, val, *variants, indent);
        continue;
      }
      out += indent + key + (is_required ? "" : "?") + ": ";
      out += with_nullable(schema_to_typescript(val, indent + "    "), val);
      out += ",";
      if (!has_one_of)
        if (const OrderedJson* def = member(val, "default")) out += " // " + default_comment(*def, val, false);
      out += "\n";
    }
  }
  out += indent + "}";
  return out;
}

// ryu (what serde_json prints floats with): shortest round-trip digits, laid
// out as plain decimals for 1e-5 < |v| < 1e16 and as `1.5e20` otherwise.
std::string ryu_float_text(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // e.g. "-1.25e+03"
  std::string sign;
  if (!sci.empty() && sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const std::size_t e = sci.find('e');
  std::string digits;
  for (std::size_t i = 0; i < e; ++i)
    if (sci[i] != '.') digits += sci[i];
  const int exp10 = std::atoi(sci.c_str() + e + 1);
  if (digits == "0") return sign + "0.0";
  const int length = static_cast<int>(digits.size());
  const int k = exp10 - (length - 1);  // value = digits * 10^k
  const int kk = length + k;            // 10^(kk-1) <= value < 10^kk
  std::string out = sign;
  if (k >= 0 && kk <= 16) {
    out += digits + std::string(static_cast<std::size_t>(k), '0') + ".0";
  } else if (kk > 0 && kk <= 16) {
    out += digits.substr(0, static_cast<std::size_t>(kk)) + "." + digits.substr(static_cast<std::size_t>(kk));
  } else if (kk > -5 && kk <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-kk), '0') + digits;
  } else if (length == 1) {
    out += digits + "e" + std::to_string(kk - 1);
  } else {
    out += digits.substr(0, 1) + "." + digits.substr(1) + "e" + std::to_string(kk - 1);
  }
  return out;
}

}  // namespace

std::string serde_json_text(const OrderedJson& value) {
  switch (value.type()) {
    case OrderedJson::value_t::number_float:
      return ryu_float_text(value.get<double>());
    case OrderedJson::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) out += ",";
        first = false;
        out += serde_json_text(OrderedJson(it.key())) + ":" + serde_json_text(it.value());
      }
      return out + "}";
    }
    case OrderedJson::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (const OrderedJson& v : value) {
        if (!first) out += ",";
        first = false;
        out += serde_json_text(v);
      }
      return out + "]";
    }
    default:
      // Strings, integers, booleans and null print the same in both
      // libraries (same escapes, UTF-8 kept as is).
      return value.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
  }
}

std::string schema_to_typescript(const OrderedJson& schema, const std::string& indent) {
  if (const OrderedJson* variants = array_member(schema, "oneOf")) return one_of_at_top(*variants, indent);

  const OrderedJson* type = member(schema, "type");
  if (type && type->is_array()) {
    std::vector<std::string> names;
    for (const OrderedJson& t : *type)
      if (t.is_string()) names.push_back(t.get<std::string>() == "integer" ? "number" : t.get<std::string>());
    if (!names.empty()) return join(names, " | ");
  }
  if (!type || !type->is_string()) return "any";

  const std::string& name = type->get_ref<const std::string&>();
  if (name == "object") return object_type(schema, indent);
  if (name == "string") {
    if (const OrderedJson* values = array_member(schema, "enum")) {
      std::vector<std::string> literals;
      for (const OrderedJson& v : *values)
        if (v.is_string()) literals.push_back("\"" + v.get<std::string>() + "\"");
      if (!literals.empty()) return join(literals, " | ");
    }
    return "string";
  }
  if (name == "number" || name == "integer") return "number";
  if (name == "boolean") return "boolean";
  if (name == "array") {
    if (const OrderedJson* items = member(schema, "items")) return schema_to_typescript(*items, indent) + "[]";
    return "Array<any>";
  }
  return "any";
}

}  // namespace ossdesk::harmony

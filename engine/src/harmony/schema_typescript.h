// JSON Schema -> the TypeScript-like type text harmony puts in the developer
// message's `namespace functions { ... }` block.
//
// The output must match openai/harmony byte for byte (the model was trained on
// it), so this follows harmony's rules exactly, quirks included: property
// descriptions become `//` comments above the property, optional properties
// get `?`, string enums become unions of string literals, defaults become a
// trailing `// default: ...` comment, `oneOf` becomes a `|`-prefixed list, and
// nested objects indent their properties by four spaces but are not
// re-indented otherwise. `anyOf`, `allOf` and `$ref` are not understood by
// harmony and render as whatever the rest of the schema says (often `any`).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ossdesk::harmony {

// Object key order matters (harmony keeps the order the schema was written
// in), hence ordered_json everywhere a schema is held.
using OrderedJson = nlohmann::ordered_json;

// `indent` prefixes the lines of object properties; harmony starts at "".
std::string schema_to_typescript(const OrderedJson& schema, const std::string& indent);

// Compact JSON text of a value exactly as Rust's serde_json prints it
// (`{"a":1}`, floats in ryu's shortest form such as `0.5`, `1e20`, `1.0`):
// used for `// default: ...` comments so they match harmony's.
std::string serde_json_text(const OrderedJson& value);

}  // namespace ossdesk::harmony

// Reads the conversation JSON format into a Conversation, validating every
// field and reporting the first problem with its path.
#include "harmony/conversation_json.h"

#include <initializer_list>

#include <nlohmann/json.hpp>

#include "ossdesk/error.h"
#include "util/json_input.h"

namespace ossdesk::harmony {
namespace {

// Ordered so a tool's parameter schema keeps its property order, which
// harmony's rendering preserves.
using Json = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  fail_input("conversation JSON: " + path + ": " + what);
}

std::string type_name(const Json& v) { return v.type_name(); }

void require_object(const Json& v, const std::string& path, std::initializer_list<const char*> allowed) {
  if (!v.is_object()) bad(path, std::string("expected an object, got ") + type_name(v));
  for (auto it = v.begin(); it != v.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || it.key() == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      bad(path, "unknown field \"" + it.key() + "\" (expected " + list + ")");
    }
  }
}

const Json* find(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string string_at(const Json& v, const std::string& path) {
  if (!v.is_string()) bad(path, std::string("expected a string, got ") + type_name(v));
  return v.get<std::string>();
}

// Optional string fields: absent or null read as empty.
std::string optional_string(const Json& obj, const char* key, const std::string& path) {
  const Json* v = find(obj, key);
  if (!v || v->is_null()) return {};
  return string_at(*v, path + "." + key);
}

SystemSpec read_system(const Json& j) {
  const std::string path = "system";
  require_object(j, path, {"reasoning", "knowledge_cutoff", "date", "channels", "identity"});
  SystemSpec s;
  if (const Json* r = find(j, "reasoning")) {
    const std::string word = string_at(*r, path + ".reasoning");
    std::optional<ReasoningEffort> effort = parse_reasoning_effort(word);
    if (!effort) bad(path + ".reasoning", "expected \"low\", \"medium\" or \"high\", got \"" + word + "\"");
    s.reasoning = *effort;
  }
  if (const Json* k = find(j, "knowledge_cutoff")) {
    if (k->is_null())
      s.knowledge_cutoff.reset();
    else
      s.knowledge_cutoff = string_at(*k, path + ".knowledge_cutoff");
  }
  if (const Json* d = find(j, "date"); d && !d->is_null()) s.current_date = string_at(*d, path + ".date");
  if (const Json* c = find(j, "channels")) {
    if (!c->is_array()) bad(path + ".channels", std::string("expected an array of strings, got ") + type_name(*c));
    s.channels.clear();
    for (std::size_t i = 0; i < c->size(); ++i)
      s.channels.push_back(string_at((*c)[i], path + ".channels[" + std::to_string(i) + "]"));
  }
  if (const Json* id = find(j, "identity")) s.identity = id->is_null() ? std::string() : string_at(*id, path + ".identity");
  return s;
}

ToolSpec read_tool(const Json& j, const std::string& path) {
  require_object(j, path, {"name", "description", "parameters"});
  ToolSpec t;
  const Json* name = find(j, "name");
  if (!name) bad(path, "missing \"name\"");
  t.name = string_at(*name, path + ".name");
  if (t.name.empty()) bad(path + ".name", "must not be empty");
  t.description = optional_string(j, "description", path);
  // Kept as text in the caller's key order; the renderer parses it again.
  if (const Json* p = find(j, "parameters"); p && !p->is_null()) t.parameters_json = p->dump();
  return t;
}

DeveloperSpec read_developer(const Json& j) {
  const std::string path = "developer";
  require_object(j, path, {"instructions", "tools"});
  DeveloperSpec d;
  d.instructions = optional_string(j, "instructions", path);
  if (const Json* tools = find(j, "tools"); tools && !tools->is_null()) {
    if (!tools->is_array()) bad(path + ".tools", std::string("expected an array, got ") + type_name(*tools));
    for (std::size_t i = 0; i < tools->size(); ++i)
      d.tools.push_back(read_tool((*tools)[i], path + ".tools[" + std::to_string(i) + "]"));
  }
  return d;
}

ChatMessage read_message(const Json& j, const std::string& path) {
  require_object(j, path, {"role", "content", "channel", "recipient", "content_type", "name"});
  ChatMessage m;
  const Json* role = find(j, "role");
  if (!role) bad(path, "missing \"role\"");
  m.role = string_at(*role, path + ".role");
  if (m.role != "user" && m.role != "assistant" && m.role != "tool" && m.role != "developer" && m.role != "system")
    bad(path + ".role", "expected one of user, assistant, tool, developer, system, got \"" + m.role + "\"");
  const Json* content = find(j, "content");
  if (!content) bad(path, "missing \"content\"");
  m.content = string_at(*content, path + ".content");
  m.channel = optional_string(j, "channel", path);
  m.recipient = optional_string(j, "recipient", path);
  m.content_type = optional_string(j, "content_type", path);
  m.name = optional_string(j, "name", path);
  if (m.role == "tool" && m.name.empty())
    bad(path + ".name", "a tool message needs the tool's name, e.g. \"functions.get_weather\"");
  return m;
}

}  // namespace

Conversation conversation_from_json(const std::string& json_text) {
  const Json root = parse_json_input<Json>(json_text, "conversation JSON");
  require_object(root, "top level", {"system", "developer", "messages", "drop_analysis"});

  Conversation c;
  c.system = SystemSpec{};
  if (const Json* s = find(root, "system")) {
    if (s->is_null())
      c.system.reset();
    else
      c.system = read_system(*s);
  }
  if (const Json* d = find(root, "developer"); d && !d->is_null()) c.developer = read_developer(*d);
  if (const Json* msgs = find(root, "messages")) {
    if (!msgs->is_array()) bad("messages", std::string("expected an array, got ") + type_name(*msgs));
    for (std::size_t i = 0; i < msgs->size(); ++i)
      c.messages.push_back(read_message((*msgs)[i], "messages[" + std::to_string(i) + "]"));
  }
  if (const Json* drop = find(root, "drop_analysis")) {
    if (!drop->is_boolean()) bad("drop_analysis", std::string("expected true or false, got ") + type_name(*drop));
    c.drop_analysis = drop->get<bool>();
  }
  return c;
}

}  // namespace ossdesk::harmony

// Internal: the JSON shape of conversations and messages in exports (see export_format.h).
#include "export_format.h"

#include "internal.h"
#include "sqlite_util.h"
#include "text_util.h"

namespace ossdesk::storage::detail {
namespace {

Json opt(const std::optional<std::int64_t>& v) { return v ? Json(*v) : Json(nullptr); }
Json opt(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

// Typed field access with messages that say where the problem is.
class Reader {
 public:
  Reader(const Json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) bad_import(where_, "expected an object");
  }
  const std::string& where() const { return where_; }
  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }

  std::string text(const char* key, const std::string& fallback = {}) const {
    if (!has(key)) return fallback;
    try {
      return text_from_json(j_.at(key));
    } catch (const std::exception&) {
      bad_import(where_ + "." + key, "expected text");
    }
  }
  std::int64_t integer(const char* key, std::int64_t fallback = 0) const {
    return opt_integer(key).value_or(fallback);
  }
  std::optional<std::int64_t> opt_integer(const char* key) const {
    if (!has(key)) return std::nullopt;
    const Json& v = j_.at(key);
    if (!v.is_number_integer()) bad_import(where_ + "." + key, "expected an integer");
    return v.get<std::int64_t>();
  }
  std::optional<double> opt_number(const char* key) const {
    if (!has(key)) return std::nullopt;
    const Json& v = j_.at(key);
    if (!v.is_number()) bad_import(where_ + "." + key, "expected a number");
    return v.get<double>();
  }
  bool boolean(const char* key, bool fallback = false) const {
    if (!has(key)) return fallback;
    const Json& v = j_.at(key);
    if (!v.is_boolean()) bad_import(where_ + "." + key, "expected true or false");
    return v.get<bool>();
  }
  const Json* child(const char* key) const { return has(key) ? &j_.at(key) : nullptr; }

 private:
  const Json& j_;
  std::string where_;
};

std::string effort(const Reader& r, const char* key, const std::string& fallback) {
  std::string e = r.text(key, fallback);
  if (!e.empty() && !is_reasoning_effort(e))
    bad_import(r.where() + "." + key, "unknown reasoning effort '" + e + "'");
  return e;
}

}  // namespace

void bad_import(const std::string& where, const std::string& what) {
  throw StorageError(StorageErrorKind::BadImport, where + ": " + what);
}

Json conversation_to_json(const ConversationRecord& c) {
  const SamplingSettings& s = c.settings.sampling;
  return Json{
      {"title", text_to_json(c.title)},
      {"created_ms", c.created_ms},
      {"updated_ms", c.updated_ms},
      {"pinned", c.pinned},
      {"settings",
       {{"model", text_to_json(c.settings.model)},
        {"reasoning_effort", c.settings.reasoning_effort},
        {"system_prompt", text_to_json(c.settings.system_prompt)},
        {"sampling",
         {{"temperature", opt(s.temperature)},
          {"top_p", opt(s.top_p)},
          {"top_k", opt(s.top_k)},
          {"min_p", opt(s.min_p)},
          {"max_tokens", opt(s.max_tokens)},
          {"seed", opt(s.seed)}}}}},
  };
}

Json message_to_json(const MessageRecord& m, bool with_text) {
  Json j{{"role", to_string(m.role)}};
  if (with_text) {
    j["content"] = text_to_json(m.content);
    j["reasoning"] = text_to_json(m.reasoning);
  }
  Json calls = Json::array();
  for (const ToolCall& c : m.tool_calls)
    calls.push_back({{"id", text_to_json(c.id)}, {"name", text_to_json(c.name)}, {"arguments", text_to_json(c.arguments)}});
  j["tool_calls"] = std::move(calls);
  j["tool_call_id"] = text_to_json(m.tool_call_id);
  j["tool_name"] = text_to_json(m.tool_name);
  j["status"] = to_string(m.status);
  j["interrupted"] = m.interrupted;
  j["error"] = text_to_json(m.error);
  j["created_ms"] = m.created_ms;
  j["updated_ms"] = m.updated_ms;
  j["stats"] = Json{{"model", text_to_json(m.stats.model)},
                    {"backend", text_to_json(m.stats.backend)},
                    {"device", text_to_json(m.stats.device)},
                    {"reasoning_effort", m.stats.reasoning_effort},
                    {"prompt_tokens", opt(m.stats.prompt_tokens)},
                    {"generated_tokens", opt(m.stats.generated_tokens)},
                    {"ttft_ms", opt(m.stats.ttft_ms)},
                    {"decode_tokens_per_s", opt(m.stats.decode_tokens_per_s)},
                    {"thinking_ms", opt(m.stats.thinking_ms)}};
  return j;
}

ConversationRecord conversation_from_json(const Json& j, const std::string& where) {
  const Reader r(j, where);
  ConversationRecord c;
  c.title = r.text("title");
  c.created_ms = r.integer("created_ms", now_ms());
  c.updated_ms = r.integer("updated_ms", c.created_ms);
  c.pinned = r.boolean("pinned");
  if (const Json* settings = r.child("settings")) {
    const Reader s(*settings, where + ".settings");
    c.settings.model = s.text("model");
    c.settings.reasoning_effort = effort(s, "reasoning_effort", "medium");
    if (c.settings.reasoning_effort.empty()) bad_import(where + ".settings.reasoning_effort", "must not be empty");
    c.settings.system_prompt = s.text("system_prompt");
    if (const Json* sampling = s.child("sampling")) {
      const Reader p(*sampling, where + ".settings.sampling");
      c.settings.sampling.temperature = p.opt_number("temperature");
      c.settings.sampling.top_p = p.opt_number("top_p");
      c.settings.sampling.top_k = p.opt_integer("top_k");
      c.settings.sampling.min_p = p.opt_number("min_p");
      c.settings.sampling.max_tokens = p.opt_integer("max_tokens");
      c.settings.sampling.seed = p.opt_integer("seed");
    }
  }
  return c;
}

MessageRecord message_from_json(const Json& j, const std::string& where, bool with_text) {
  const Reader r(j, where);
  MessageRecord m;
  const std::string role = r.text("role");
  const auto parsed_role = parse_role(role);
  if (!parsed_role) bad_import(where + ".role", "unknown role '" + role + "'");
  m.role = *parsed_role;
  if (with_text) {
    m.content = r.text("content");
    m.reasoning = r.text("reasoning");
  }
  if (const Json* calls = r.child("tool_calls")) {
    if (!calls->is_array()) bad_import(where + ".tool_calls", "expected an array");
    for (std::size_t i = 0; i < calls->size(); ++i) {
      const Reader c((*calls)[i], where + ".tool_calls[" + std::to_string(i) + "]");
      m.tool_calls.push_back(ToolCall{c.text("id"), c.text("name"), c.text("arguments")});
    }
  }
  m.tool_call_id = r.text("tool_call_id");
  m.tool_name = r.text("tool_name");
  const std::string status = r.text("status", "complete");
  const auto parsed_status = parse_message_status(status);
  if (!parsed_status) bad_import(where + ".status", "unknown status '" + status + "'");
  m.status = *parsed_status;
  m.interrupted = r.boolean("interrupted");
  m.error = r.text("error");
  m.created_ms = r.integer("created_ms", now_ms());
  m.updated_ms = r.integer("updated_ms", m.created_ms);
  if (const Json* stats = r.child("stats")) {
    const Reader s(*stats, where + ".stats");
    m.stats.model = s.text("model");
    m.stats.backend = s.text("backend");
    m.stats.device = s.text("device");
    m.stats.reasoning_effort = effort(s, "reasoning_effort", "");
    m.stats.prompt_tokens = s.opt_integer("prompt_tokens");
    m.stats.generated_tokens = s.opt_integer("generated_tokens");
    m.stats.ttft_ms = s.opt_number("ttft_ms");
    m.stats.decode_tokens_per_s = s.opt_number("decode_tokens_per_s");
    m.stats.thinking_ms = s.opt_number("thinking_ms");
  }
  return m;
}

RowId insert_imported_conversation(Database& db, const ConversationRecord& c) {
  const SamplingSettings& s = c.settings.sampling;
  Statement st(db,
               "INSERT INTO conversations (title, created_ms, updated_ms, pinned, model, reasoning_effort, "
               "system_prompt, temperature, top_p, top_k, min_p, max_tokens, seed) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               "importing a conversation");
  st.bind(1, c.title)
      .bind(2, c.created_ms)
      .bind(3, c.updated_ms)
      .bind(4, c.pinned)
      .bind(5, c.settings.model)
      .bind(6, c.settings.reasoning_effort)
      .bind(7, c.settings.system_prompt)
      .bind(8, s.temperature)
      .bind(9, s.top_p)
      .bind(10, s.top_k)
      .bind(11, s.min_p)
      .bind(12, s.max_tokens)
      .bind(13, s.seed)
      .run();
  return sqlite3_last_insert_rowid(db.handle());
}

RowId insert_imported_message(Database& db, RowId conversation_id, std::optional<RowId> parent_id,
                              const MessageRecord& m) {
  Statement st(db,
               "INSERT INTO messages (conversation_id, parent_id, role, content, reasoning, tool_calls, tool_call_id, "
               "tool_name, status, interrupted, error, created_ms, updated_ms, model, backend, device, "
               "reasoning_effort, prompt_tokens, generated_tokens, ttft_ms, decode_tokens_per_s, thinking_ms) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               "importing a message");
  st.bind(1, conversation_id).bind(2, parent_id);
  st.bind(3, to_string(m.role))
      .bind(4, m.content)
      .bind(5, m.reasoning)
      .bind(6, tool_calls_to_column(m.tool_calls))
      .bind(7, m.tool_call_id)
      .bind(8, m.tool_name)
      .bind(9, to_string(m.status))
      .bind(10, m.interrupted)
      .bind(11, m.error)
      .bind(12, m.created_ms)
      .bind(13, m.updated_ms);
  bind_message_stats(st, 14, m.stats).run();
  return sqlite3_last_insert_rowid(db.handle());
}

void set_imported_leaf(Database& db, RowId conversation_id, std::optional<RowId> leaf) {
  Statement st(db, "UPDATE conversations SET current_leaf_id = ? WHERE id = ?", "importing a conversation");
  st.bind(1, leaf).bind(2, conversation_id).run();
}

}  // namespace ossdesk::storage::detail

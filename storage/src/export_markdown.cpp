// Readable Markdown export and its import (see export.h).
//
// Layout of one conversation (the visible thread only):
//
//   # Title
//
//   <!-- ossdesk:conversation {...} -->
//   *Model: … · Reasoning: … · Created: …*
//
//   <!-- ossdesk:message {...} -->
//   ### Assistant
//
//   <!-- ossdesk:reasoning -->
//   <details>
//   <summary>Reasoning</summary>
//
//   …reasoning…
//
//   </details>
//
//   <!-- ossdesk:content -->
//   …answer…
//
//   <!-- ossdesk:end -->
//
// Markdown viewers hide the comments; import reads them (JSON with '<' and '>'
// escaped so a value can never close the comment) and takes text only from
// the reasoning/content sections, so headings and notes are free-form. A text
// line that itself starts with "<!-- ossdesk:" gets one extra leading
// backslash on export and loses one on import.
#include <ctime>

#include "export_format.h"
#include "internal.h"
#include "ossdesk/storage/conversations.h"
#include "ossdesk/storage/export.h"
#include "ossdesk/storage/messages.h"
#include "sqlite_util.h"
#include "text_util.h"

namespace ossdesk::storage {
using detail::Json;

namespace {

constexpr std::string_view kMarker = "<!-- ossdesk:";
constexpr std::string_view kReasoningOpen = "<details>\n<summary>Reasoning</summary>\n\n";
constexpr std::string_view kReasoningClose = "\n\n</details>\n\n";
constexpr std::string_view kSectionEnd = "\n\n";

std::string comment_json(const Json& j) {
  std::string out;
  for (char c : j.dump()) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else out += c;
  }
  return out;
}

// Applies f to every line (without its '\n') and joins the results.
template <typename F>
std::string map_lines(std::string_view text, F f) {
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t nl = text.find('\n', pos);
    out += f(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    if (nl == std::string_view::npos) break;
    out += '\n';
    pos = nl + 1;
  }
  return out;
}

bool is_escaped_marker_line(std::string_view line) {
  const std::size_t slashes = line.find_first_not_of('\\');
  return slashes != std::string_view::npos && line.substr(slashes).substr(0, kMarker.size()) == kMarker;
}

std::string escape_text(std::string_view text) {
  return map_lines(text, [](std::string_view line) {
    std::string out;
    if (is_escaped_marker_line(line)) out += '\\';
    out += line;
    return out;
  });
}

std::string unescape_text(std::string_view text) {
  return map_lines(text, [](std::string_view line) {
    return !line.empty() && line[0] == '\\' && is_escaped_marker_line(line) ? std::string(line.substr(1))
                                                                            : std::string(line);
  });
}

std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

std::string utc_time(std::int64_t ms) { return detail::format_utc(ms / 1000, "%Y-%m-%d %H:%M UTC"); }

std::string role_heading(const MessageRecord& m) {
  switch (m.role) {
    case Role::User: return "User";
    case Role::Assistant: return "Assistant";
    case Role::System: return "System";
    case Role::Developer: return "Developer";
    case Role::Tool: return m.tool_name.empty() ? "Tool" : "Tool · " + one_line(m.tool_name);
  }
  return "Message";
}

std::string status_note(const MessageRecord& m) {
  switch (m.status) {
    case MessageStatus::Complete: return "";
    case MessageStatus::Partial: return m.interrupted ? " (interrupted)" : " (still being written)";
    case MessageStatus::Cancelled: return " (stopped)";
    case MessageStatus::Error: return " (error: " + one_line(m.error) + ")";
  }
  return "";
}

void write_conversation(Database& db, RowId id, std::string& out) {
  const ConversationRecord c = get_conversation(db, id);
  out += "# " + (c.title.empty() ? std::string("Untitled conversation") : one_line(c.title)) + "\n\n";
  out += std::string(kMarker) + "conversation " + comment_json(detail::conversation_to_json(c)) + " -->\n";
  out += "*";
  if (!c.settings.model.empty()) out += "Model: " + one_line(c.settings.model) + " · ";
  out += "Reasoning: " + c.settings.reasoning_effort + " · Created: " + utc_time(c.created_ms) + "*\n\n";
  if (!c.settings.system_prompt.empty())
    out += map_lines("**System prompt:** " + c.settings.system_prompt,
                     [](std::string_view line) { return "> " + std::string(line); }) +
           "\n\n";

  for (const MessageRecord& m : visible_thread(db, id)) {
    out += std::string(kMarker) + "message " + comment_json(detail::message_to_json(m, false)) + " -->\n";
    const Siblings alternatives = siblings(db, m.id);
    out += "### " + role_heading(m) + status_note(m);
    if (alternatives.ids.size() > 1)
      out += " · version " + std::to_string(alternatives.index + 1) + " of " + std::to_string(alternatives.ids.size());
    out += "\n\n";
    if (!m.reasoning.empty()) {
      out += std::string(kMarker) + "reasoning -->\n";
      out += std::string(kReasoningOpen) + escape_text(m.reasoning) + std::string(kReasoningClose);
    }
    out += std::string(kMarker) + "content -->\n" + escape_text(m.content) + std::string(kSectionEnd);
    if (!m.tool_calls.empty()) {
      out += std::string(kMarker) + "tool-calls -->\n";
      for (const ToolCall& call : m.tool_calls)
        out += "**Tool call** `" + one_line(call.name) + "`\n\n```json\n" + call.arguments + "\n```\n\n";
    }
  }
  out += std::string(kMarker) + "end -->\n";
}

struct Marker {
  std::string kind;
  std::string payload;
  std::size_t line_begin = 0;
  std::size_t body_begin = 0;
};

std::vector<Marker> find_markers(std::string_view text) {
  std::vector<Marker> markers;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    constexpr std::string_view close = " -->";
    if (line.substr(0, kMarker.size()) == kMarker && line.size() >= kMarker.size() + close.size() &&
        line.substr(line.size() - close.size()) == close) {
      const std::string_view inner = line.substr(kMarker.size(), line.size() - kMarker.size() - close.size());
      const std::size_t space = inner.find(' ');
      Marker m;
      m.kind = std::string(inner.substr(0, space));
      m.payload = space == std::string_view::npos ? std::string() : std::string(inner.substr(space + 1));
      m.line_begin = pos;
      m.body_begin = nl < text.size() ? nl + 1 : nl;
      markers.push_back(std::move(m));
    }
    pos = nl + 1;
  }
  return markers;
}

std::string_view strip(std::string_view body, std::string_view prefix, std::string_view suffix) {
  if (body.substr(0, prefix.size()) == prefix) body.remove_prefix(prefix.size());
  if (body.size() >= suffix.size() && body.substr(body.size() - suffix.size()) == suffix)
    body.remove_suffix(suffix.size());
  return body;
}

Json parse_payload(const Marker& m, const std::string& where) {
  try {
    return Json::parse(m.payload);
  } catch (const std::exception&) {
    detail::bad_import(where, "the ossdesk:" + m.kind + " comment does not hold valid JSON");
  }
}

}  // namespace

std::string export_markdown(Database& db, std::optional<RowId> conversation_id) {
  std::vector<RowId> ids;
  if (conversation_id) {
    ids.push_back(*conversation_id);
  } else {
    detail::Statement st(db, "SELECT id FROM conversations ORDER BY id", "listing conversations");
    while (st.step()) ids.push_back(st.int64(0));
  }
  std::string out;
  detail::Transaction tx(db, "exporting conversations", detail::Transaction::Mode::Read);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += "\n---\n\n";
    write_conversation(db, ids[i], out);
  }
  tx.commit();
  return out;
}

std::vector<RowId> import_markdown(Database& db, std::string_view text) {
  std::vector<RowId> imported;
  try {
    const std::vector<Marker> markers = find_markers(text);
    detail::Transaction tx(db, "importing conversations");
    std::optional<RowId> conversation;
    std::optional<RowId> previous;      // last message inserted in this conversation
    std::optional<MessageRecord> pending;  // message whose sections are still being read
    std::string where;

    const auto flush_message = [&] {
      if (!pending) return;
      previous = detail::insert_imported_message(db, *conversation, previous, *pending);
      pending.reset();
    };
    const auto close_conversation = [&] {
      if (!conversation) return;
      flush_message();
      detail::set_imported_leaf(db, *conversation, previous);
      conversation.reset();
    };

    for (std::size_t i = 0; i < markers.size(); ++i) {
      const Marker& m = markers[i];
      const std::size_t body_end = i + 1 < markers.size() ? markers[i + 1].line_begin : text.size();
      const std::string_view body = text.substr(m.body_begin, body_end - m.body_begin);
      if (m.kind == "conversation") {
        close_conversation();
        where = "conversation " + std::to_string(imported.size() + 1);
        const ConversationRecord c = detail::conversation_from_json(parse_payload(m, where), where);
        conversation = detail::insert_imported_conversation(db, c);
        imported.push_back(*conversation);
        previous.reset();
      } else if (m.kind == "end") {
        close_conversation();
      } else if (!conversation) {
        detail::bad_import("marker ossdesk:" + m.kind, "appears outside a conversation");
      } else if (m.kind == "message") {
        flush_message();
        pending = detail::message_from_json(parse_payload(m, where + " message"), where + " message", false);
      } else if (!pending) {
        detail::bad_import(where, "section ossdesk:" + m.kind + " appears before any message");
      } else if (m.kind == "reasoning") {
        pending->reasoning = unescape_text(strip(body, kReasoningOpen, kReasoningClose));
      } else if (m.kind == "content") {
        pending->content = unescape_text(strip(body, "", kSectionEnd));
      } else if (m.kind != "tool-calls") {  // tool calls are restored from the message comment
        detail::bad_import(where, "unknown section ossdesk:" + m.kind);
      }
    }
    close_conversation();
    if (imported.empty())
      detail::bad_import("the file", "no ossdesk conversation markers found (only Markdown exported by ossdesk can be imported)");
    tx.commit();
  } catch (const StorageError& e) {
    if (e.kind() != StorageErrorKind::BadImport) throw;
    throw StorageError(StorageErrorKind::BadImport,
                       detail::where(db) + "import failed at " + e.what() + "; nothing was imported");
  }
  return imported;
}

}  // namespace ossdesk::storage

// Message and conversation layout, following openai/harmony's
// render_conversation_for_completion.
#include "harmony/render_pieces.h"

#include <map>
#include <optional>

#include "harmony/special_tokens.h"
#include "harmony/system_content.h"
#include "ossdesk/error.h"

namespace ossdesk::harmony {
namespace {

bool known_role(const std::string& role) {
  return role == "user" || role == "assistant" || role == "system" || role == "developer" || role == "tool";
}

void special(std::vector<RenderPiece>& out, std::string_view token) { out.push_back({true, std::string(token)}); }
void text(std::vector<RenderPiece>& out, std::string s) { out.push_back({false, std::move(s)}); }

// Harmony's auto_drop_analysis, as it is written (not as its comment reads):
// only when the last assistant message is on `final`, and then only analysis
// messages *before the first* final message are dropped. Its own test
// (test_keep_analysis_between_finals) pins this, so we keep it.
std::vector<bool> dropped_messages(const Conversation& conversation) {
  const auto& messages = conversation.messages;
  std::vector<bool> drop(messages.size(), false);
  if (!conversation.drop_analysis) return drop;

  bool last_assistant_is_final = false;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == "assistant") {
      last_assistant_is_final = it->channel == "final";
      break;
    }
  }
  if (!last_assistant_is_final) return drop;

  std::optional<std::size_t> first_final;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].channel == "final") {
      first_final = i;
      break;
    }
  }
  if (!first_final) return drop;
  for (std::size_t i = 0; i < *first_final; ++i) drop[i] = messages[i].channel == "analysis";
  return drop;
}

}  // namespace

void append_message_pieces(const ChatMessage& message, std::vector<RenderPiece>& out) {
  if (!known_role(message.role))
    fail_input("harmony: unknown message role '" + message.role +
               "' (expected user, assistant, system, developer or tool)");
  special(out, kStart);
  if (message.role == "tool") {
    // A tool message's header is its author name alone, e.g. "functions.get_weather".
    if (message.name.empty()) fail_input("harmony: a tool message needs a name (e.g. functions.get_weather)");
    text(out, message.name);
  } else {
    text(out, message.role);
    if (!message.name.empty()) text(out, ":" + message.name);
  }
  // "all" is harmony's implicit broadcast recipient and is never written.
  if (!message.recipient.empty() && message.recipient != "all") text(out, " to=" + message.recipient);
  if (!message.channel.empty()) {
    special(out, kChannel);
    text(out, message.channel);
  }
  if (!message.content_type.empty()) {
    // "<|constrain|>json" keeps <|constrain|> a formatting token: space as
    // text, the token, then the format name as text.
    std::string_view ct = message.content_type;
    if (ct.substr(0, kConstrain.size()) == kConstrain) {
      text(out, " ");
      special(out, kConstrain);
      if (ct.size() > kConstrain.size()) text(out, std::string(ct.substr(kConstrain.size())));
    } else {
      text(out, " " + message.content_type);
    }
  }
  special(out, kMessage);
  text(out, message.content);
  // An assistant message addressed to someone is a tool call; in history it
  // keeps the <|call|> the model stopped on.
  special(out, message.role == "assistant" && !message.recipient.empty() ? kCall : kEnd);
}

std::vector<RenderPiece> conversation_pieces(const Conversation& conversation, bool for_completion) {
  std::vector<RenderPiece> out;
  const bool has_function_tools = conversation.developer && !conversation.developer->tools.empty();
  if (conversation.system) {
    ChatMessage system;
    system.role = "system";
    system.content = system_message_text(*conversation.system, has_function_tools);
    append_message_pieces(system, out);
  }
  if (conversation.developer) {
    ChatMessage developer;
    developer.role = "developer";
    developer.content = developer_message_text(*conversation.developer);
    append_message_pieces(developer, out);
  }
  const std::vector<bool> drop = dropped_messages(conversation);
  for (std::size_t i = 0; i < conversation.messages.size(); ++i)
    if (!drop[i]) append_message_pieces(conversation.messages[i], out);
  if (for_completion) {
    special(out, kStart);
    text(out, "assistant");
  }
  return out;
}

std::string pieces_text(const std::vector<RenderPiece>& pieces) {
  std::string out;
  for (const RenderPiece& p : pieces) out += p.text;
  return out;
}

std::vector<TokenId> pieces_tokens(const std::vector<RenderPiece>& pieces, const Tokenizer& tokenizer) {
  std::vector<TokenId> out;
  std::map<std::string, TokenId, std::less<>> special_ids;
  for (const RenderPiece& p : pieces) {
    if (p.special) {
      auto it = special_ids.find(p.text);
      if (it == special_ids.end()) {
        std::optional<TokenId> id = tokenizer.special_id(p.text);
        if (!id) fail(ErrorKind::Unsupported, "harmony: the tokenizer has no " + p.text + " token");
        it = special_ids.emplace(p.text, *id).first;
      }
      out.push_back(it->second);
    } else if (!p.text.empty()) {
      std::vector<TokenId> ids = tokenizer.encode(p.text, /*allow_special=*/false);
      out.insert(out.end(), ids.begin(), ids.end());
    }
  }
  return out;
}

}  // namespace ossdesk::harmony

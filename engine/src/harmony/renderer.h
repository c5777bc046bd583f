// Conversation -> prompt, exactly as openai/harmony's
// render_conversation_for_completion(conversation, Role::Assistant) renders it.
//
// The text form is for display, the CLI's `render` and conformance tests; the
// token form is what the runtime prefills. Both come from one layout
// (render_pieces.h) so they always agree.
#pragma once

#include <string>
#include <vector>

#include "ossdesk/chat.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk::harmony {

// The whole prompt, ending with "<|start|>assistant". Throws ossdesk::Error
// (BadInput) for an unknown role, a tool message without a name, or a tool
// whose parameters_json is not JSON.
std::string render_for_completion(const Conversation& conversation);

// The same prompt as token ids: formatting tokens as their special ids, all
// other text (including message content that looks like "<|end|>") encoded
// as ordinary text. Throws as above, and Error (Unsupported) when the
// tokenizer lacks a harmony formatting token.
std::vector<TokenId> render_tokens(const Conversation& conversation, const Tokenizer& tokenizer);

// The conversation without the trailing "<|start|>assistant" (harmony's
// render_conversation): the history as it will appear in the next prompt.
std::string render_conversation(const Conversation& conversation);
std::vector<TokenId> render_conversation_tokens(const Conversation& conversation, const Tokenizer& tokenizer);

// One message, "<|start|>...<|end|>" (or "...<|call|>" for an assistant tool call).
std::string render_message(const ChatMessage& message);
std::vector<TokenId> render_message_tokens(const ChatMessage& message, const Tokenizer& tokenizer);

}  // namespace ossdesk::harmony

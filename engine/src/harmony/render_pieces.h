// A rendered conversation as a sequence of pieces: formatting tokens
// (<|start|>, <|channel|>, ...) and runs of ordinary text.
//
// Harmony tokenizes each text run on its own (role, " to=...", channel name,
// content), never across a formatting token and never merged with its
// neighbours; keeping the runs separate here lets the text renderer and the
// token renderer share one layout and still produce harmony's exact ids.
#pragma once

#include <string>
#include <vector>

#include "ossdesk/chat.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk::harmony {

struct RenderPiece {
  bool special = false;  // text is a formatting token's text, e.g. "<|start|>"
  std::string text;
};

// One message, <|start|> through <|end|> (or <|call|> for an assistant
// message with a recipient). Throws ossdesk::Error (BadInput) for an unknown
// role or a tool message without a name.
void append_message_pieces(const ChatMessage& message, std::vector<RenderPiece>& out);

// System message, developer message, then the messages (earlier analysis
// dropped when the conversation asks for it); `for_completion` appends
// "<|start|>assistant".
std::vector<RenderPiece> conversation_pieces(const Conversation& conversation, bool for_completion);

std::string pieces_text(const std::vector<RenderPiece>& pieces);

// Formatting tokens become their special ids, text is encoded as ordinary
// text (special-looking text typed by a user stays ordinary tokens). Throws
// ossdesk::Error (Unsupported) when the tokenizer lacks a formatting token.
std::vector<TokenId> pieces_tokens(const std::vector<RenderPiece>& pieces, const Tokenizer& tokenizer);

}  // namespace ossdesk::harmony

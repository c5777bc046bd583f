// The public rendering entry points: thin wrappers choosing the text or the
// token form of the shared layout.
#include "harmony/renderer.h"

#include "harmony/render_pieces.h"

namespace ossdesk::harmony {

std::string render_for_completion(const Conversation& conversation) {
  return pieces_text(conversation_pieces(conversation, /*for_completion=*/true));
}

std::vector<TokenId> render_tokens(const Conversation& conversation, const Tokenizer& tokenizer) {
  return pieces_tokens(conversation_pieces(conversation, /*for_completion=*/true), tokenizer);
}

std::string render_conversation(const Conversation& conversation) {
  return pieces_text(conversation_pieces(conversation, /*for_completion=*/false));
}

std::vector<TokenId> render_conversation_tokens(const Conversation& conversation, const Tokenizer& tokenizer) {
  return pieces_tokens(conversation_pieces(conversation, /*for_completion=*/false), tokenizer);
}

std::string render_message(const ChatMessage& message) {
  std::vector<RenderPiece> pieces;
  append_message_pieces(message, pieces);
  return pieces_text(pieces);
}

std::vector<TokenId> render_message_tokens(const ChatMessage& message, const Tokenizer& tokenizer) {
  std::vector<RenderPiece> pieces;
  append_message_pieces(message, pieces);
  return pieces_tokens(pieces, tokenizer);
}

}  // namespace ossdesk::harmony

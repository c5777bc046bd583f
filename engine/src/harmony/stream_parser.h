// Generated token ids -> harmony message events, one token at a time.
//
// Feed the model's output after the prompt's "<|start|>assistant". A turn
// looks like
//   <|channel|>analysis<|message|>...<|end|>
//   <|start|>assistant<|channel|>final<|message|>...<|return|>
// or ends in a tool call
//   <|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json<|message|>{...}<|call|>
//
// Each push() returns the events that token caused:
//   MessageStart  header parsed (role, channel, recipient, content type)
//   ContentDelta  new text of the open message; always whole UTF-8 characters
//   MessageEnd    the message closed: `stop` says how, `text` is its whole content
//   Anomaly       the output broke the format; `text` says how and what was done
//
// Mapping for the runtime: ContentDelta on "analysis" -> reasoning delta; on
// "final" (or no channel) -> final delta; MessageEnd with stop Call and a
// recipient -> tool call (recipient, text = arguments, header.constraint);
// MessageEnd with stop Return -> the answer is complete. The parser reports
// structure only: stopping generation on <|return|>/<|call|> is the
// runtime's decision, by token id.
//
// Malformed output never throws; the choices (each also reported as an Anomaly):
//  - text or <|channel|> where <|start|> was expected starts a message without
//    it (role assistant); text later abandoned by a real <|start|> is dropped;
//  - <|start|> inside a header discards that header; inside content it closes
//    the open message with stop Truncated (the model forgot <|end|>);
//  - an end token before <|message|>, or a header longer than
//    kMaxHeaderTokens, turns the header into a message: role and channel are
//    kept, the rest of the header text is content;
//  - <|message|> with no header opens an assistant message with no channel;
//  - other special tokens (a stray <|channel|> in content, <|endoftext|>,
//    reserved ids) are dropped, never shown as text ("<|reserved_200014|>"
//    would mean nothing to a user);
//  - an id the tokenizer does not know becomes U+FFFD in content (as in
//    harmony) and is dropped from a header;
//  - finish() closes an open message with stop Truncated.
#pragma once

#include <string>
#include <vector>

#include "harmony/header_parser.h"
#include "harmony/utf8_assembler.h"
#include "ossdesk/chat.h"
#include "tokenizer/tokenizer.h"

namespace ossdesk::harmony {

enum class HarmonyEventKind { MessageStart, ContentDelta, MessageEnd, Anomaly };

enum class HarmonyStop {
  End,        // <|end|>: more messages may follow in this turn
  Return,     // <|return|>: the turn is complete
  Call,       // <|call|>: a tool call; the caller runs the tool and continues
  Truncated,  // closed without an end token (finish(), or an interrupting <|start|>)
};

struct HarmonyEvent {
  HarmonyEventKind kind = HarmonyEventKind::Anomaly;
  int message_index = -1;  // 0, 1, ... for the messages of this stream; -1: anomaly outside a message
  HarmonyHeader header;    // the message's header (empty for an anomaly outside a message)
  std::string text;        // ContentDelta: new text; MessageEnd: whole content; Anomaly: description
  HarmonyStop stop = HarmonyStop::End;  // MessageEnd only
};

const char* to_string(HarmonyEventKind kind);
const char* to_string(HarmonyStop stop);

class HarmonyStreamParser {
 public:
  // A header this long without <|message|> is taken to be content: real
  // headers are a handful of tokens, and a model that skipped its header
  // should not have its whole answer held back.
  static constexpr int kMaxHeaderTokens = 64;

  // `open_role`: the role the prompt already opened ("<|start|>assistant"),
  // so the first tokens are that message's header. Empty: expect <|start|>.
  // The tokenizer must outlive the parser.
  explicit HarmonyStreamParser(const Tokenizer& tokenizer, std::string open_role = "assistant");

  std::vector<HarmonyEvent> push(TokenId id);
  // End of generation (stop token, length limit, cancel): closes whatever is open.
  std::vector<HarmonyEvent> finish();

  // Messages closed so far, ready to append to the Conversation for the next turn.
  const std::vector<ChatMessage>& messages() const { return messages_; }
  bool in_message() const { return state_ == State::Content; }

 private:
  enum class State { ExpectStart, Header, Content };
  enum class TokenClass { Start, Message, End, Return, Call, Channel, Constrain, OtherSpecial, Text, Invalid };

  TokenClass classify(TokenId id, std::string& bytes) const;
  void on_start(std::vector<HarmonyEvent>& out);
  void on_message(std::vector<HarmonyEvent>& out);
  void on_stop(HarmonyStop stop, std::vector<HarmonyEvent>& out);
  void on_header_bytes(const std::string& bytes, std::vector<HarmonyEvent>& out);
  void on_content_bytes(const std::string& bytes, std::vector<HarmonyEvent>& out);

  void begin_header(std::string role, bool implicit);
  void header_to_content(const std::string& why, std::vector<HarmonyEvent>& out);
  void open_message(HarmonyHeader header, std::vector<HarmonyEvent>& out);
  void emit_text(std::string text, std::vector<HarmonyEvent>& out);
  void close_message(HarmonyStop stop, std::vector<HarmonyEvent>& out);
  void anomaly(std::string what, std::vector<HarmonyEvent>& out);
  void note_implicit_start(std::vector<HarmonyEvent>& out);

  const Tokenizer& tokenizer_;
  TokenId start_id_, end_id_, message_id_, channel_id_, return_id_, call_id_, constrain_id_;

  State state_ = State::ExpectStart;
  std::string header_role_;      // role given before the header text; empty: the header names it
  std::string header_text_;      // raw bytes of the header so far (markers as their text)
  int header_tokens_ = 0;
  bool implicit_header_ = false;  // header began without <|start|>

  HarmonyHeader current_;
  std::string content_;
  Utf8Assembler utf8_;
  int message_count_ = 0;
  std::vector<ChatMessage> messages_;
};

}  // namespace ossdesk::harmony

// The token-by-token state machine behind HarmonyStreamParser: waiting for
// <|start|>, collecting a header, streaming content. Recovery rules are
// listed in stream_parser.h.
#include "harmony/stream_parser.h"

#include "harmony/special_tokens.h"

namespace ossdesk::harmony {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

TokenId lookup(const Tokenizer& tokenizer, std::string_view text) {
  try {
    return tokenizer.special_id(text).value_or(-1);
  } catch (...) {
    return -1;  // a tokenizer without the token: that kind of token never matches
  }
}

bool blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f') return false;
  return true;
}

}  // namespace

const char* to_string(HarmonyEventKind kind) {
  switch (kind) {
    case HarmonyEventKind::MessageStart:
      return "message_start";
    case HarmonyEventKind::ContentDelta:
      return "content_delta";
    case HarmonyEventKind::MessageEnd:
      return "message_end";
    case HarmonyEventKind::Anomaly:
      return "anomaly";
  }
  return "anomaly";
}

const char* to_string(HarmonyStop stop) {
  switch (stop) {
    case HarmonyStop::End:
      return "end";
    case HarmonyStop::Return:
      return "return";
    case HarmonyStop::Call:
      return "call";
    case HarmonyStop::Truncated:
      return "truncated";
  }
  return "truncated";
}

HarmonyStreamParser::HarmonyStreamParser(const Tokenizer& tokenizer, std::string open_role)
    : tokenizer_(tokenizer),
      start_id_(lookup(tokenizer, kStart)),
      end_id_(lookup(tokenizer, kEnd)),
      message_id_(lookup(tokenizer, kMessage)),
      channel_id_(lookup(tokenizer, kChannel)),
      return_id_(lookup(tokenizer, kReturn)),
      call_id_(lookup(tokenizer, kCall)),
      constrain_id_(lookup(tokenizer, kConstrain)) {
  if (!open_role.empty()) begin_header(std::move(open_role), /*implicit=*/false);
}

HarmonyStreamParser::TokenClass HarmonyStreamParser::classify(TokenId id, std::string& bytes) const {
  try {
    if (id < 0 || static_cast<std::size_t>(id) >= tokenizer_.vocab_size()) return TokenClass::Invalid;
    if (id == start_id_) return TokenClass::Start;
    if (id == message_id_) return TokenClass::Message;
    if (id == end_id_) return TokenClass::End;
    if (id == return_id_) return TokenClass::Return;
    if (id == call_id_) return TokenClass::Call;
    if (id == channel_id_) {
      bytes = kChannel;
      return TokenClass::Channel;
    }
    if (id == constrain_id_) {
      bytes = kConstrain;
      return TokenClass::Constrain;
    }
    bytes = tokenizer_.token_bytes(id);
    return tokenizer_.is_special(id) ? TokenClass::OtherSpecial : TokenClass::Text;
  } catch (...) {
    // The parser promises never to throw; a tokenizer that refuses an id
    // makes it an unknown id.
    return TokenClass::Invalid;
  }
}

std::vector<HarmonyEvent> HarmonyStreamParser::push(TokenId id) {
  std::vector<HarmonyEvent> out;
  std::string bytes;
  switch (classify(id, bytes)) {
    case TokenClass::Start:
      on_start(out);
      break;
    case TokenClass::Message:
      on_message(out);
      break;
    case TokenClass::End:
      on_stop(HarmonyStop::End, out);
      break;
    case TokenClass::Return:
      on_stop(HarmonyStop::Return, out);
      break;
    case TokenClass::Call:
      on_stop(HarmonyStop::Call, out);
      break;
    case TokenClass::Channel:
    case TokenClass::Constrain:
      if (state_ == State::Content)
        anomaly("stray " + bytes + " inside message content; ignored", out);
      else
        on_header_bytes(bytes, out);
      break;
    case TokenClass::OtherSpecial:
      anomaly("unexpected special token " + bytes + "; ignored", out);
      break;
    case TokenClass::Text:
      if (state_ == State::Content)
        on_content_bytes(bytes, out);
      else
        on_header_bytes(bytes, out);
      break;
    case TokenClass::Invalid:
      anomaly("token id " + std::to_string(id) + " is not in the vocabulary", out);
      if (state_ == State::Content) on_content_bytes(std::string(kReplacement), out);
      break;
  }
  return out;
}

std::vector<HarmonyEvent> HarmonyStreamParser::finish() {
  std::vector<HarmonyEvent> out;
  if (state_ == State::Content) {
    close_message(HarmonyStop::Truncated, out);
  } else if (state_ == State::Header && !blank(header_text_)) {
    header_to_content("generation ended inside a message header", out);
    close_message(HarmonyStop::Truncated, out);
  }
  state_ = State::ExpectStart;
  header_role_.clear();
  header_text_.clear();
  return out;
}

void HarmonyStreamParser::on_start(std::vector<HarmonyEvent>& out) {
  if (state_ == State::Header) {
    if (!blank(header_text_))
      anomaly("discarded \"" + sanitize_utf8(header_text_) + "\": <|start|> came before <|message|>", out);
    else if (!implicit_header_)
      anomaly("repeated <|start|>", out);
  } else if (state_ == State::Content) {
    anomaly("<|start|> inside a message without an end token; closing it as truncated", out);
    close_message(HarmonyStop::Truncated, out);
  }
  begin_header({}, /*implicit=*/false);
}

void HarmonyStreamParser::on_message(std::vector<HarmonyEvent>& out) {
  if (state_ == State::Content) {
    anomaly("stray <|message|> inside message content; ignored", out);
    return;
  }
  if (state_ == State::ExpectStart) {
    anomaly("<|message|> without a header; taken as an assistant message", out);
    HarmonyHeader header;
    header.role = "assistant";
    open_message(std::move(header), out);
    return;
  }
  HeaderParse parsed = parse_header(header_text_, header_role_);
  note_implicit_start(out);
  for (std::string& problem : parsed.problems) anomaly(std::move(problem), out);
  open_message(std::move(parsed.header), out);
}

void HarmonyStreamParser::on_stop(HarmonyStop stop, std::vector<HarmonyEvent>& out) {
  if (state_ == State::Content) {
    close_message(stop, out);
    return;
  }
  if (state_ == State::Header && !blank(header_text_)) {
    header_to_content("missing <|message|>: the header text is taken as content", out);
    close_message(stop, out);
    return;
  }
  anomaly(std::string("<|") + to_string(stop) + "|> outside a message; ignored", out);
  state_ = State::ExpectStart;
  header_role_.clear();
  header_text_.clear();
}

void HarmonyStreamParser::on_header_bytes(const std::string& bytes, std::vector<HarmonyEvent>& out) {
  // Without <|start|>, text or <|channel|> is read as the header of a new
  // assistant message (a model that skipped "<|start|>assistant").
  if (state_ == State::ExpectStart) begin_header("assistant", /*implicit=*/true);
  header_text_ += bytes;
  if (++header_tokens_ > kMaxHeaderTokens)
    header_to_content("message header longer than " + std::to_string(kMaxHeaderTokens) +
                          " tokens without <|message|>; taken as content",
                      out);
}

void HarmonyStreamParser::on_content_bytes(const std::string& bytes, std::vector<HarmonyEvent>& out) {
  emit_text(utf8_.push(bytes), out);
}

void HarmonyStreamParser::begin_header(std::string role, bool implicit) {
  state_ = State::Header;
  header_role_ = std::move(role);
  header_text_.clear();
  header_tokens_ = 0;
  implicit_header_ = implicit;
}

void HarmonyStreamParser::header_to_content(const std::string& why, std::vector<HarmonyEvent>& out) {
  HeaderParse parsed = parse_header_as_content(header_text_, header_role_);
  note_implicit_start(out);
  anomaly(why, out);
  for (std::string& problem : parsed.problems) anomaly(std::move(problem), out);
  open_message(std::move(parsed.header), out);
  on_content_bytes(parsed.leftover, out);
}

void HarmonyStreamParser::open_message(HarmonyHeader header, std::vector<HarmonyEvent>& out) {
  // Header fields reach the UI and the history, so they must be valid UTF-8
  // whatever the model emitted.
  for (std::string* field : {&header.role, &header.name, &header.channel, &header.recipient, &header.content_type,
                             &header.constraint})
    *field = sanitize_utf8(*field);
  current_ = std::move(header);
  content_.clear();
  utf8_.reset();
  state_ = State::Content;
  header_text_.clear();
  HarmonyEvent e;
  e.kind = HarmonyEventKind::MessageStart;
  e.message_index = message_count_;
  e.header = current_;
  out.push_back(std::move(e));
}

void HarmonyStreamParser::emit_text(std::string text, std::vector<HarmonyEvent>& out) {
  if (text.empty()) return;
  content_ += text;
  HarmonyEvent e;
  e.kind = HarmonyEventKind::ContentDelta;
  e.message_index = message_count_;
  e.header = current_;
  e.text = std::move(text);
  out.push_back(std::move(e));
}

void HarmonyStreamParser::close_message(HarmonyStop stop, std::vector<HarmonyEvent>& out) {
  // Bytes of a character that never completed end the message as U+FFFD
  // rather than leaking into the next one.
  emit_text(utf8_.flush(), out);
  HarmonyEvent e;
  e.kind = HarmonyEventKind::MessageEnd;
  e.message_index = message_count_;
  e.header = current_;
  e.text = content_;
  e.stop = stop;
  out.push_back(std::move(e));

  ChatMessage m;
  m.role = current_.role;
  m.name = current_.name;
  m.channel = current_.channel;
  m.recipient = current_.recipient;
  m.content_type = current_.content_type;
  m.content = std::move(content_);
  messages_.push_back(std::move(m));

  ++message_count_;
  content_.clear();
  current_ = {};
  state_ = State::ExpectStart;
  header_role_.clear();
  header_text_.clear();
}

void HarmonyStreamParser::anomaly(std::string what, std::vector<HarmonyEvent>& out) {
  HarmonyEvent e;
  e.kind = HarmonyEventKind::Anomaly;
  if (state_ == State::Content) {
    e.message_index = message_count_;
    e.header = current_;
  }
  e.text = sanitize_utf8(what);
  out.push_back(std::move(e));
}

void HarmonyStreamParser::note_implicit_start(std::vector<HarmonyEvent>& out) {
  if (!implicit_header_) return;
  implicit_header_ = false;
  anomaly("message without <|start|>; taken as an assistant message", out);
}

}  // namespace ossdesk::harmony

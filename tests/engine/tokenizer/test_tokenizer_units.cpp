// The tokenizer's parts, one at a time: UTF-8 reading, character classes, the
// o200k pre-tokenizer on hand-checked cases (the reference test covers it against
// the real regex at scale), the two BPE merge strategies, the GPT-2 byte-level
// table, and the streaming decoder.
#include <QtTest/QtTest>

#include <random>
#include <set>

#include "ossdesk/error.h"
#include "tokenizer/bpe_merge.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/rank_table.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_support.h"

using namespace ossdesk;
using ossdesk::test::describe_bytes;
using ossdesk::test::o200k_tokenizer;

Q_DECLARE_METATYPE(std::string)
Q_DECLARE_METATYPE(std::vector<std::string>)

namespace {

utf8::Sequence read(std::string_view bytes) {
  return utf8::read_sequence(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

QStringList as_list(const std::vector<std::string>& pieces) {
  QStringList list;
  for (const auto& p : pieces) list << describe_bytes(p);
  return list;
}

bool is_well_formed_utf8(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const utf8::Sequence seq = read(text.substr(pos));
    if (seq.status != utf8::SequenceStatus::Valid) return false;
    pos += seq.length;
  }
  return true;
}

// A tokenizer whose ordinary tokens are just the 256 single bytes (plus one
// special), so each id is one byte and the streaming decoder sees every split.
std::unique_ptr<Tokenizer> byte_tokenizer() {
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.emplace_back(1, static_cast<char>(b));
  bytes.emplace_back("<|end|>");
  std::vector<bool> special(bytes.size(), false);
  special.back() = true;
  return Tokenizer::from_vocab(std::move(bytes), std::move(special), "byte-tokenizer");
}

std::vector<TokenId> byte_ids(std::string_view bytes) {
  std::vector<TokenId> ids;
  for (char c : bytes) ids.push_back(static_cast<unsigned char>(c));
  return ids;
}

}  // namespace

class TestTokenizerUnits : public QObject {
  Q_OBJECT

 private slots:
  void utf8_reads_well_formed_sequences() {
    struct Case {
      std::string_view bytes;
      std::size_t length;
      std::uint32_t code_point;
    };
    const Case cases[] = {{"A", 1, 0x41},
                          {"\xC3\xA9", 2, 0xE9},
                          {"\xE2\x82\xAC", 3, 0x20AC},
                          {"\xED\x9F\xBF", 3, 0xD7FF},
                          {"\xEF\xBF\xBF", 3, 0xFFFF},
                          {"\xF0\x9F\x98\x80", 4, 0x1F600},
                          {"\xF4\x8F\xBF\xBF", 4, 0x10FFFF}};
    for (const Case& c : cases) {
      const utf8::Sequence seq = read(c.bytes);
      QVERIFY2(seq.status == utf8::SequenceStatus::Valid, qPrintable(describe_bytes(c.bytes)));
      QCOMPARE(seq.length, c.length);
      QCOMPARE(seq.code_point, c.code_point);
    }
  }

  // Ill-formed input: the length is Unicode's maximal subpart (what one U+FFFD replaces).
  void utf8_rejects_ill_formed_sequences() {
    struct Case {
      std::string_view bytes;
      utf8::SequenceStatus status;
      std::size_t length;
    };
    using S = utf8::SequenceStatus;
    const Case cases[] = {{"\x80", S::Invalid, 1},           {"\xBF\x41", S::Invalid, 1},
                          {"\xC0\xAF", S::Invalid, 1},       {"\xC1\xBF", S::Invalid, 1},
                          {"\xE0\x80\x80", S::Invalid, 1},   {"\xED\xA0\x80", S::Invalid, 1},
                          {"\xF0\x80\x80\x80", S::Invalid, 1}, {"\xF4\x90\x80\x80", S::Invalid, 1},
                          {"\xF5\x80", S::Invalid, 1},       {"\xFF", S::Invalid, 1},
                          {"\xE2\x82\x41", S::Invalid, 2},   {"\xF0\x9F\x98\x41", S::Invalid, 3},
                          {"\xC3", S::Truncated, 1},         {"\xE2\x82", S::Truncated, 2},
                          {"\xF0\x9F\x98", S::Truncated, 3}};
    for (const Case& c : cases) {
      const utf8::Sequence seq = read(c.bytes);
      QVERIFY2(seq.status == c.status, qPrintable(describe_bytes(c.bytes)));
      QCOMPARE(seq.length, c.length);
    }
  }

  void unicode_classes_of_sample_characters() {
    using namespace unicode;
    QCOMPARE(classify('a'), std::uint8_t(kLetter | kLowerSide));
    QCOMPARE(classify('Z'), std::uint8_t(kLetter | kUpperSide));
    QCOMPARE(classify('7'), std::uint8_t(kNumber));
    QCOMPARE(classify(' '), std::uint8_t(kSpace));
    QCOMPARE(classify('!'), std::uint8_t(0));
    QCOMPARE(classify(0x01C5), std::uint8_t(kLetter | kUpperSide));               // ǅ Lt
    QCOMPARE(classify(0x02B0), std::uint8_t(kLetter | kUpperSide | kLowerSide));  // ʰ Lm
    QCOMPARE(classify(0x4E2D), std::uint8_t(kLetter | kUpperSide | kLowerSide));  // 中 Lo
    QCOMPARE(classify(0x0301), std::uint8_t(kUpperSide | kLowerSide));            // combining acute, Mn
    QCOMPARE(classify(0x00BD), std::uint8_t(kNumber));                            // ½ No
    QCOMPARE(classify(0x216B), std::uint8_t(kNumber));                           // Ⅻ Nl: a number, not a letter
    QCOMPARE(classify(0x3000), std::uint8_t(kSpace));
    QCOMPARE(classify(0xFEFF), std::uint8_t(kSpace));  // JavaScript's \s includes U+FEFF
    QCOMPARE(classify(0x0085), std::uint8_t(0));       // ... but not NEL
    QCOMPARE(classify(0x200B), std::uint8_t(0));       // nor ZERO WIDTH SPACE
    QCOMPARE(classify(0x1D400), std::uint8_t(kLetter | kUpperSide));  // 𝐀 (binary-searched plane)
    QCOMPARE(classify(0x10FFFF), std::uint8_t(0));
    QCOMPARE(classify(0x110000), std::uint8_t(0));
  }

  void pieces_data() {
    QTest::addColumn<std::string>("text");
    QTest::addColumn<std::vector<std::string>>("want");
    using V = std::vector<std::string>;
    QTest::newRow("words") << std::string("Hello world") << V{"Hello", " world"};
    QTest::newRow("upper contraction") << std::string("HELLO'S") << V{"HELLO'S"};
    QTest::newRow("contractions") << std::string("I'M FINE'LL don'T") << V{"I'M", " FINE'LL", " don'T"};
    QTest::newRow("contraction then letters") << std::string("a'sb") << V{"a's", "b"};
    QTest::newRow("camel") << std::string("aBC ABc") << V{"a", "BC", " ABc"};
    QTest::newRow("spaces before word") << std::string("  x") << V{" ", " x"};
    QTest::newRow("newlines") << std::string("a\n\n b") << V{"a", "\n\n", " b"};
    QTest::newRow("space newline space") << std::string("x  \n  y") << V{"x", "  \n", " ", " y"};
    QTest::newRow("trailing spaces") << std::string("x  ") << V{"x", "  "};
    QTest::newRow("digits") << std::string("12345") << V{"123", "45"};
    QTest::newRow("punctuation run") << std::string(" !!!\n\n//x") << V{" !!!\n\n//", "x"};
    QTest::newRow("leading mark") << std::string("\xCC\x81" "ABC") << V{"\xCC\x81", "ABC"};
    QTest::newRow("modifier letters") << std::string("\xCA\xB0\xCA\xB0" "A") << V{"\xCA\xB0\xCA\xB0", "A"};
    QTest::newRow("fullwidth") << std::string("\xEF\xBD\x82\xEF\xBC\xA1") << V{"\xEF\xBD\x82", "\xEF\xBC\xA1"};
    QTest::newRow("ideographic spaces") << std::string("\xE3\x80\x80\xE3\x80\x80x")
                                        << V{"\xE3\x80\x80", "\xE3\x80\x80x"};
    QTest::newRow("nbsp") << std::string("a \xC2\xA0" "b") << V{"a", " ", "\xC2\xA0" "b"};
    // Invalid UTF-8: each bad byte is one punctuation-like character.
    QTest::newRow("invalid byte prefixes a word") << std::string("a\xFF" "b") << V{"a", "\xFF" "b"};
    QTest::newRow("invalid bytes run") << std::string("\xFF\xFE!") << V{"\xFF\xFE!"};
    QTest::newRow("truncated sequence") << std::string("x \xE2\x82") << V{"x", " \xE2\x82"};
    QTest::newRow("overlong slash") << std::string("a\xC0\xAF\n") << V{"a", "\xC0\xAF\n"};
    QTest::newRow("surrogate half") << std::string("\xED\xA0\x80" "1") << V{"\xED\xA0\x80", "1"};
  }

  void pieces() {
    QFETCH(std::string, text);
    QFETCH(std::vector<std::string>, want);
    std::vector<std::string> got;
    for (auto piece : o200k::split_pieces(text)) got.emplace_back(piece);
    QCOMPARE(as_list(got), as_list(want));
  }

  // Whatever the bytes, the pieces cover them exactly, in order, without empties.
  void pieces_cover_any_byte_string() {
    std::mt19937 rng(1234);
    const std::string alphabet[] = {"a", "Z", " ", "\n", "\r", "'", "s", "/", "1", "\xC3\xA9", "\xCC\x81",
                                    "\xE4\xB8\xAD", "\xF0\x9F\x98\x80", "\xFF", "\x80", "\xE2\x82", "\xF0\x9F"};
    for (int round = 0; round < 3000; ++round) {
      std::string text;
      const int length = 1 + static_cast<int>(rng() % 30);
      for (int i = 0; i < length; ++i) text += alphabet[rng() % std::size(alphabet)];
      std::string joined;
      for (auto piece : o200k::split_pieces(text)) {
        QVERIFY(!piece.empty());
        joined += piece;
      }
      QCOMPARE(describe_bytes(joined, 1000), describe_bytes(text, 1000));
    }
  }

  void encodes_known_ids() {
    QCOMPARE(o200k_tokenizer().encode("Hello world", false), (std::vector<TokenId>{13225, 2375}));
    QCOMPARE(o200k_tokenizer().encode("a<|end|>b", false), (std::vector<TokenId>{64, 27, 91, 419, 91, 29, 65}));
    QCOMPARE(o200k_tokenizer().encode("a<|end|>b", true), (std::vector<TokenId>{64, 200007, 65}));
    QCOMPARE(o200k_tokenizer().encode("", true), std::vector<TokenId>{});
  }

  // U+FEFF is white space to the pattern and starts several o200k tokens; the
  // reference encoder cannot produce those (see tokenizer_reference.js), so the
  // ids here are tiktoken's by construction: a piece that is a token is that token.
  void byte_order_mark() {
    const std::string bom = "\xEF\xBB\xBF";
    QCOMPARE(o200k_tokenizer().encode(bom, false), std::vector<TokenId>{5574});
    QCOMPARE(o200k_tokenizer().encode(bom + "using", false), std::vector<TokenId>{9251});
    QCOMPARE(o200k_tokenizer().encode(" " + bom, false), std::vector<TokenId>{71280});
    QCOMPARE(o200k_tokenizer().encode(bom + bom, false), std::vector<TokenId>{135153});
    std::vector<std::string> pieces;
    const std::string text = "a" + bom + bom + "b";  // outlives the pieces, which view it
    for (auto p : o200k::split_pieces(text)) pieces.emplace_back(p);
    QCOMPARE(as_list(pieces), as_list(std::vector<std::string>{"a", bom, bom + "b"}));
  }

  // Invalid UTF-8 has no reference encoder; what must hold is that it encodes to
  // ordinary tokens and decodes back to the same bytes.
  void invalid_utf8_round_trips() {
    std::mt19937 rng(99);
    for (int round = 0; round < 2000; ++round) {
      std::string text;
      const int length = 1 + static_cast<int>(rng() % 40);
      for (int i = 0; i < length; ++i)
        text += rng() % 3 == 0 ? static_cast<char>(0x80 + rng() % 0x80) : "ab <|end|>\xC3\xA9\n1"[rng() % 14];
      for (bool allow_special : {false, true}) {
        const std::vector<TokenId> ids = o200k_tokenizer().encode(text, allow_special);
        QCOMPARE(describe_bytes(o200k_tokenizer().decode(ids), 1000), describe_bytes(text, 1000));
        if (!allow_special)
          for (TokenId id : ids) QVERIFY(!o200k_tokenizer().is_special(id));
      }
    }
  }

  void merge_strategies_agree() {
    const auto& tokenizer = dynamic_cast<const BpeTokenizer&>(o200k_tokenizer());
    // Rebuild the rank table from the tokenizer (ranks are the ordinary ids).
    RankTable ranks(200000);
    for (TokenId id = 0; id < 199998; ++id) ranks.insert(tokenizer.token_bytes(id), static_cast<std::uint32_t>(id));

    std::mt19937 rng(7);
    const std::string alphabets[] = {"ab ", "aaaa", " ", "=-_", "0123456789", "abcdefghijklmnopqrstuvwxyz",
                                     "\xC3\xA9\xE4\xB8\xAD", "\xF0\x9F\x98\x80\xF0\x9F\x91\x8D"};
    for (int round = 0; round < 600; ++round) {
      const std::string& alphabet = alphabets[rng() % std::size(alphabets)];
      std::string piece;
      const std::size_t length = 1 + rng() % (round < 500 ? 64 : 700);
      for (std::size_t i = 0; i < length; ++i) piece += alphabet[rng() % alphabet.size()];
      std::vector<TokenId> rescanned, queued;
      bpe::merge_by_rescanning(piece, ranks, rescanned);
      bpe::merge_with_queue(piece, ranks, queued);
      QVERIFY2(rescanned == queued, qPrintable(describe_bytes(piece)));
      QCOMPARE(describe_bytes(o200k_tokenizer().decode(queued), 1000), describe_bytes(piece, 1000));
    }
  }

  // Long single-class pieces go through the n log n merge; they must stay fast
  // (the ctest timeout is the bound) and exact.
  void long_runs_round_trip() {
    const std::string runs[] = {std::string(1 << 20, ' '), std::string(300000, 'a'),
                                std::string(200000, '=') + "\n", std::string(100000, '\n')};
    for (const std::string& text : runs) {
      const std::vector<TokenId> ids = o200k_tokenizer().encode(text, false);
      QVERIFY(ids.size() < text.size());
      QVERIFY(o200k_tokenizer().decode(ids) == text);
    }
    std::string abab;
    for (int i = 0; i < 100000; ++i) abab += "ab";
    QVERIFY(o200k_tokenizer().decode(o200k_tokenizer().encode(abab, false)) == abab);
  }

  void byte_level_table() {
    QCOMPARE(QString::fromStdString(gpt2_unicode_encode(" hello\n")), QString::fromUtf8("Ġhello\xC4\x8A"));
    QCOMPARE(gpt2_bytes_to_unicode_decode("\xC4\xA0world"), std::string(" world"));
    std::set<std::string> spellings;
    for (int b = 0; b < 256; ++b) {
      const std::string byte(1, static_cast<char>(b));
      const std::string spelled = gpt2_unicode_encode(byte);
      QVERIFY(is_well_formed_utf8(spelled));
      QCOMPARE(gpt2_bytes_to_unicode_decode(spelled), byte);
      spellings.insert(spelled);
    }
    QCOMPARE(spellings.size(), std::size_t(256));
    // The highest shifted code point is U+0143 (256 + 68 - 1); the soft hyphen is shifted.
    QCOMPARE(gpt2_unicode_encode("\xAD"), std::string("\xC5\x83"));
    QCOMPARE(gpt2_unicode_encode("\x7F"), std::string("\xC4\xA1"));
    QCOMPARE(gpt2_unicode_encode("\xA1"), std::string("\xC2\xA1"));  // stands for itself
  }

  void byte_level_rejects_foreign_text() {
    const std::string bad[] = {"\xE2\x82\xAC", "a\xC5\x84", "\xFF", "\xC4", "\xC2\xAD"};
    for (const std::string& text : bad) {
      try {
        gpt2_bytes_to_unicode_decode(text);
        QFAIL(qPrintable("accepted " + describe_bytes(text)));
      } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::BadInput);
        QVERIFY(QString(e.what()).contains("at byte"));
      }
    }
  }

  // "🫠" is three o200k tokens that cut its four bytes 1+1+2... (whatever the cut,
  // nothing may come out until the sequence is whole).
  void streaming_decoder_holds_split_emoji() {
    const std::string text = "ok \xF0\x9F\xAB\xA0 \xF0\x9F\xA6\x80!";
    const std::vector<TokenId> ids = o200k_tokenizer().encode(text, false);
    StreamingDecoder decoder(o200k_tokenizer());
    std::string streamed;
    int held_back = 0;
    for (TokenId id : ids) {
      const std::string out = decoder.push(id);
      QVERIFY2(is_well_formed_utf8(out), qPrintable(describe_bytes(out)));
      if (out.size() != o200k_tokenizer().token_bytes(id).size()) ++held_back;
      streamed += out;
    }
    streamed += decoder.flush();
    QVERIFY2(held_back >= 2, "the text should contain tokens that end inside a UTF-8 sequence");
    QCOMPARE(describe_bytes(streamed), describe_bytes(text));
  }

  void streaming_decoder_byte_by_byte() {
    const auto tokenizer = byte_tokenizer();
    StreamingDecoder decoder(*tokenizer);
    QCOMPARE(decoder.push(0xF0), std::string());
    QCOMPARE(decoder.push(0x9F), std::string());
    QCOMPARE(decoder.push(0x98), std::string());
    QCOMPARE(decoder.push(0x80), std::string("\xF0\x9F\x98\x80"));
    QCOMPARE(decoder.push('a'), std::string("a"));
    QCOMPARE(decoder.push(256), std::string("<|end|>"));
    QCOMPARE(decoder.flush(), std::string());
  }

  void streaming_decoder_replaces_invalid_bytes() {
    const auto tokenizer = byte_tokenizer();
    const std::string fffd = utf8::kReplacementCharacter;
    {
      StreamingDecoder decoder(*tokenizer);
      QCOMPARE(decoder.push(0xFF), fffd);  // can never start a sequence: replaced at once
      QCOMPARE(decoder.push(0xE2), std::string());
      QCOMPARE(decoder.push(0x82), std::string());
      QCOMPARE(decoder.push('a'), fffd + "a");  // E2 82 was cut short: one U+FFFD
      QCOMPARE(decoder.push(0xC0), fffd);       // C0 is always overlong
    }
    {
      StreamingDecoder decoder(*tokenizer);
      QCOMPARE(decoder.push(0xF0), std::string());
      QCOMPARE(decoder.push(0x9F), std::string());
      QCOMPARE(decoder.flush(), fffd);  // nothing more will come
      QCOMPARE(decoder.flush(), std::string());
      QCOMPARE(decoder.push('b'), std::string("b"));
    }
    {
      // Random bytes: every output is well-formed and valid input passes unchanged.
      std::mt19937 rng(5);
      StreamingDecoder decoder(*tokenizer);
      std::string all;
      for (int i = 0; i < 20000; ++i) {
        const std::string out = decoder.push(static_cast<TokenId>(rng() % 256));
        QVERIFY(is_well_formed_utf8(out));
        all += out;
      }
      all += decoder.flush();
      QVERIFY(is_well_formed_utf8(all));
    }
    StreamingDecoder decoder(*tokenizer);
    QVERIFY_THROWS_EXCEPTION(Error, decoder.push(257));
  }

  void byte_tokenizer_decodes_its_bytes() {
    const auto tokenizer = byte_tokenizer();
    const std::string text = "x\xF0\x9F\x98\x80<|end|>";
    QCOMPARE(tokenizer->encode(text, true).back(), 256);
    QCOMPARE(tokenizer->decode(tokenizer->encode(text, true)), text);
    QCOMPARE(tokenizer->encode("ab", false), byte_ids("ab"));
  }
};

QTEST_GUILESS_MAIN(TestTokenizerUnits)
#include "test_tokenizer_units.moc"

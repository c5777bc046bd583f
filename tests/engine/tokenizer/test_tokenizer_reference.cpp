// Our tokenizer against gpt-tokenizer's o200k_harmony encoder (the JavaScript
// reference the design names), run through tests/tools/tokenizer_reference.js:
// the committed 1 MB corpus record by record (special tokens as text, and all
// allowed), the corpus as one text, and random strings over unusual characters
// whose pre-tokenizer pieces are compared with the o200k regex itself. Every id
// must be identical and every decode must give back the exact input.
//
// node must be on PATH: without it this test fails (it is the only independent check).
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include "tokenizer/pretokenizer.h"
#include "tokenizer_test_support.h"

using namespace ossdesk;
using ossdesk::test::describe_bytes;
using ossdesk::test::describe_difference;

namespace {

std::vector<TokenId> ids_of(const nlohmann::json& array) { return array.get<std::vector<TokenId>>(); }

}  // namespace

class TestTokenizerReference : public QObject {
  Q_OBJECT

  nlohmann::json reference_;
  std::string corpus_;
  std::vector<std::string_view> records_;
  std::string tokenizer_json_path_;

  // Compares each record's ids with the reference's; reports the first few misses.
  void compare_records(const char* field, bool allow_special) {
    const Tokenizer& tok = test::o200k_tokenizer();
    const auto& expected = reference_.at("records");
    QCOMPARE(expected.size(), records_.size());
    int mismatches = 0;
    for (std::size_t i = 0; i < records_.size(); ++i) {
      const std::vector<TokenId> got = tok.encode(records_[i], allow_special);
      const std::vector<TokenId> want = ids_of(expected[i].at(field));
      if (got != want && ++mismatches <= 5)
        qWarning().noquote() << "record" << i << describe_bytes(records_[i], 200) << "\n"
                             << describe_difference(tok, got, want);
      const std::string round_trip =
          allow_special ? test::with_canonical_special_names(records_[i]) : std::string(records_[i]);
      if (tok.decode(got) != round_trip && ++mismatches <= 5)
        qWarning().noquote() << "record" << i << "does not decode back to itself";
    }
    QCOMPARE(mismatches, 0);
  }

 private slots:
  void initTestCase() {
    const QString node = QStandardPaths::findExecutable("node");
    if (node.isEmpty())
      QFAIL("node was not found on PATH: this test runs gpt-tokenizer (npm) as the reference encoder; "
            "install nodejs (Debian: apt install nodejs npm)");
    const std::string out_path = test::work_path("reference.json");
    tokenizer_json_path_ = test::work_path("o200k-tokenizer.json");
    QProcess process;
    process.start(node, {QString(OSSDESK_TOKENIZER_TOOLS_DIR) + "/tokenizer_reference.js", OSSDESK_NPM_DIR,
                         QString::fromStdString(test::corpus_path()), QString::fromStdString(out_path),
                         QString::fromStdString(tokenizer_json_path_)});
    QVERIFY2(process.waitForFinished(240000), "tokenizer_reference.js did not finish in 240 s");
    const QByteArray errors = process.readAllStandardError();
    QVERIFY2(process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0,
             qPrintable("tokenizer_reference.js failed:\n" + QString::fromUtf8(errors)));
    qInfo().noquote() << QString::fromUtf8(process.readAllStandardOutput()).trimmed();

    reference_ = nlohmann::json::parse(test::read_file(out_path));
    corpus_ = test::read_file(test::corpus_path());
    records_ = test::split_records(corpus_);
    QVERIFY2(corpus_.size() >= 1000000, "the corpus should be at least 1 MB");
    test::o200k_tokenizer();  // load once, outside the timed parts
  }

  void corpus_records_with_special_tokens_as_text() { compare_records("plain", false); }

  void corpus_records_with_special_tokens_allowed() {
    compare_records("special", true);
    // The corpus must actually exercise special tokens in the middle of text.
    std::size_t specials = 0;
    for (const auto& record : reference_.at("records"))
      for (TokenId id : ids_of(record.at("special"))) specials += id >= 199998 ? 1 : 0;
    QVERIFY2(specials > 1000, "the corpus has too few special tokens");
  }

  void whole_corpus() {
    const Tokenizer& tok = test::o200k_tokenizer();
    QElapsedTimer timer;
    timer.start();
    const std::vector<TokenId> got = tok.encode(corpus_, false);
    const double seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    qInfo().noquote() << QString("encoded %1 bytes into %2 tokens in %3 ms (%4 MB/s)")
                             .arg(corpus_.size())
                             .arg(got.size())
                             .arg(seconds * 1000, 0, 'f', 1)
                             .arg(static_cast<double>(corpus_.size()) / 1e6 / seconds, 0, 'f', 1);
    const std::vector<TokenId> want = ids_of(reference_.at("whole"));
    QVERIFY2(got == want, qPrintable(describe_difference(tok, got, want)));
    QVERIFY(tok.decode(got) == corpus_);
  }

  void fuzz_pieces_match_the_regex() {
    int mismatches = 0;
    for (const auto& item : reference_.at("fuzz")) {
      const std::string text = item.at("text").get<std::string>();
      std::vector<std::size_t> got;
      std::size_t end = 0;
      for (auto piece : o200k::split_pieces(text)) got.push_back(end += piece.size());
      const std::vector<std::size_t> want = item.at("piece_ends").get<std::vector<std::size_t>>();
      if (got != want && ++mismatches <= 5) {
        QStringList got_pieces, want_pieces;
        std::size_t start = 0;
        for (std::size_t e : got) got_pieces << describe_bytes(text.substr(start, e - start)), start = e;
        start = 0;
        for (std::size_t e : want) want_pieces << describe_bytes(text.substr(start, e - start)), start = e;
        qWarning().noquote() << "pieces of" << describe_bytes(text) << "\n  got: " << got_pieces.join(" ")
                             << "\n  want:" << want_pieces.join(" ");
      }
    }
    QCOMPARE(mismatches, 0);
  }

  void fuzz_ids_match() {
    const Tokenizer& tok = test::o200k_tokenizer();
    int mismatches = 0;
    int compared = 0;
    for (const auto& item : reference_.at("fuzz")) {
      if (item.at("ids").is_null()) continue;  // U+FEFF: the reference cannot encode it
      ++compared;
      const std::string text = item.at("text").get<std::string>();
      const std::vector<TokenId> got = tok.encode(text, false);
      const std::vector<TokenId> want = ids_of(item.at("ids"));
      if ((got != want || tok.decode(got) != text) && ++mismatches <= 5)
        qWarning().noquote() << describe_bytes(text) << "\n" << describe_difference(tok, got, want);
    }
    QCOMPARE(mismatches, 0);
    QVERIFY(compared > 3000);
  }

  // The reference's whole special-token table (1091 names over 1090 ids).
  void special_token_table_matches() {
    const Tokenizer& tok = test::o200k_tokenizer();
    const auto& specials = reference_.at("specials");
    QCOMPARE(specials.size(), std::size_t(1091));
    for (const auto& [text, id] : specials.items()) {
      QCOMPARE(tok.special_id(text), std::optional<TokenId>(id.get<TokenId>()));
      QVERIFY(tok.is_special(id.get<TokenId>()));
    }
    for (TokenId id = 199998; id < 201088; ++id) QVERIFY(specials.contains(tok.token_bytes(id)));
  }

  // tokenizer.json written by the script with its own GPT-2 byte table.
  void tokenizer_json_matches_tiktoken() {
    const Tokenizer& tik = test::o200k_tokenizer();
    const auto hf = Tokenizer::from_hf_tokenizer_json(tokenizer_json_path_);
    QCOMPARE(hf->vocab_size(), tik.vocab_size());
    for (TokenId id = 0; id < static_cast<TokenId>(tik.vocab_size()); ++id) {
      if (hf->token_bytes(id) != tik.token_bytes(id) || hf->is_special(id) != tik.is_special(id))
        QFAIL(qPrintable(QString("id %1: %2 vs %3").arg(id).arg(describe_bytes(hf->token_bytes(id)),
                                                                 describe_bytes(tik.token_bytes(id)))));
    }
    for (bool allow_special : {false, true}) {
      const std::vector<TokenId> got = hf->encode(corpus_, allow_special);
      const std::vector<TokenId> want = tik.encode(corpus_, allow_special);
      QVERIFY2(got == want, qPrintable(describe_difference(tik, got, want)));
    }
  }
};

QTEST_GUILESS_MAIN(TestTokenizerReference)
#include "test_tokenizer_reference.moc"

// ossdesk-cli as later checks and users call it: each subcommand's output
// contract (ids on the last line, safetensors out, JSON events) and the exit
// code 2 with one clear line for bad input.
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>
#include <cmath>

#include "golden_fixture.h"
#include "model/safetensors.h"
#include "scratch_dir.h"
#include "tiny_model.h"

using namespace ossdesk;
namespace fs = std::filesystem;

namespace {

struct Run {
  int code = -1;
  QString out, err;
  QString last_line() const {
    const QStringList lines = out.trimmed().split('\n');
    return lines.isEmpty() ? QString() : lines.last();
  }
};

Run cli(const QStringList& args) {
  QProcess p;
  p.start(OSSDESK_CLI_PATH, args);
  Run r;
  if (!p.waitForFinished(300000)) {
    p.kill();
    return r;
  }
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

QString ids(const std::vector<int>& v) {
  QStringList s;
  for (int x : v) s << QString::number(x);
  return s.join(',');
}

QString golden_dir(const char* name) { return QString(OSSDESK_TEST_DATA_DIR) + "/golden/" + name; }

}  // namespace

class TestCli : public QObject {
  Q_OBJECT

 private slots:
  void logits_writes_reference_close_safetensors() {
    const test::GoldenFixture g = test::load_golden("tiny-a");
    const QString out = QString::fromStdString((test::scratch_dir("cli-logits") / "logits.safetensors").string());
    const Run r = cli({"logits", "--model", golden_dir("tiny-a"), "--tokens", ids(g.tokens), "--backend", "cpu", "--out", out});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    SafetensorsFile f(out.toStdString());
    const TensorView& l = f.tensors().at("logits");
    QCOMPARE(l.dtype, DType::F32);
    QCOMPARE(l.shape, (std::vector<std::uint64_t>{g.tokens.size(), static_cast<std::uint64_t>(g.vocab)}));
    QVERIFY(test::max_abs_diff(reinterpret_cast<const float*>(l.data), g.logits.data(), g.logits.size()) < 1e-3f);
  }

  void complete_prints_the_greedy_continuation() {
    const test::GoldenFixture g = test::load_golden("tiny-b");
    const Run r = cli({"complete", "--model", golden_dir("tiny-b"), "--tokens", ids(g.tokens), "--max-tokens",
                       QString::number(g.greedy.size()), "--temperature", "0", "--backend", "cpu"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.last_line(), ids(g.greedy));
  }

  void tokenize_and_detokenize_round_trip() {
    const QString tk = QString::fromStdString(test::o200k_tiktoken_path());
    const Run t = cli({"tokenize", "--tokenizer", tk, "--text", "Hello, world! <|start|>"});
    QCOMPARE(t.code, 0);
    QVERIFY(!t.last_line().contains("200006"));  // specials are text unless allowed
    const Run s = cli({"tokenize", "--tokenizer", tk, "--text", "Hello <|start|>", "--allow-special"});
    QVERIFY(s.last_line().endsWith(",200006"));
    const Run d = cli({"detokenize", "--tokenizer", tk, "--ids", t.last_line()});
    QCOMPARE(d.code, 0);
    QCOMPARE(d.out.trimmed(), QString("Hello, world! <|start|>"));
    const QString model = QString::fromStdString(test::tiny_chat_model());
    QCOMPARE(cli({"tokenize", "--model", model, "--text", "Hello, world! <|start|>"}).last_line(), t.last_line());
    QCOMPARE(cli({"tokenize", "--tokenizer", model, "--text", "Hello, world! <|start|>"}).last_line(), t.last_line());
  }

  void render_prints_harmony_text_and_ids() {
    const fs::path dir = test::scratch_dir("cli-render");
    const std::string json = "{\"system\": {\"reasoning\": \"high\", \"knowledge_cutoff\": \"2024-06\"},"
                             " \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}";
    test::write_bytes(dir / "chat.json", json.data(), json.size());
    const QString file = QString::fromStdString((dir / "chat.json").string());
    const Run r = cli({"render", "--messages", file});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.startsWith("<|start|>system<|message|>"));
    QVERIFY(r.out.contains("Reasoning: high"));
    QVERIFY(r.out.endsWith("<|start|>user<|message|>Hi<|end|><|start|>assistant"));
    const Run ids_run = cli({"render", "--messages", file, "--ids", "--tokenizer", QString::fromStdString(test::o200k_tiktoken_path())});
    QCOMPARE(ids_run.code, 0);
    QVERIFY(ids_run.last_line().startsWith("200006,"));
    QVERIFY(ids_run.last_line().endsWith(",200006,173781"));  // <|start|>assistant
  }

  void generate_json_streams_events() {
    const Run r = cli({"generate", "--model", QString::fromStdString(test::tiny_chat_model()), "--prompt", "Hi",
                       "--max-tokens", "8", "--temperature", "0", "--backend", "cpu", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QStringList lines = r.out.trimmed().split('\n');
    QVERIFY(lines.size() >= 3);
    QStringList kinds;
    for (const QString& line : lines) {
      const QJsonObject o = QJsonDocument::fromJson(line.toUtf8()).object();
      QVERIFY2(!o.isEmpty(), qPrintable("not JSON: " + line));
      kinds << o["event"].toString();
    }
    QCOMPARE(kinds.first(), QString("loaded"));
    // The CPU backend says where its weights are read from (reading ahead, or in memory).
    const QJsonObject weights = QJsonDocument::fromJson(lines.first().toUtf8()).object()["weights"].toObject();
    QVERIFY2(weights["place"] == "reading" || weights["place"] == "memory", qPrintable(lines.first()));
    QVERIFY2(weights["bytes"].toDouble() > 0 && !weights["note"].toString().isEmpty(), qPrintable(lines.first()));
    QCOMPARE(kinds.last(), QString("done"));
    QCOMPARE(kinds[kinds.size() - 2], QString("stats"));
    const QJsonObject stats = QJsonDocument::fromJson(lines[lines.size() - 2].toUtf8()).object()["stats"].toObject();
    QVERIFY(stats["generated_tokens"].toInt() >= 1);
    QVERIFY(stats["ttft_ms"].toDouble() > 0);
  }

  // --profile on generate goes through the public Engine API (take_profile).
  void generate_profile_prints_per_op_time() {
    const Run r = cli({"generate", "--model", QString::fromStdString(test::tiny_chat_model()), "--prompt", "Hi",
                       "--max-tokens", "3", "--temperature", "0", "--backend", "cpu", "--profile"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("profile (cpu on "), qPrintable(r.err));
    QVERIFY2(r.err.contains(QRegularExpression(R"(\n  \S+ +[0-9.]+ ms +[0-9.]+% +[0-9]+ calls)")), qPrintable(r.err));
  }

  void synth_convert_info_bench() {
    const fs::path dir = test::scratch_dir("cli-synth");
    const QString hf = QString::fromStdString((dir / "tiny-hf").string());
    const QString gguf = QString::fromStdString((dir / "tiny.gguf").string());
    QCOMPARE(cli({"synth", "--preset", "tiny", "--format", "hf", "--out", hf, "--seed", "3", "--quiet"}).code, 0);
    QVERIFY(fs::exists(dir / "tiny-hf/config.json"));
    QVERIFY(fs::exists(dir / "tiny-hf/model.safetensors"));
    QCOMPARE(cli({"convert", "--model", hf, "--out", gguf, "--quiet"}).code, 0);
    const Run info = cli({"info", "--model", gguf, "--context", "4096"});
    QCOMPARE(info.code, 0);
    QVERIFY(info.out.contains("format:     gguf"));
    QVERIFY(info.out.contains("MXFP4 x12"));
    QVERIFY(info.out.contains("memory at context 4096"));
    // Which backend `auto` runs, and why: no GPU here, and lavapipe is offered only when asked for.
    QVERIFY2(info.out.contains("auto runs: cpu (") && info.out.contains("no Vulkan GPU"), qPrintable(info.out));
    // The same as JSON, for scripts.
    const Run info_json = cli({"info", "--model", gguf, "--context", "4096", "--json"});
    QCOMPARE(info_json.code, 0);
    const QJsonObject ij = QJsonDocument::fromJson(info_json.out.toUtf8()).object();
    QCOMPARE(ij["format"].toString(), QString("gguf"));
    QCOMPARE(ij["tensor_types"].toObject()["MXFP4"].toObject()["count"].toInt(), 12);
    QCOMPARE(ij["memory"].toObject()["context"].toInt(), 4096);
    QVERIFY(ij["memory"].toObject()["total_bytes"].toDouble() > ij["memory"].toObject()["weights_bytes"].toDouble());
    QCOMPARE(ij["auto"].toObject()["backend"].toString(), QString("cpu"));
    bool cpu_listed = false;
    for (const QJsonValue& b : ij["backends"].toArray())
      if (b.toObject()["name"].toString() == "cpu") cpu_listed = b.toObject()["devices"].toArray().size() == 1;
    QVERIFY2(cpu_listed, qPrintable(info_json.out));
    // Same weights, same greedy tokens, whichever file.
    const Run a = cli({"complete", "--model", hf, "--tokens", "1,2,3", "--max-tokens", "5"});
    const Run b = cli({"complete", "--model", gguf, "--tokens", "1,2,3", "--max-tokens", "5"});
    QCOMPARE(a.code, 0);
    QCOMPARE(a.last_line(), b.last_line());
    const Run bench = cli({"bench", "--model", gguf, "--backend", "cpu", "--pp", "16", "--tg", "4", "--runs", "2", "--json",
                           "--peak-gbps", "50"});
    QCOMPARE(bench.code, 0);
    const QJsonObject j = QJsonDocument::fromJson(bench.out.toUtf8()).object();
    const double decode = j["decode_tokens_per_s"].toObject()["mean"].toDouble();
    QVERIFY(j["prefill_tokens_per_s"].toObject()["mean"].toDouble() > 0);
    QVERIFY(decode > 0);
    QVERIFY(j["peak_host_memory_bytes"].toDouble() > 0);
    // The bandwidth limit: weights plus the float KV cache in view at the
    // decoded positions 16..19, against the 50 GB/s given.
    const double kv = j["kv_bytes_per_token"].toDouble();
    QVERIFY(kv > 0);
    const double limit = 50e9 / (j["weight_bytes_per_token"].toDouble() + kv);
    QCOMPARE(j["peak_memory_gb_per_s"].toObject()["from"].toString(), QString("--peak-gbps"));
    QVERIFY(std::abs(j["decode_bandwidth_limit_tokens_per_s"].toDouble() - limit) < 1e-6 * limit);
    QVERIFY(std::abs(j["decode_fraction_of_limit"].toDouble() - decode / limit) < 1e-6);
    QCOMPARE(j["temperature"].toDouble(), 0.0);  // greedy unless asked
    // The runs start after the CPU backend has read the weights into memory.
    const QJsonObject weights = j["weights"].toObject();
    QCOMPARE(weights["place"].toString(), QString("memory"));
    QCOMPARE(weights["bytes_read"].toDouble(), weights["bytes"].toDouble());
    QVERIFY2(weights["note"].toString().startsWith("weights in memory ("), qPrintable(bench.out));
    QVERIFY(j["weights_ready_s"].toDouble() >= 0 && j["weights_ready_s"].toDouble() < 60);
    // Without --peak-gbps the CPU's read bandwidth is measured, and the
    // measurement's 256 MiB buffer is not counted as the bench's memory.
    const Run measured = cli({"bench", "--model", gguf, "--backend", "cpu", "--pp", "4", "--tg", "4", "--runs", "1", "--json"});
    QCOMPARE(measured.code, 0);
    const QJsonObject m = QJsonDocument::fromJson(measured.out.toUtf8()).object();
    const QJsonObject peak = m["peak_memory_gb_per_s"].toObject();
    QVERIFY2(peak["from"].toString().startsWith("measured: "), qPrintable(measured.out));
    QVERIFY2(peak["value"].toDouble() > 0.5 && peak["value"].toDouble() < 10000, qPrintable(measured.out));
    const double measured_limit = peak["value"].toDouble() * 1e9 / (m["weight_bytes_per_token"].toDouble() + m["kv_bytes_per_token"].toDouble());
    QVERIFY(std::abs(m["decode_bandwidth_limit_tokens_per_s"].toDouble() - measured_limit) < 1e-6 * measured_limit);
    QVERIFY2(m["peak_host_memory_bytes"].toDouble() < j["peak_host_memory_bytes"].toDouble() + 128.0 * (1 << 20), qPrintable(measured.out));
    // Decode drawn as a chat at default settings draws.
    const Run drawn = cli({"bench", "--model", gguf, "--backend", "cpu", "--pp", "4", "--tg", "4", "--runs", "1",
                           "--temperature", "1"});
    QCOMPARE(drawn.code, 0);
    QVERIFY2(drawn.out.contains("decode 4 tokens at depth 4 (drawn)"), qPrintable(drawn.out));
    QCOMPARE(cli({"bench", "--model", gguf, "--temperature", "-1"}).code, 2);
  }

  void bad_input_exits_2_with_one_line() {
    const fs::path dir = test::scratch_dir("cli-bad");
    test::write_bytes(dir / "junk.gguf", "GGUF\3\0\0\0\xff\xff", 10);
    const QString junk = QString::fromStdString((dir / "junk.gguf").string());
    const QList<QStringList> cases = {
        {"info", "--model", "/no/such/model.gguf"},
        {"info", "--model", junk},
        {"logits", "--model", golden_dir("tiny-a"), "--tokens", "1,x", "--out", "/tmp/x"},
        {"complete", "--model", golden_dir("tiny-a"), "--tokens", "5000", "--max-tokens", "2"},
        {"synth", "--preset", "huge", "--out", "/tmp/x"},
        {"info", "--modle", "x"},
        {"frobnicate"},
    };
    for (const QStringList& args : cases) {
      const Run r = cli(args);
      QVERIFY2(r.code == 2, qPrintable(args.join(' ') + " -> " + QString::number(r.code) + ": " + r.err));
      QCOMPARE(r.err.trimmed().split('\n').size() >= 1, true);
      QVERIFY2(!r.err.trimmed().isEmpty(), qPrintable(args.join(' ')));
    }
    // The message names the file.
    QVERIFY(cli({"info", "--model", junk}).err.contains("junk.gguf"));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"

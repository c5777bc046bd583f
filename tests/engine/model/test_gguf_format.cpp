// GGUF reading and writing: every metadata value type, arrays (nested too),
// alignment, every tensor type; and an independent parser (the npm package
// @huggingface/gguf, run with node) reads what our writer wrote — names,
// types, shapes and the gpt-oss metadata of a `synth`/`convert` output.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include "model/convert.h"
#include "model/gguf.h"
#include "model/model.h"
#include "ossdesk/error.h"
#include "scratch_dir.h"

using namespace ossdesk;
namespace fs = std::filesystem;

namespace {

QJsonObject inspect_with_huggingface_gguf(const fs::path& file) {
  QProcess node;
  node.start("node", {QString(OSSDESK_TOOLS_DIR) + "/gguf_inspect.mjs", OSSDESK_NPM_DIR, QString::fromStdString(file.string())});
  if (!node.waitForFinished(120000) || node.exitCode() != 0) {
    qWarning("%s", node.readAllStandardError().constData());
    return {};
  }
  return QJsonDocument::fromJson(node.readAllStandardOutput()).object();
}

}  // namespace

class TestGgufFormat : public QObject {
  Q_OBJECT

 private slots:
  void round_trip_all_value_types() {
    const fs::path path = test::scratch_dir("gguf-format") / "values.gguf";
    GgufWriter w(64);
    w.set("u8", GgufValue::scalar(GgufType::U8, 200));
    w.set("i8", GgufValue::signed_scalar(GgufType::I8, -5));
    w.set("u16", GgufValue::scalar(GgufType::U16, 65000));
    w.set("i16", GgufValue::signed_scalar(GgufType::I16, -30000));
    w.set("u32", GgufValue::u32(4000000000u));
    w.set("i32", GgufValue::i32(-2000000000));
    w.set("u64", GgufValue::u64(1ull << 40));
    w.set("i64", GgufValue::signed_scalar(GgufType::I64, -(1ll << 40)));
    w.set("f32", GgufValue::f32(1.5f));
    w.set("f64", GgufValue::floating(GgufType::F64, 0.1));
    w.set("bool", GgufValue::boolean(true));
    w.set("string", GgufValue::string("héllo\n"));
    w.set("array.i32", GgufValue::array(GgufType::I32, {GgufValue::i32(1), GgufValue::i32(-2), GgufValue::i32(3)}));
    w.set("array.string", GgufValue::array(GgufType::String, {GgufValue::string("a"), GgufValue::string("")}));
    w.set("array.nested", GgufValue::array(GgufType::Array, {GgufValue::array(GgufType::U32, {GgufValue::u32(7)})}));
    w.add_tensor("f32", DType::F32, {3});
    w.add_tensor("q8", DType::Q8_0, {2, 32});
    w.add_tensor("mx", DType::MXFP4, {1, 64});
    w.add_tensor("bf", DType::BF16, {5});
    w.begin(path.string());
    std::vector<std::uint8_t> data(4096);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
    w.write(data.data(), 12);
    w.write(data.data() + 12, 68);
    w.write(data.data() + 80, 34);
    w.write(data.data() + 114, 10);
    w.finish();

    GgufFile g(path.string());
    QCOMPARE(g.version(), 3u);
    QCOMPARE(g.alignment(), 64ull);
    QCOMPARE(g.get("u8").as_int("u8"), 200);
    QCOMPARE(g.get("i8").as_int("i8"), -5);
    QCOMPARE(g.get("u16").as_int("u16"), 65000);
    QCOMPARE(g.get("i16").as_int("i16"), -30000);
    QCOMPARE(g.get("u32").as_int("u32"), 4000000000ll);
    QCOMPARE(g.get("i32").as_int("i32"), -2000000000);
    QCOMPARE(g.get("u64").as_int("u64"), 1ll << 40);
    QCOMPARE(g.get("i64").as_int("i64"), -(1ll << 40));
    QCOMPARE(g.get("f32").as_double("f32"), 1.5);
    QCOMPARE(g.get("f64").as_double("f64"), 0.1);
    QCOMPARE(g.get("bool").as_int("bool"), 1);
    QCOMPARE(g.get("string").as_string("string"), std::string("héllo\n"));
    QCOMPARE(g.get("array.i32").as_array("").size(), 3u);
    QCOMPARE(g.get("array.i32").as_array("")[1].as_int(""), -2);
    QCOMPARE(g.get("array.string").as_array("")[1].as_string(""), std::string());
    QCOMPARE(g.get("array.nested").as_array("")[0].as_array("")[0].as_int(""), 7);
    QVERIFY_THROWS_EXCEPTION(Error, g.get("string").as_int("string"));
    QCOMPARE(g.tensors().size(), 4u);
    const TensorView& q8 = g.tensor("q8");
    QCOMPARE(q8.dtype, DType::Q8_0);
    QCOMPARE(q8.shape, (std::vector<std::uint64_t>{2, 32}));
    QCOMPARE(q8.nbytes, 68ull);
    QCOMPARE(std::memcmp(q8.data, data.data() + 12, 68), 0);
    QCOMPARE(reinterpret_cast<std::uintptr_t>(g.tensor("mx").data) % 64, 0u);
    QCOMPARE(g.tensor("mx").nbytes, 34ull);
    QCOMPARE(std::memcmp(g.tensor("bf").data, data.data() + 114, 10), 0);
  }

  // The third-party parser agrees with what we wrote.
  void huggingface_gguf_reads_our_files() {
    const fs::path dir = test::scratch_dir("gguf-format-npm");
    auto model = Model::open(std::string(OSSDESK_TEST_DATA_DIR) + "/golden/tiny-b");
    const fs::path file = dir / "tiny-b.gguf";
    convert_to_gguf(*model, file.string());
    const QJsonObject parsed = inspect_with_huggingface_gguf(file);
    QVERIFY2(!parsed.isEmpty(), "node could not run @huggingface/gguf");
    GgufFile ours(file.string());
    const QJsonArray tensors = parsed["tensors"].toArray();
    QCOMPARE(static_cast<std::size_t>(tensors.size()), ours.tensors().size());
    for (int i = 0; i < tensors.size(); ++i) {
      const QJsonObject t = tensors[i].toObject();
      const TensorView& v = ours.tensors()[static_cast<std::size_t>(i)];
      QCOMPARE(t["name"].toString().toStdString(), v.name);
      QCOMPARE(static_cast<std::uint32_t>(t["dtype"].toInt()), *dtype_to_ggml(v.dtype));
      const QJsonArray shape = t["shape"].toArray();  // ggml ne order: innermost first
      QCOMPARE(static_cast<std::size_t>(shape.size()), v.shape.size());
      for (int d = 0; d < shape.size(); ++d)
        QCOMPARE(static_cast<std::uint64_t>(shape[d].toDouble()), v.shape[v.shape.size() - 1 - static_cast<std::size_t>(d)]);
    }
    const QJsonObject md = parsed["metadata"].toObject();
    QCOMPARE(md["general.architecture"].toString(), QString("gpt-oss"));
    QCOMPARE(md["gpt-oss.block_count"].toInt(), 6);
    QCOMPARE(md["gpt-oss.embedding_length"].toInt(), 192);
    QCOMPARE(md["gpt-oss.expert_count"].toInt(), 16);
    QCOMPARE(md["gpt-oss.attention.sliding_window"].toInt(), 16);
    QCOMPARE(md["gpt-oss.rope.scaling.type"].toString(), QString("yarn"));
    // Names and types llama.cpp expects for gpt-oss.
    QVERIFY(ours.find_tensor("blk.5.ffn_gate_exps.weight"));
    QCOMPARE(ours.tensor("blk.5.ffn_gate_exps.weight").dtype, DType::MXFP4);
    QCOMPARE(ours.tensor("blk.5.ffn_gate_exps.weight").shape, (std::vector<std::uint64_t>{16, 96, 192}));
    QCOMPARE(ours.tensor("blk.0.attn_sinks.weight").dtype, DType::F32);
    QCOMPARE(ours.tensor("blk.0.ffn_gate_inp.weight").dtype, DType::F32);
  }

  // The nibble repack from the Hugging Face order to ggml's, on a known block.
  void mxfp4_repack_order() {
    std::uint8_t codes[16], scale = 130, out[17];
    for (int k = 0; k < 16; ++k) codes[k] = static_cast<std::uint8_t>((2 * k) | ((2 * k + 1) << 4));  // element e has code e % 16
    repack_mxfp4_row_hf_to_ggml(codes, &scale, 32, out);
    QCOMPARE(out[0], scale);
    for (int j = 0; j < 16; ++j) {
      QCOMPARE(out[1 + j] & 15, j % 16);         // element j
      QCOMPARE(out[1 + j] >> 4, (j + 16) % 16);  // element j + 16
    }
  }
};

QTEST_APPLESS_MAIN(TestGgufFormat)
#include "test_gguf_format.moc"

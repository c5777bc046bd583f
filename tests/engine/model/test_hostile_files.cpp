// Truncated, malformed and hostile model files: every one is refused with an
// ossdesk::Error that names the file and what was wrong, never a crash, a
// hang or a huge allocation. Run under ASan/UBSan (OSSDESK_SANITIZE=ON) too.
#include <QtTest>
#include <cstring>
#include <random>

#include "golden_fixture.h"
#include "model/convert.h"
#include "model/gguf.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "ossdesk/error.h"
#include "scratch_dir.h"

using namespace ossdesk;
namespace fs = std::filesystem;

namespace {

// Expects Model::open(path) to throw an ossdesk::Error whose message contains every `needle`.
void expect_refused(const fs::path& path, std::initializer_list<const char*> needles) {
  try {
    Model::open(path.string());
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const char* n : needles)
      QVERIFY2(msg.find(n) != std::string::npos, qPrintable(QString("'%1' not in: %2").arg(n, QString::fromStdString(msg))));
    return;
  }
  QFAIL(qPrintable(QString("accepted: ") + QString::fromStdString(path.string())));
}

// A safetensors file from a raw JSON header and data bytes.
void write_safetensors(const fs::path& p, const std::string& header, std::size_t data_bytes) {
  std::vector<char> out(8);
  const std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 0);
  test::write_bytes(p, out);
}

fs::path hf_dir_with(const std::string& name, const std::function<void(const fs::path&)>& write_model) {
  const fs::path dir = test::scratch_dir("hostile/" + name);
  fs::copy_file(fs::path(OSSDESK_TEST_DATA_DIR) / "golden/tiny-a/config.json", dir / "config.json");
  write_model(dir / "model.safetensors");
  return dir;
}

// Little-endian GGUF builder for headers no writer would produce.
struct RawGguf {
  std::vector<char> b;
  template <typename T>
  RawGguf& le(T v) {
    char tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof(T));
    b.insert(b.end(), tmp, tmp + sizeof(T));
    return *this;
  }
  RawGguf& str(const std::string& s) {
    le<std::uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  RawGguf& header(std::uint64_t tensors, std::uint64_t kvs) {
    b.insert(b.end(), {'G', 'G', 'U', 'F'});
    return le<std::uint32_t>(3).le<std::uint64_t>(tensors).le<std::uint64_t>(kvs);
  }
};

fs::path converted_tiny_gguf() {
  const fs::path out = fs::path(OSSDESK_TEST_WORK_DIR) / "hostile-base.gguf";
  if (!fs::exists(out)) {
    auto m = Model::open(std::string(OSSDESK_TEST_DATA_DIR) + "/golden/tiny-a");
    convert_to_gguf(*m, out.string());
  }
  return out;
}

}  // namespace

class TestHostileFiles : public QObject {
  Q_OBJECT

 private slots:
  void missing_file() { expect_refused("/nonexistent/model.gguf", {"/nonexistent/model.gguf"}); }

  void safetensors_shorter_than_its_header_size() {
    auto dir = hf_dir_with("short", [](const fs::path& p) { test::write_bytes(p, "abc", 3); });
    expect_refused(dir, {"model.safetensors", "8-byte header"});
  }

  void safetensors_header_size_past_end() {
    auto dir = hf_dir_with("header-past-end", [](const fs::path& p) {
      std::vector<char> b(16, 0);
      const std::uint64_t n = 1ull << 40;
      std::memcpy(b.data(), &n, 8);
      test::write_bytes(p, b);
    });
    expect_refused(dir, {"model.safetensors", "past the end"});
  }

  void safetensors_header_not_json() {
    auto dir = hf_dir_with("not-json", [](const fs::path& p) { write_safetensors(p, "{\"a\": [1, 2", 0); });
    expect_refused(dir, {"model.safetensors", "not valid JSON"});
  }

  // Printing a bad shape entry dump()s it, which recursed once per level: a
  // 2 MB header nesting a million arrays crashed with a stack overflow.
  void json_nested_too_deep_is_refused() {
    const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
    auto header = hf_dir_with("deep-header", [&](const fs::path& p) {
      write_safetensors(p, "{\"x\": {\"dtype\": \"F32\", \"shape\": [" + deep + "], \"data_offsets\": [0, 4]}}", 4);
    });
    expect_refused(header, {"model.safetensors: safetensors header", "nested more than 127 levels deep"});

    auto config = test::scratch_dir("hostile/deep-config");
    fs::copy_file(fs::path(OSSDESK_TEST_DATA_DIR) / "golden/tiny-a/model.safetensors", config / "model.safetensors");
    const std::string text = "{\"model_type\": \"gpt_oss\", \"extra\": " + deep + "}";
    test::write_bytes(config / "config.json", text.data(), text.size());
    expect_refused(config, {"config.json", "nested more than 127 levels deep"});

    auto index = hf_dir_with("deep-index", [](const fs::path&) {});
    const std::string index_text = "{\"weight_map\": " + deep + "}";
    test::write_bytes(index / "model.safetensors.index.json", index_text.data(), index_text.size());
    expect_refused(index / "model.safetensors.index.json", {"model.safetensors.index.json", "nested more than 127 levels deep"});
  }

  void safetensors_unknown_dtype() {
    auto dir = hf_dir_with("dtype", [](const fs::path& p) {
      write_safetensors(p, "{\"x\": {\"dtype\": \"F64\", \"shape\": [2], \"data_offsets\": [0, 16]}}", 16);
    });
    expect_refused(dir, {"'x'", "F64"});
  }

  void safetensors_shape_product_overflows() {
    auto dir = hf_dir_with("overflow", [](const fs::path& p) {
      write_safetensors(p, "{\"x\": {\"dtype\": \"BF16\", \"shape\": [4294967296, 4294967296, 4096], \"data_offsets\": [0, 0]}}", 0);
    });
    expect_refused(dir, {"'x'", "overflows"});
  }

  void safetensors_offsets_outside_file() {
    auto dir = hf_dir_with("offsets", [](const fs::path& p) {
      write_safetensors(p, "{\"x\": {\"dtype\": \"BF16\", \"shape\": [4], \"data_offsets\": [1000, 1008]}}", 8);
    });
    expect_refused(dir, {"'x'", "outside the data section"});
  }

  void safetensors_size_disagrees_with_shape() {
    auto dir = hf_dir_with("size", [](const fs::path& p) {
      write_safetensors(p, "{\"x\": {\"dtype\": \"BF16\", \"shape\": [4], \"data_offsets\": [0, 6]}}", 8);
    });
    expect_refused(dir, {"'x'", "needs 8"});
  }

  void safetensors_negative_offset() {
    auto dir = hf_dir_with("negative", [](const fs::path& p) {
      write_safetensors(p, "{\"x\": {\"dtype\": \"BF16\", \"shape\": [4], \"data_offsets\": [-8, 0]}}", 8);
    });
    expect_refused(dir, {"'x'", "non-negative"});
  }

  void truncated_checkpoint() {
    const fs::path src = fs::path(OSSDESK_TEST_DATA_DIR) / "golden/tiny-a/model.safetensors";
    const auto bytes = test::read_bytes(src);
    for (double keep : {0.999, 0.5, 0.01}) {
      auto dir = hf_dir_with("truncated", [&](const fs::path& p) {
        test::write_bytes(p, bytes.data(), static_cast<std::size_t>(bytes.size() * keep));
      });
      expect_refused(dir, {"model.safetensors"});
    }
  }

  // A valid file whose tensors do not fit the config: wrong shape, wrong type, missing.
  void checkpoint_disagrees_with_config() {
    const fs::path golden = fs::path(OSSDESK_TEST_DATA_DIR) / "golden/tiny-a";
    SafetensorsFile src((golden / "model.safetensors").string());
    auto rewrite = [&](const std::string& name, const std::function<void(SafetensorsEntry&)>& change, bool drop) {
      return hf_dir_with("mismatch-" + name, [&](const fs::path& p) {
        std::vector<SafetensorsEntry> entries;
        std::vector<const TensorView*> views;
        for (const auto& [n, v] : src.tensors()) {
          if (n == name && drop) continue;
          SafetensorsEntry e{n, v.dtype, v.shape, v.nbytes};
          if (n == name) change(e);
          entries.push_back(e);
          views.push_back(&v);
        }
        SafetensorsWriter w(p.string(), entries);
        for (std::size_t i = 0; i < views.size(); ++i) {
          std::vector<std::uint8_t> data(entries[i].nbytes, 0);
          std::memcpy(data.data(), views[i]->data, std::min<std::size_t>(data.size(), views[i]->nbytes));
          w.write(data.data(), data.size());
        }
        w.finish();
      });
    };
    const std::string q = "model.layers.1.self_attn.q_proj.weight";
    expect_refused(rewrite(q, [](SafetensorsEntry& e) { std::swap(e.shape[0], e.shape[1]); }, false),
                   {q.c_str(), "shape [128, 512], expected [512, 128]"});
    const std::string r = "model.layers.0.mlp.router.weight";
    expect_refused(rewrite(r, [](SafetensorsEntry& e) { e.dtype = DType::I8; e.nbytes /= 2; }, false), {r.c_str(), "I8"});
    const std::string s = "model.layers.2.self_attn.sinks";
    expect_refused(rewrite(s, [](SafetensorsEntry&) {}, true), {s.c_str(), "missing"});
  }

  void config_is_checked() {
    auto dir = test::scratch_dir("hostile/config");
    fs::copy_file(fs::path(OSSDESK_TEST_DATA_DIR) / "golden/tiny-a/model.safetensors", dir / "model.safetensors");
    auto write_config = [&](const std::string& text) { test::write_bytes(dir / "config.json", text.data(), text.size()); };
    write_config("{\"model_type\": \"llama\", \"hidden_size\": 128}");
    expect_refused(dir, {"config.json", "llama"});
    write_config("{\"model_type\": \"gpt_oss\", \"hidden_size\": 128}");
    expect_refused(dir, {"config.json", "intermediate_size"});
    write_config("{\"model_type\": \"gpt_oss\", \"hidden_size\": 128, \"intermediate_size\": 128, \"num_hidden_layers\": 4,\n"
      "      \"num_attention_heads\": 7, \"num_key_value_heads\": 2, \"num_local_experts\": 8, \"vocab_size\": 1024}");
    expect_refused(dir, {"config.json", "not a multiple"});
    write_config("{nope");
    expect_refused(dir, {"config.json", "not valid JSON"});
  }

  void gguf_bad_magic() {
    auto dir = test::scratch_dir("hostile/gguf");
    test::write_bytes(dir / "x.gguf", "GGML\3\0\0\0", 8);
    expect_refused(dir / "x.gguf", {"x.gguf", "magic"});
  }

  void gguf_truncated_anywhere() {
    const auto bytes = test::read_bytes(converted_tiny_gguf());
    auto dir = test::scratch_dir("hostile/gguf-truncated");
    for (std::size_t cut : {std::size_t{3}, std::size_t{20}, std::size_t{100}, std::size_t{5000}, bytes.size() / 2, bytes.size() - 1}) {
      test::write_bytes(dir / "t.gguf", bytes.data(), cut);
      expect_refused(dir / "t.gguf", {"t.gguf"});
    }
  }

  void gguf_counts_past_end_of_file() {
    auto dir = test::scratch_dir("hostile/gguf-counts");
    RawGguf a;
    a.header(0, 1).str("k").le<std::uint32_t>(9).le<std::uint32_t>(4).le<std::uint64_t>(1ull << 60);
    test::write_bytes(dir / "array.gguf", a.b);
    expect_refused(dir / "array.gguf", {"array.gguf", "'k'", "past the end"});
    RawGguf s;
    s.header(0, 1).str("k").le<std::uint32_t>(8).le<std::uint64_t>(1ull << 62);
    test::write_bytes(dir / "string.gguf", s.b);
    expect_refused(dir / "string.gguf", {"string.gguf"});
    RawGguf t;
    t.header(1ull << 50, 0);
    test::write_bytes(dir / "tensors.gguf", t.b);
    expect_refused(dir / "tensors.gguf", {"tensors.gguf", "tensor count"});
  }

  // Counts that fit in the file may still ask for far more memory than it
  // holds (~80 bytes a value in memory for 1 byte of u8 in the file): the
  // metadata as a whole is capped at 4194304 values, tensor infos at 65536.
  void gguf_counts_that_would_need_far_more_memory_than_the_file() {
    auto dir = test::scratch_dir("hostile/gguf-budget");
    RawGguf one;
    one.header(0, 1).str("big").le<std::uint32_t>(9).le<std::uint32_t>(0).le<std::uint64_t>(5'000'000);
    one.b.resize(one.b.size() + 5'000'000, 0);
    test::write_bytes(dir / "one.gguf", one.b);
    expect_refused(dir / "one.gguf", {"one.gguf", "'big'", "array of 5000000 elements", "more than 4194304 values"});
    // Under the cap one by one, over it together.
    RawGguf two;
    two.header(0, 2);
    for (const char* key : {"a", "b"}) {
      two.str(key).le<std::uint32_t>(9).le<std::uint32_t>(0).le<std::uint64_t>(3'000'000);
      two.b.resize(two.b.size() + 3'000'000, 0);
    }
    test::write_bytes(dir / "two.gguf", two.b);
    expect_refused(dir / "two.gguf", {"two.gguf", "'b'", "more than 4194304 values"});
    RawGguf tensors;
    tensors.header(70'000, 0);
    tensors.b.resize(tensors.b.size() + 70'000 * 40, 0);
    test::write_bytes(dir / "tensors.gguf", tensors.b);
    expect_refused(dir / "tensors.gguf", {"tensors.gguf", "tensor count 70000", "65536"});
  }

  void gguf_bad_tensor_infos() {
    auto dir = test::scratch_dir("hostile/gguf-tensors");
    auto one_tensor = [&](const char* file, std::uint32_t dims, std::vector<std::uint64_t> ne, std::uint32_t type,
                          std::uint64_t offset, std::size_t data) {
      RawGguf g;
      g.header(1, 1).str("general.architecture").le<std::uint32_t>(8).str("gpt-oss");
      g.str("blk.0.attn_q.weight").le<std::uint32_t>(dims);
      for (auto d : ne) g.le<std::uint64_t>(d);
      g.le<std::uint32_t>(type).le<std::uint64_t>(offset);
      while (g.b.size() % 32) g.b.push_back(0);
      g.b.resize(g.b.size() + data, 0);
      test::write_bytes(dir / file, g.b);
      return dir / file;
    };
    expect_refused(one_tensor("dims.gguf", 5, {1, 1, 1, 1, 1}, 0, 0, 4), {"attn_q", "5 dimensions"});
    expect_refused(one_tensor("type.gguf", 2, {32, 2}, 12, 0, 1024), {"attn_q", "Q4_K", "not supported"});
    expect_refused(one_tensor("offset.gguf", 1, {8}, 0, 64, 32), {"attn_q", "outside the data section"});
    expect_refused(one_tensor("unaligned.gguf", 1, {8}, 0, 3, 64), {"attn_q", "not aligned"});
    expect_refused(one_tensor("blocks.gguf", 1, {33}, 8, 0, 64), {"attn_q", "blocks"});
    expect_refused(one_tensor("overflow.gguf", 3, {1ull << 40, 1ull << 40, 1ull << 40}, 0, 0, 64), {"attn_q", "overflows"});
  }

  void gguf_wrong_architecture_and_missing_tensor() {
    auto dir = test::scratch_dir("hostile/gguf-arch");
    GgufWriter w;
    w.set("general.architecture", GgufValue::string("llama"));
    w.begin((dir / "llama.gguf").string());
    w.finish();
    expect_refused(dir / "llama.gguf", {"llama.gguf", "\"llama\"", "gpt-oss"});
    // Right architecture and hyperparameters, but no weights.
    GgufWriter empty;
    empty.set("general.architecture", GgufValue::string("gpt-oss"));
    for (const char* key : {"gpt-oss.embedding_length", "gpt-oss.feed_forward_length", "gpt-oss.expert_feed_forward_length"})
      empty.set(key, GgufValue::u32(128));
    empty.set("gpt-oss.block_count", GgufValue::u32(2));
    empty.set("gpt-oss.attention.head_count", GgufValue::u32(2));
    empty.set("gpt-oss.attention.head_count_kv", GgufValue::u32(1));
    empty.set("gpt-oss.expert_count", GgufValue::u32(4));
    empty.set("gpt-oss.expert_used_count", GgufValue::u32(2));
    empty.begin((dir / "empty.gguf").string());
    empty.finish();
    expect_refused(dir / "empty.gguf", {"empty.gguf", "token_embd.weight", "missing"});
  }

  // Random byte flips in the header region of a valid file: each variant loads
  // or is refused with an Error; nothing else is acceptable.
  void gguf_header_flips() {
    const auto bytes = test::read_bytes(converted_tiny_gguf());
    std::mt19937 rng(7);
    auto dir = test::scratch_dir("hostile/gguf-flips");
    const std::size_t region = std::min<std::size_t>(bytes.size(), 64 * 1024);
    int refused = 0, loaded = 0;
    for (int i = 0; i < 300; ++i) {
      auto mutated = bytes;
      for (int k = 0; k < 4; ++k) mutated[rng() % region] = static_cast<char>(rng());
      test::write_bytes(dir / "m.gguf", mutated);
      try {
        Model::open((dir / "m.gguf").string());
        ++loaded;
      } catch (const Error&) {
        ++refused;
      }
    }
    qInfo("300 mutated headers: %d refused, %d loaded", refused, loaded);
    QCOMPARE(refused + loaded, 300);
  }
};

QTEST_APPLESS_MAIN(TestHostileFiles)
#include "test_hostile_files.moc"

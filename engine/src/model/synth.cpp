#include "model/synth.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "model/gguf.h"
#include "model/gpt_oss_layout.h"
#include "model/safetensors.h"
#include "model/tokenizer_export.h"
#include "tokenizer/tokenizer.h"
#include "ossdesk/error.h"
#include "util/half.h"

namespace ossdesk {
namespace fs = std::filesystem;

namespace {

class SplitMix {
 public:
  explicit SplitMix(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform(float a) {  // in [-a, a)
    return (static_cast<float>(next() >> 40) * 0x1.0p-24f * 2.0f - 1.0f) * a;
  }

 private:
  std::uint64_t s_;
};

// Values of a tensor part: uniform in [center - a, center + a).
struct ValueRange {
  float center;
  float a;
};

ValueRange range_of(TensorPart part, const ModelConfig& c) {
  const float h = static_cast<float>(c.hidden_size), q = static_cast<float>(c.q_dim());
  switch (part) {
    case TensorPart::Embedding: return {0, 1.0f};
    case TensorPart::Unembedding: return {0, std::sqrt(3.0f / h)};
    case TensorPart::FinalNorm:
    case TensorPart::AttnNorm:
    case TensorPart::MlpNorm: return {1.0f, 0.1f};
    case TensorPart::Wq:
    case TensorPart::Wk:
    case TensorPart::Wv:
    case TensorPart::Router: return {0, std::sqrt(3.0f / h)};
    case TensorPart::Wo: return {0, std::sqrt(3.0f / q)};
    case TensorPart::Sinks: return {0, 1.0f};
    default: return {0, 0.05f};  // biases
  }
}

// E8M0 exponent that makes random FP4 codes (RMS ~2.93) have an RMS of 1/sqrt(fan_in).
std::uint8_t mxfp4_exponent(int fan_in) {
  const double target = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return static_cast<std::uint8_t>(127 + static_cast<int>(std::lround(std::log2(target / 2.93))));
}

// Streams the bytes of one tensor into `sink` in chunks.
void generate(const PlannedTensor& t, const ModelConfig& c, SplitMix& rng,
              const std::function<void(const void*, std::size_t)>& sink) {
  constexpr std::size_t kChunk = 8u << 20;
  std::vector<std::uint8_t> buf;
  buf.reserve(kChunk + 64);
  const std::uint64_t total = t.nbytes();
  const ValueRange vr = range_of(t.part, c);
  const int fan_in = (t.part == TensorPart::DownBlocks || t.part == TensorPart::DownScales || t.part == TensorPart::DownExps)
                         ? c.intermediate_size
                         : c.hidden_size;
  const std::uint8_t exp = mxfp4_exponent(fan_in);
  auto scale_byte = [&] { return static_cast<std::uint8_t>(exp - (rng.next() & 1)); };
  std::uint64_t done = 0;
  while (done < total) {
    buf.clear();
    while (buf.size() < kChunk && done + buf.size() < total) {
      switch (t.dtype) {
        case DType::BF16: {
          const std::uint16_t v = f32_to_bf16(vr.center + rng.uniform(vr.a));
          buf.push_back(static_cast<std::uint8_t>(v));
          buf.push_back(static_cast<std::uint8_t>(v >> 8));
          break;
        }
        case DType::F32: {
          const float f = vr.center + rng.uniform(vr.a);
          const auto* p = reinterpret_cast<const std::uint8_t*>(&f);
          buf.insert(buf.end(), p, p + 4);
          break;
        }
        case DType::F16: {
          const std::uint16_t v = f32_to_f16(vr.center + rng.uniform(vr.a));
          buf.push_back(static_cast<std::uint8_t>(v));
          buf.push_back(static_cast<std::uint8_t>(v >> 8));
          break;
        }
        case DType::Q8_0: {  // uniform int8 codes with a scale that spans the range
          const std::uint16_t d = f32_to_f16(vr.a / 127.0f);
          buf.push_back(static_cast<std::uint8_t>(d));
          buf.push_back(static_cast<std::uint8_t>(d >> 8));
          for (int i = 0; i < 4; ++i) {
            std::uint64_t r = rng.next();
            for (int j = 0; j < 8; ++j, r >>= 8) buf.push_back(static_cast<std::uint8_t>(static_cast<int>(r % 255) - 127));
          }
          break;
        }
        case DType::MXFP4: {  // ggml block: scale byte, then 16 bytes of codes
          buf.push_back(scale_byte());
          const std::uint64_t a = rng.next(), b = rng.next();
          for (int j = 0; j < 8; ++j) buf.push_back(static_cast<std::uint8_t>(a >> (8 * j)));
          for (int j = 0; j < 8; ++j) buf.push_back(static_cast<std::uint8_t>(b >> (8 * j)));
          break;
        }
        case DType::U8: {
          if (t.part == TensorPart::GateUpScales || t.part == TensorPart::DownScales) {
            buf.push_back(scale_byte());
          } else {  // FP4 code bytes
            const std::uint64_t r = rng.next();
            for (int j = 0; j < 8 && done + buf.size() < total; ++j) buf.push_back(static_cast<std::uint8_t>(r >> (8 * j)));
          }
          break;
        }
        default: fail(ErrorKind::Internal, "synth: no generator for " + std::string(dtype_name(t.dtype)));
      }
    }
    sink(buf.data(), buf.size());
    done += buf.size();
  }
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) fail(ErrorKind::Io, path.string() + ": write failed (disk full?)");
}

std::uint64_t synth_gguf(const SynthOptions& o, SplitMix& rng) {
  const auto plan = plan_gguf_tensors(o.config, o.gguf_dense);
  GgufWriter w;
  write_gguf_model_metadata(w, o.config, "gpt-oss synthetic (random weights, seed " + std::to_string(o.seed) + ")");
  if (o.tokenizer) write_gguf_tokenizer(w, *o.tokenizer);
  std::uint64_t total = 0;
  for (const auto& t : plan) {
    w.add_tensor(t.name, t.dtype, t.shape);
    total += t.nbytes();
  }
  w.begin(o.out);
  std::uint64_t done = 0;
  for (const auto& t : plan) {
    generate(t, o.config, rng, [&](const void* p, std::size_t n) {
      w.write(p, n);
      done += n;
      if (o.progress) o.progress(done, total);
    });
  }
  w.finish();
  return fs::file_size(o.out);
}

std::uint64_t synth_hf(const SynthOptions& o, SplitMix& rng) {
  const fs::path dir(o.out);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(ErrorKind::Io, dir.string() + ": cannot create folder: " + ec.message());
  const auto plan = plan_hf_tensors(o.config);
  // Group tensors into shards of about shard_bytes, in plan order.
  std::vector<std::vector<const PlannedTensor*>> shards(1);
  std::uint64_t in_shard = 0, total = 0;
  for (const auto& t : plan) {
    if (in_shard > 0 && in_shard + t.nbytes() > o.shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(&t);
    in_shard += t.nbytes();
    total += t.nbytes();
  }
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  std::uint64_t done = 0, written = 0;
  for (std::size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    if (shards.size() == 1)
      std::snprintf(name, sizeof name, "model.safetensors");
    else
      std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    std::vector<SafetensorsEntry> entries;
    for (const auto* t : shards[s]) {
      entries.push_back({t->name, t->dtype, t->shape, t->nbytes()});
      weight_map[t->name] = name;
    }
    SafetensorsWriter writer((dir / name).string(), entries, {{"format", "pt"}});
    for (const auto* t : shards[s]) {
      generate(*t, o.config, rng, [&](const void* p, std::size_t n) {
        writer.write(p, n);
        done += n;
        if (o.progress) o.progress(done, total);
      });
    }
    writer.finish();
    written += fs::file_size(dir / name);
  }
  if (shards.size() > 1) {
    nlohmann::ordered_json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    write_text(dir / "model.safetensors.index.json", index.dump(2) + "\n");
  }
  write_text(dir / "config.json", hf_config_json(o.config));
  if (o.tokenizer) write_text(dir / "tokenizer.json", hf_tokenizer_json(*o.tokenizer));
  return written;
}

}  // namespace

std::uint64_t synth_model(const SynthOptions& o) {
  o.config.validate("synth preset");
  if (o.tokenizer && o.tokenizer->vocab_size() != static_cast<std::size_t>(o.config.vocab_size))
    fail_input("synth: the tokenizer has " + std::to_string(o.tokenizer->vocab_size()) + " tokens, the model " +
               std::to_string(o.config.vocab_size));
  SplitMix rng(o.seed * 0x2545f4914f6cdd1dull + 1);
  return o.gguf ? synth_gguf(o, rng) : synth_hf(o, rng);
}

}  // namespace ossdesk

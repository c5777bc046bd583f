#include "model/model.h"

#include <filesystem>

#include "model/gguf.h"
#include "model/safetensors.h"
#include "ossdesk/error.h"
#include "tokenizer/tokenizer.h"
#include "util/mapped_file.h"

namespace ossdesk {
namespace fs = std::filesystem;

Model::~Model() = default;

std::unique_ptr<Model> Model::open(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(ErrorKind::Io, path + ": no such file or folder");
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  const fs::path p(path);
  if (!fs::is_directory(p, ec) && p.extension() == ".gguf") {
    m->format_ = ModelFormat::Gguf;
    m->gguf_ = std::make_unique<GgufFile>(path);
    m->config_ = config_from_gguf(*m->gguf_);
    m->bind_gguf();
    return m;
  }
  if (!fs::is_directory(p, ec) && p.extension() != ".safetensors" && p.extension() != ".json") {
    // Sniff: a GGUF file under another name is still a GGUF file.
    MappedFile probe(path);
    if (probe.size() >= 4 && std::string_view(reinterpret_cast<const char*>(probe.data()), 4) == "GGUF") {
      m->format_ = ModelFormat::Gguf;
      m->gguf_ = std::make_unique<GgufFile>(path);
      m->config_ = config_from_gguf(*m->gguf_);
      m->bind_gguf();
      return m;
    }
    fail(ErrorKind::Unsupported, path + ": not a model (expected a .gguf file, a .safetensors file or a Hugging Face folder)");
  }
  const fs::path dir = fs::is_directory(p, ec) ? p : p.parent_path();
  const fs::path config_path = dir / "config.json";
  if (!fs::exists(config_path, ec)) fail_input(config_path.string() + ": missing (a Hugging Face checkpoint needs config.json)");
  m->format_ = ModelFormat::HuggingFace;
  m->config_ = config_from_hf_json(read_text_file(config_path.string()), config_path.string());
  m->safetensors_ = std::make_unique<SafetensorsArchive>(path);
  m->bind_hf();
  const fs::path tok = dir / "tokenizer.json";
  if (fs::exists(tok, ec)) {
    try {
      m->tokenizer_ = Tokenizer::from_hf_tokenizer_json(tok.string());
    } catch (const Error& e) {
      m->tokenizer_problem_ = e.what();
    }
  } else {
    m->tokenizer_problem_ = tok.string() + ": missing (pass --tokenizer or use token ids)";
  }
  return m;
}

std::vector<TensorView> Model::tensors() const {
  if (gguf_) return gguf_->tensors();
  std::vector<TensorView> out;
  for (const auto& [name, view] : safetensors_->tensors()) out.push_back(view);
  return out;
}

std::uint64_t Model::file_bytes() const { return gguf_ ? gguf_->file_size() : safetensors_->total_bytes(); }

MemoryEstimate estimate_memory(const ModelConfig& c, const ModelWeights& w, int context, int kv_bytes_per_value,
                               int sliding_ring_extra) {
  MemoryEstimate e;
  auto m = [](const MatrixView& v) { return v.bytes_per_row() * static_cast<std::uint64_t>(v.rows); };
  e.weights = m(w.embedding) + m(w.unembedding);
  for (const auto& l : w.layers) {
    e.weights += m(l.wq) + m(l.wk) + m(l.wv) + m(l.wo) + m(l.router);
    e.weights += static_cast<std::uint64_t>(l.gate.count) * (m(l.gate.first) + m(l.up.first) + m(l.down.first));
  }
  for (int i = 0; i < c.num_layers; ++i) {
    const int positions = c.layer_is_sliding[i] ? std::min(context, c.sliding_window + sliding_ring_extra) : context;
    e.kv_cache += 2ull * static_cast<std::uint64_t>(positions) * static_cast<std::uint64_t>(c.kv_dim()) *
                  static_cast<std::uint64_t>(kv_bytes_per_value);
  }
  e.scratch = static_cast<std::uint64_t>(c.vocab_size) * 4 * 2 + static_cast<std::uint64_t>(c.hidden_size) * 64 * 4;
  return e;
}

}  // namespace ossdesk

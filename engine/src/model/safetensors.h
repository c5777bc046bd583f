// safetensors reader: one file, or a sharded checkpoint described by
// `model.safetensors.index.json`. Files are memory-mapped; the JSON header and
// every tensor's offsets, dtype and shape are checked against the file before
// any view is handed out.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/tensor.h"
#include "util/mapped_file.h"

namespace ossdesk {

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // throws Error(BadInput/Io)
  const std::string& path() const { return file_->path(); }
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::uint8_t* file_data() const { return file_->data(); }  // the whole file, mapped; views point into it
  std::uint64_t file_size() const { return file_->size(); }

 private:
  std::unique_ptr<MappedFile> file_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of a checkpoint, across its shards.
class SafetensorsArchive {
 public:
  // `path`: a .safetensors file, a model.safetensors.index.json, or a directory
  // holding either.
  explicit SafetensorsArchive(const std::string& path);
  const TensorView* find(const std::string& name) const;
  const TensorView& get(const std::string& name) const;  // throws naming the tensor
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::vector<std::string>& files() const { return files_; }
  const std::vector<std::unique_ptr<SafetensorsFile>>& shards() const { return shards_; }
  std::uint64_t total_bytes() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::map<std::string, TensorView> tensors_;
  std::vector<std::string> files_;
};

// Writer used by `logits --out` and `synth --format hf`: tensors are laid out
// in the order given, 8-byte aligned header, data written streaming.
struct SafetensorsEntry {
  std::string name;
  DType dtype;
  std::vector<std::uint64_t> shape;
  std::uint64_t nbytes;
};
class SafetensorsWriter {
 public:
  SafetensorsWriter(const std::string& path, std::vector<SafetensorsEntry> entries,
                    const std::map<std::string, std::string>& metadata = {});
  ~SafetensorsWriter();
  // Append the bytes of the next tensor (in entry order); may be called in pieces.
  void write(const void* data, std::size_t bytes);
  void finish();  // checks every byte was written, flushes, closes; throws on disk errors

 private:
  std::string path_;
  std::FILE* out_ = nullptr;
  std::uint64_t expected_ = 0;
  std::uint64_t written_ = 0;
};

}  // namespace ossdesk

// GGUF v3 (llama.cpp's model file): metadata key/values of every type, tensor
// infos, alignment, and the tensor data memory-mapped in place.
//
// Reading never trusts a count or offset from the file: each is checked against
// the bytes that remain before anything is allocated or dereferenced.
// Shapes are reported outermost-first (the reverse of ggml's ne[] order) so
// they compare directly with safetensors shapes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/tensor.h"
#include "util/mapped_file.h"

namespace ossdesk {

enum class GgufType : std::uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
  String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* gguf_type_name(GgufType type);

class GgufValue {
 public:
  GgufValue() = default;
  static GgufValue u32(std::uint32_t v) { return scalar(GgufType::U32, v); }
  static GgufValue i32(std::int32_t v) { return signed_scalar(GgufType::I32, v); }
  static GgufValue u64(std::uint64_t v) { return scalar(GgufType::U64, v); }
  static GgufValue f32(float v) { GgufValue g; g.type_ = GgufType::F32; g.f_ = v; return g; }
  static GgufValue boolean(bool v) { return scalar(GgufType::Bool, v ? 1 : 0); }
  static GgufValue string(std::string v) { GgufValue g; g.type_ = GgufType::String; g.s_ = std::move(v); return g; }
  static GgufValue array(GgufType elem, std::vector<GgufValue> items);
  static GgufValue scalar(GgufType type, std::uint64_t bits) { GgufValue g; g.type_ = type; g.u_ = bits; return g; }
  static GgufValue signed_scalar(GgufType type, std::int64_t v) { GgufValue g; g.type_ = type; g.i_ = v; g.u_ = static_cast<std::uint64_t>(v); return g; }
  static GgufValue floating(GgufType type, double v) { GgufValue g; g.type_ = type; g.f_ = v; return g; }

  GgufType type() const { return type_; }
  bool is_integer() const;
  bool is_float() const { return type_ == GgufType::F32 || type_ == GgufType::F64; }
  // Numeric accessors convert between integer and float types; strings/arrays throw.
  std::int64_t as_int(const std::string& key) const;
  double as_double(const std::string& key) const;
  const std::string& as_string(const std::string& key) const;
  const std::vector<GgufValue>& as_array(const std::string& key) const;
  GgufType array_type() const { return elem_type_; }
  std::string to_display() const;  // short, for `info`

 private:
  GgufType type_ = GgufType::U32;
  GgufType elem_type_ = GgufType::U8;
  std::uint64_t u_ = 0;
  std::int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<std::vector<GgufValue>> items_;
};

class GgufFile {
 public:
  explicit GgufFile(const std::string& path);  // throws Error naming the file and the key or tensor
  const std::string& path() const { return file_->path(); }
  std::uint32_t version() const { return version_; }
  std::uint64_t alignment() const { return alignment_; }
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  const std::vector<std::string>& metadata_order() const { return metadata_order_; }
  const GgufValue* find(const std::string& key) const;
  const GgufValue& get(const std::string& key) const;  // throws "missing key"
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* find_tensor(const std::string& name) const;
  const TensorView& tensor(const std::string& name) const;  // throws "missing tensor"
  std::uint64_t file_size() const { return file_->size(); }
  const std::uint8_t* file_data() const { return file_->data(); }  // the whole file, mapped; tensor views point into it

 private:
  std::unique_ptr<MappedFile> file_;
  std::uint32_t version_ = 0;
  std::uint64_t alignment_ = 32;
  std::map<std::string, GgufValue> metadata_;
  std::vector<std::string> metadata_order_;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::size_t> tensor_index_;
};

// Writes a GGUF v3 file: declare metadata and tensors, then stream the tensor
// bytes in declaration order.
class GgufWriter {
 public:
  explicit GgufWriter(std::uint32_t alignment = 32) : alignment_(alignment) {}
  ~GgufWriter();
  void set(const std::string& key, GgufValue value);
  // shape outermost-first, as everywhere else in the engine.
  void add_tensor(const std::string& name, DType dtype, std::vector<std::uint64_t> shape);
  void begin(const std::string& path);         // writes the header; throws Io
  void write(const void* data, std::size_t n);  // bytes of the current tensor (in pieces is fine)
  void finish();                               // pads, flushes, closes; throws Io on a short write

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    std::vector<std::uint64_t> shape;
    std::uint64_t nbytes;
    std::uint64_t offset;
  };
  void end_tensor_if_full();
  void put(const void* data, std::size_t n);

  std::uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<PendingTensor> tensors_;
  std::string path_;
  std::FILE* out_ = nullptr;
  std::size_t current_ = 0;
  std::uint64_t current_written_ = 0;
  std::uint64_t position_ = 0;
  std::uint64_t data_start_ = 0;
};

}  // namespace ossdesk

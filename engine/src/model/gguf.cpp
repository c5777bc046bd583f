#include "model/gguf.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "ossdesk/error.h"

namespace ossdesk {
namespace {

constexpr std::uint32_t kMaxDims = 4;         // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 4;
constexpr std::uint64_t kMaxStringBytes = 1u << 30;
// Counts checked only against the bytes left would still let a damaged count
// ask for far more memory than the file holds: a value in memory is ~80 bytes
// where the file spends 1 on a u8, and a tensor info ~130 where it spends 32.
// gpt-oss needs ~850,000 metadata values (tokenizer tokens, types, merges) and
// ~700 tensors (120b), so these bounds refuse only damaged or hostile files and
// keep what a refused file costs to ~350 MB at worst.
constexpr std::uint64_t kMaxMetadataValues = 1u << 22;
constexpr std::uint64_t kMaxTensors = 1u << 16;

std::string too_many_values_message() {
  return "the metadata holds more than " + std::to_string(kMaxMetadataValues) +
         " values (gpt-oss needs under 1 million); the file is damaged or not a model file";
}

std::size_t scalar_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::Bool: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    default: return 0;
  }
}

// A bounds-checked little-endian cursor over the mapped file.
class Cursor {
 public:
  Cursor(const std::uint8_t* data, std::uint64_t size, const std::string& path)
      : data_(data), size_(size), path_(path) {}

  std::uint64_t pos() const { return pos_; }
  std::uint64_t remaining() const { return size_ - pos_; }
  void need(std::uint64_t n, const std::string& what) const {
    if (n > remaining())
      fail_input(path_ + ": truncated GGUF: " + what + " needs " + std::to_string(n) + " bytes at offset " +
                 std::to_string(pos_) + ", only " + std::to_string(remaining()) + " remain");
  }
  std::uint64_t uint(std::size_t bytes, const std::string& what) {
    need(bytes, what);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(data_[pos_ + i]) << (8 * i);
    pos_ += bytes;
    return v;
  }
  std::uint32_t u32(const std::string& what) { return static_cast<std::uint32_t>(uint(4, what)); }
  std::uint64_t u64(const std::string& what) { return uint(8, what); }
  std::string str(const std::string& what) {
    const std::uint64_t len = u64(what + " length");
    if (len > kMaxStringBytes) fail_input(path_ + ": " + what + ": string length " + std::to_string(len) + " is not plausible");
    need(len, what);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return s;
  }

 private:
  const std::uint8_t* data_;
  std::uint64_t size_;
  const std::string& path_;
  std::uint64_t pos_ = 0;
};

// `values_left`: of kMaxMetadataValues, shared by the whole metadata section.
GgufValue read_value(Cursor& c, GgufType type, const std::string& key, const std::string& path, int depth,
                     std::uint64_t& values_left) {
  if (values_left == 0) fail_input(path + ": key '" + key + "': " + too_many_values_message());
  --values_left;
  switch (type) {
    case GgufType::U8: case GgufType::U16: case GgufType::U32: case GgufType::U64: case GgufType::Bool: {
      const std::uint64_t v = c.uint(scalar_size(type), key);
      if (type == GgufType::Bool && v > 1) fail_input(path + ": key '" + key + "': bool value " + std::to_string(v) + " is neither 0 nor 1");
      return GgufValue::scalar(type, v);
    }
    case GgufType::I8: { auto v = static_cast<std::int8_t>(c.uint(1, key)); return GgufValue::signed_scalar(type, v); }
    case GgufType::I16: { auto v = static_cast<std::int16_t>(c.uint(2, key)); return GgufValue::signed_scalar(type, v); }
    case GgufType::I32: { auto v = static_cast<std::int32_t>(c.uint(4, key)); return GgufValue::signed_scalar(type, v); }
    case GgufType::I64: { auto v = static_cast<std::int64_t>(c.uint(8, key)); return GgufValue::signed_scalar(type, v); }
    case GgufType::F32: {
      auto bits = static_cast<std::uint32_t>(c.uint(4, key));
      float f;
      std::memcpy(&f, &bits, 4);
      return GgufValue::floating(type, f);
    }
    case GgufType::F64: {
      auto bits = c.uint(8, key);
      double f;
      std::memcpy(&f, &bits, 8);
      return GgufValue::floating(type, f);
    }
    case GgufType::String: return GgufValue::string(c.str(key));
    case GgufType::Array: {
      if (depth >= kMaxArrayDepth) fail_input(path + ": key '" + key + "': arrays nested too deeply");
      const auto elem = static_cast<GgufType>(c.u32(key + " array type"));
      if (static_cast<std::uint32_t>(elem) > 12) fail_input(path + ": key '" + key + "': unknown array element type " + std::to_string(static_cast<std::uint32_t>(elem)));
      const std::uint64_t count = c.u64(key + " array length");
      // Every element takes at least one byte (strings eight), so a count past the
      // remaining bytes is a lie; checking it first bounds the allocation.
      const std::uint64_t min_elem = elem == GgufType::String ? 8 : elem == GgufType::Array ? 12 : scalar_size(elem);
      if (count > c.remaining() / std::max<std::uint64_t>(1, min_elem))
        fail_input(path + ": key '" + key + "': array of " + std::to_string(count) + " elements runs past the end of the file");
      if (count > values_left)
        fail_input(path + ": key '" + key + "': array of " + std::to_string(count) + " elements: " + too_many_values_message());
      std::vector<GgufValue> items;
      items.reserve(count);
      for (std::uint64_t i = 0; i < count; ++i) items.push_back(read_value(c, elem, key, path, depth + 1, values_left));
      return GgufValue::array(elem, std::move(items));
    }
  }
  fail_input(path + ": key '" + key + "': unknown value type " + std::to_string(static_cast<std::uint32_t>(type)));
}

}  // namespace

const char* gguf_type_name(GgufType type) {
  static const char* names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
  auto i = static_cast<std::uint32_t>(type);
  return i < 13 ? names[i] : "unknown";
}

GgufValue GgufValue::array(GgufType elem, std::vector<GgufValue> items) {
  GgufValue g;
  g.type_ = GgufType::Array;
  g.elem_type_ = elem;
  g.items_ = std::make_shared<std::vector<GgufValue>>(std::move(items));
  return g;
}

bool GgufValue::is_integer() const {
  switch (type_) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16: case GgufType::U32:
    case GgufType::I32: case GgufType::U64: case GgufType::I64: case GgufType::Bool: return true;
    default: return false;
  }
}

std::int64_t GgufValue::as_int(const std::string& key) const {
  if (is_float()) return static_cast<std::int64_t>(f_);
  if (!is_integer()) fail_input("key '" + key + "': expected a number, found " + gguf_type_name(type_));
  switch (type_) {
    case GgufType::I8: case GgufType::I16: case GgufType::I32: case GgufType::I64: return i_;
    default:
      if (u_ > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail_input("key '" + key + "': value " + std::to_string(u_) + " is out of range");
      return static_cast<std::int64_t>(u_);
  }
}

double GgufValue::as_double(const std::string& key) const {
  if (is_float()) return f_;
  return static_cast<double>(as_int(key));
}

const std::string& GgufValue::as_string(const std::string& key) const {
  if (type_ != GgufType::String) fail_input("key '" + key + "': expected a string, found " + gguf_type_name(type_));
  return s_;
}

const std::vector<GgufValue>& GgufValue::as_array(const std::string& key) const {
  if (type_ != GgufType::Array) fail_input("key '" + key + "': expected an array, found " + gguf_type_name(type_));
  return *items_;
}

std::string GgufValue::to_display() const {
  switch (type_) {
    case GgufType::String: return s_.size() > 60 ? "\"" + s_.substr(0, 57) + "...\"" : "\"" + s_ + "\"";
    case GgufType::Array: return std::string("[") + gguf_type_name(elem_type_) + " x " + std::to_string(items_->size()) + "]";
    case GgufType::F32: case GgufType::F64: { char b[32]; std::snprintf(b, sizeof b, "%g", f_); return b; }
    case GgufType::Bool: return u_ ? "true" : "false";
    case GgufType::I8: case GgufType::I16: case GgufType::I32: case GgufType::I64: return std::to_string(i_);
    default: return std::to_string(u_);
  }
}

GgufFile::GgufFile(const std::string& path) : file_(std::make_unique<MappedFile>(path)) {
  Cursor c(file_->data(), file_->size(), file_->path());
  c.need(4, "magic");
  if (std::memcmp(file_->data(), "GGUF", 4) != 0) fail_input(path + ": not a GGUF file (magic is not 'GGUF')");
  c.uint(4, "magic");
  version_ = c.u32("version");
  if (version_ != 3 && version_ != 2)
    fail(ErrorKind::Unsupported, path + ": GGUF version " + std::to_string(version_) + " is not supported (expected 3)");
  const std::uint64_t n_tensors = c.u64("tensor count");
  const std::uint64_t n_kv = c.u64("metadata count");
  // A tensor info is at least 8+4+8+4+8 bytes, a key/value at least 8+4+1.
  if (n_tensors > c.remaining() / 32) fail_input(path + ": tensor count " + std::to_string(n_tensors) + " runs past the end of the file");
  if (n_kv > c.remaining() / 13) fail_input(path + ": metadata count " + std::to_string(n_kv) + " runs past the end of the file");
  if (n_tensors > kMaxTensors)
    fail_input(path + ": tensor count " + std::to_string(n_tensors) + " is more than the " + std::to_string(kMaxTensors) +
               " this reader accepts (gpt-oss-120b has under 1000); the file is damaged");
  std::uint64_t values_left = kMaxMetadataValues;
  for (std::uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.str("metadata key #" + std::to_string(i));
    const auto type = static_cast<GgufType>(c.u32("type of key '" + key + "'"));
    if (static_cast<std::uint32_t>(type) > 12)
      fail_input(path + ": key '" + key + "': unknown value type " + std::to_string(static_cast<std::uint32_t>(type)));
    GgufValue value = read_value(c, type, key, path, 0, values_left);
    if (!metadata_.emplace(key, std::move(value)).second) fail_input(path + ": key '" + key + "' appears twice");
    metadata_order_.push_back(key);
  }
  if (const GgufValue* a = find("general.alignment")) {
    const std::int64_t al = a->as_int("general.alignment");
    if (al <= 0 || al > 65536 || (al & (al - 1)) != 0)
      fail_input(path + ": general.alignment " + std::to_string(al) + " is not a power of two");
    alignment_ = static_cast<std::uint64_t>(al);
  }
  struct Info {
    TensorView view;
    std::uint64_t offset;
    std::uint32_t ggml_type;
  };
  std::vector<Info> infos;
  infos.reserve(n_tensors);
  for (std::uint64_t i = 0; i < n_tensors; ++i) {
    Info info;
    info.view.name = c.str("tensor name #" + std::to_string(i));
    info.view.file = path;
    const std::string where = path + ": tensor '" + info.view.name + "'";
    const std::uint32_t n_dims = c.u32(where + " dims");
    if (n_dims == 0 || n_dims > kMaxDims) fail_input(where + ": " + std::to_string(n_dims) + " dimensions (expected 1 to 4)");
    std::vector<std::uint64_t> ne(n_dims);
    for (auto& d : ne) d = c.u64(where + " shape");
    info.view.shape.assign(ne.rbegin(), ne.rend());
    info.ggml_type = c.u32(where + " type");
    info.offset = c.u64(where + " offset");
    auto dtype = dtype_from_ggml(info.ggml_type);
    if (!dtype)
      fail(ErrorKind::Unsupported, where + ": tensor type " + ggml_type_name(info.ggml_type) +
                                       " is not supported (expected F32, F16, BF16, Q8_0 or MXFP4)");
    info.view.dtype = *dtype;
    std::uint64_t elements = 0;
    if (!checked_elements(info.view.shape, &elements))
      fail_input(where + ": shape " + shape_to_string(info.view.shape) + " overflows");
    if (ne[0] % dtype_traits(*dtype).block_elems != 0)
      fail_input(where + ": rows of " + std::to_string(ne[0]) + " elements are not a whole number of " +
                 dtype_name(*dtype) + " blocks of " + std::to_string(dtype_traits(*dtype).block_elems));
    auto bytes = dtype_bytes(*dtype, elements);
    if (!bytes) fail_input(where + ": shape " + shape_to_string(info.view.shape) + " overflows");
    info.view.nbytes = *bytes;
    if (info.offset % alignment_ != 0)
      fail_input(where + ": data offset " + std::to_string(info.offset) + " is not aligned to " + std::to_string(alignment_));
    if (!tensor_index_.emplace(info.view.name, infos.size()).second) fail_input(where + " appears twice");
    infos.push_back(std::move(info));
  }
  const std::uint64_t data_start = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
  if (data_start > file_->size() && n_tensors > 0)
    fail_input(path + ": truncated GGUF: the tensor data section (offset " + std::to_string(data_start) + ") is missing");
  const std::uint64_t data_size = file_->size() >= data_start ? file_->size() - data_start : 0;
  for (auto& info : infos) {
    if (info.offset > data_size || info.view.nbytes > data_size - info.offset)
      fail_input(path + ": tensor '" + info.view.name + "': data [" + std::to_string(info.offset) + ", +" +
                 std::to_string(info.view.nbytes) + ") lies outside the data section (" + std::to_string(data_size) +
                 " bytes; the file is truncated or the offset is wrong)");
    info.view.data = file_->data() + data_start + info.offset;
    tensors_.push_back(std::move(info.view));
  }
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufValue& GgufFile::get(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) fail_input(path() + ": metadata key '" + key + "' is missing");
  return *v;
}

const TensorView* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorView& GgufFile::tensor(const std::string& name) const {
  const TensorView* t = find_tensor(name);
  if (!t) fail_input(path() + ": tensor '" + name + "' is missing");
  return *t;
}

// ---------------------------------------------------------------- writer

GgufWriter::~GgufWriter() {
  if (out_) std::fclose(out_);
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& kv : kv_)
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, std::vector<std::uint64_t> shape) {
  std::uint64_t elements = 0;
  if (!checked_elements(shape, &elements)) fail(ErrorKind::Internal, "tensor '" + name + "': shape overflows");
  auto bytes = dtype_bytes(dtype, elements);
  if (!bytes || !dtype_to_ggml(dtype)) fail(ErrorKind::Internal, "tensor '" + name + "': cannot be written as " + dtype_name(dtype));
  std::uint64_t offset = 0;
  if (!tensors_.empty()) {
    const auto& last = tensors_.back();
    offset = (last.offset + last.nbytes + alignment_ - 1) / alignment_ * alignment_;
  }
  tensors_.push_back({name, dtype, std::move(shape), *bytes, offset});
}

void GgufWriter::put(const void* data, std::size_t n) {
  if (n && std::fwrite(data, 1, n, out_) != n) fail(ErrorKind::Io, path_ + ": write failed: " + std::strerror(errno));
  position_ += n;
}

namespace {
void put_value(std::string& buf, const GgufValue& v);
template <typename T>
void put_le(std::string& buf, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) buf.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
}
void put_str(std::string& buf, const std::string& s) {
  put_le<std::uint64_t>(buf, s.size());
  buf += s;
}
void put_payload(std::string& buf, GgufType type, const GgufValue& v) {
  switch (type) {
    case GgufType::U8: case GgufType::I8: case GgufType::Bool: put_le<std::uint8_t>(buf, static_cast<std::uint8_t>(v.as_int(""))); break;
    case GgufType::U16: case GgufType::I16: put_le<std::uint16_t>(buf, static_cast<std::uint16_t>(v.as_int(""))); break;
    case GgufType::U32: case GgufType::I32: put_le<std::uint32_t>(buf, static_cast<std::uint32_t>(v.as_int(""))); break;
    case GgufType::U64: case GgufType::I64: put_le<std::uint64_t>(buf, static_cast<std::uint64_t>(v.as_int(""))); break;
    case GgufType::F32: {
      float f = static_cast<float>(v.as_double(""));
      std::uint32_t bits;
      std::memcpy(&bits, &f, 4);
      put_le(buf, bits);
      break;
    }
    case GgufType::F64: {
      double f = v.as_double("");
      std::uint64_t bits;
      std::memcpy(&bits, &f, 8);
      put_le(buf, bits);
      break;
    }
    case GgufType::String: put_str(buf, v.as_string("")); break;
    case GgufType::Array:
      put_le<std::uint32_t>(buf, static_cast<std::uint32_t>(v.array_type()));
      put_le<std::uint64_t>(buf, v.as_array("").size());
      for (const auto& item : v.as_array("")) put_payload(buf, v.array_type(), item);
      break;
  }
}
void put_value(std::string& buf, const GgufValue& v) {
  put_le<std::uint32_t>(buf, static_cast<std::uint32_t>(v.type()));
  put_payload(buf, v.type(), v);
}
}  // namespace

void GgufWriter::begin(const std::string& path) {
  path_ = path;
  out_ = std::fopen(path.c_str(), "wb");
  if (!out_) fail(ErrorKind::Io, path + ": cannot create: " + std::strerror(errno));
  std::string head = "GGUF";
  put_le<std::uint32_t>(head, 3);
  put_le<std::uint64_t>(head, tensors_.size());
  const bool has_alignment = std::any_of(kv_.begin(), kv_.end(), [](const auto& kv) { return kv.first == "general.alignment"; });
  put_le<std::uint64_t>(head, kv_.size() + (alignment_ != 32 && !has_alignment ? 1 : 0));
  for (const auto& [key, value] : kv_) {
    put_str(head, key);
    put_value(head, value);
  }
  if (alignment_ != 32 && !has_alignment) {
    put_str(head, "general.alignment");
    put_value(head, GgufValue::u32(alignment_));
  }
  for (const auto& t : tensors_) {
    put_str(head, t.name);
    put_le<std::uint32_t>(head, static_cast<std::uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) put_le<std::uint64_t>(head, *it);
    put_le<std::uint32_t>(head, *dtype_to_ggml(t.dtype));
    put_le<std::uint64_t>(head, t.offset);
  }
  while (head.size() % alignment_) head.push_back('\0');
  put(head.data(), head.size());
  data_start_ = position_;
  current_ = 0;
  current_written_ = 0;
  end_tensor_if_full();
}

void GgufWriter::end_tensor_if_full() {
  // Skip zero-byte tensors and pad up to the next tensor's offset.
  while (current_ < tensors_.size() && current_written_ == tensors_[current_].nbytes) {
    ++current_;
    current_written_ = 0;
    if (current_ < tensors_.size()) {
      static const char zeros[64] = {};
      std::uint64_t target = data_start_ + tensors_[current_].offset;
      while (position_ < target) put(zeros, static_cast<std::size_t>(std::min<std::uint64_t>(64, target - position_)));
    }
  }
}

void GgufWriter::write(const void* data, std::size_t n) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  while (n > 0) {
    if (current_ >= tensors_.size()) fail(ErrorKind::Internal, path_ + ": more tensor bytes written than declared");
    const std::uint64_t room = tensors_[current_].nbytes - current_written_;
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(room, n));
    put(p, take);
    p += take;
    n -= take;
    current_written_ += take;
    end_tensor_if_full();
  }
}

void GgufWriter::finish() {
  if (current_ < tensors_.size())
    fail(ErrorKind::Internal, path_ + ": tensor '" + tensors_[current_].name + "' was not fully written");
  const bool ok = std::fflush(out_) == 0;
  const bool closed = std::fclose(out_) == 0;
  out_ = nullptr;
  if (!ok || !closed) fail(ErrorKind::Io, path_ + ": write failed: " + std::strerror(errno));
}

}  // namespace ossdesk

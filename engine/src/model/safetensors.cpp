#include "model/safetensors.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ossdesk/error.h"
#include "util/json_input.h"

namespace ossdesk {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;  // the format's own limit is 100 MB

std::uint64_t read_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::uint64_t json_u64(const json& v, const std::string& where) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    fail_input(where + ": expected a non-negative integer, found " + v.dump());
  return v.get<std::uint64_t>();
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path)
    : file_(std::make_unique<MappedFile>(path)) {
  const std::uint64_t size = file_->size();
  if (size < 8) fail_input(path + ": not a safetensors file: " + std::to_string(size) + " bytes, the 8-byte header size is missing");
  const std::uint64_t header_len = read_le64(file_->data());
  if (header_len > kMaxHeaderBytes || header_len > size - 8)
    fail_input(path + ": safetensors header size " + std::to_string(header_len) +
               " runs past the end of the file (" + std::to_string(size) + " bytes)");
  const char* header = reinterpret_cast<const char*>(file_->data() + 8);
  const json doc = parse_json_input<json>({header, header_len}, path + ": safetensors header");
  if (!doc.is_object()) fail_input(path + ": safetensors header: expected a JSON object");
  const std::uint64_t data_start = 8 + header_len;
  const std::uint64_t data_size = size - data_start;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (!it.value().is_object()) fail_input(path + ": __metadata__: expected an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m)
        if (m.value().is_string()) metadata_[m.key()] = m.value().get<std::string>();
      continue;
    }
    const std::string where = path + ": tensor '" + name + "'";
    const json& t = it.value();
    if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets"))
      fail_input(where + ": expected {dtype, shape, data_offsets}");
    if (!t["dtype"].is_string()) fail_input(where + ": dtype: expected a string");
    const std::string dtype_name = t["dtype"].get<std::string>();
    auto dtype = dtype_from_safetensors(dtype_name);
    if (!dtype)
      fail(ErrorKind::Unsupported, where + ": dtype " + dtype_name +
                                       " is not supported (expected BF16, F16, F32, U8, I8, I32 or F8_E4M3)");
    if (!t["shape"].is_array()) fail_input(where + ": shape: expected an array");
    TensorView view;
    view.name = name;
    view.dtype = *dtype;
    view.file = path;
    for (const auto& d : t["shape"]) view.shape.push_back(json_u64(d, where + ": shape"));
    const json& off = t["data_offsets"];
    if (!off.is_array() || off.size() != 2) fail_input(where + ": data_offsets: expected [begin, end]");
    const std::uint64_t begin = json_u64(off[0], where + ": data_offsets");
    const std::uint64_t end = json_u64(off[1], where + ": data_offsets");
    std::uint64_t elements = 0;
    if (!checked_elements(view.shape, &elements))
      fail_input(where + ": shape " + shape_to_string(view.shape) + " overflows");
    auto expected = dtype_bytes(view.dtype, elements);
    if (!expected) fail_input(where + ": shape " + shape_to_string(view.shape) + " overflows");
    if (begin > end || end > data_size)
      fail_input(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] lie outside the data section (" + std::to_string(data_size) + " bytes)");
    if (end - begin != *expected)
      fail_input(where + ": holds " + std::to_string(end - begin) + " bytes but " + dtype_name + " " +
                 shape_to_string(view.shape) + " needs " + std::to_string(*expected));
    view.data = file_->data() + data_start + begin;
    view.nbytes = end - begin;
    tensors_.emplace(name, std::move(view));
  }
}

SafetensorsArchive::SafetensorsArchive(const std::string& path) {
  fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "model.safetensors.index.json"))
      p /= "model.safetensors.index.json";
    else if (fs::exists(p / "model.safetensors"))
      p /= "model.safetensors";
    else
      fail_input(path + ": no model.safetensors or model.safetensors.index.json in this folder");
  }
  std::vector<std::string> shard_paths;
  std::map<std::string, std::string> expected_shard;  // tensor -> shard file, from the index
  if (p.filename().string().ends_with(".json")) {
    const json index = parse_json_input<json>(read_text_file(p.string()), p.string());
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
      fail_input(p.string() + ": weight_map: expected an object mapping tensor names to files");
    std::map<std::string, bool> seen;
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      if (!it.value().is_string()) fail_input(p.string() + ": weight_map['" + it.key() + "']: expected a file name");
      const std::string shard = it.value().get<std::string>();
      if (shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos || shard == ".." )
        fail_input(p.string() + ": weight_map['" + it.key() + "']: shard '" + shard + "' must be a file name in the same folder");
      expected_shard[it.key()] = shard;
      if (!seen[shard]) {
        seen[shard] = true;
        shard_paths.push_back((p.parent_path() / shard).string());
      }
    }
  } else {
    shard_paths.push_back(p.string());
  }
  for (const auto& sp : shard_paths) {
    shards_.push_back(std::make_unique<SafetensorsFile>(sp));
    files_.push_back(sp);
    for (const auto& [name, view] : shards_.back()->tensors()) {
      if (!tensors_.emplace(name, view).second)
        fail_input(sp + ": tensor '" + name + "' also appears in another shard");
    }
  }
  for (const auto& [name, shard] : expected_shard) {
    auto it = tensors_.find(name);
    if (it == tensors_.end())
      fail_input(p.string() + ": tensor '" + name + "' is listed in the index but missing from " + shard);
  }
}

const TensorView* SafetensorsArchive::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const TensorView& SafetensorsArchive::get(const std::string& name) const {
  const TensorView* v = find(name);
  if (!v) fail_input((files_.empty() ? std::string("checkpoint") : files_.front()) + ": tensor '" + name + "' is missing");
  return *v;
}

std::uint64_t SafetensorsArchive::total_bytes() const {
  std::uint64_t total = 0;
  for (const auto& f : files_) total += fs::file_size(f);
  return total;
}

SafetensorsWriter::SafetensorsWriter(const std::string& path, std::vector<SafetensorsEntry> entries,
                                     const std::map<std::string, std::string>& metadata)
    : path_(path) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const auto& e : entries) {
    header[e.name] = {{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.nbytes}}};
    offset += e.nbytes;
  }
  expected_ = offset;
  std::string text = header.dump();
  while ((text.size() + 8) % 8 != 0) text.push_back(' ');  // data starts 8-byte aligned
  out_ = std::fopen(path.c_str(), "wb");
  if (!out_) fail(ErrorKind::Io, path + ": cannot create: " + std::strerror(errno));
  std::uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(text.size()) >> (8 * i));
  if (std::fwrite(len, 1, 8, out_) != 8 || std::fwrite(text.data(), 1, text.size(), out_) != text.size())
    fail(ErrorKind::Io, path + ": write failed: " + std::strerror(errno));
}

SafetensorsWriter::~SafetensorsWriter() {
  if (out_) std::fclose(out_);
}

void SafetensorsWriter::write(const void* data, std::size_t bytes) {
  if (written_ + bytes > expected_) fail(ErrorKind::Internal, path_ + ": more tensor bytes written than declared");
  if (bytes && std::fwrite(data, 1, bytes, out_) != bytes)
    fail(ErrorKind::Io, path_ + ": write failed: " + std::strerror(errno));
  written_ += bytes;
}

void SafetensorsWriter::finish() {
  if (written_ != expected_)
    fail(ErrorKind::Internal, path_ + ": " + std::to_string(written_) + " of " + std::to_string(expected_) + " tensor bytes written");
  const bool ok = std::fflush(out_) == 0;
  const bool closed = std::fclose(out_) == 0;
  out_ = nullptr;
  if (!ok || !closed) fail(ErrorKind::Io, path_ + ": write failed: " + std::strerror(errno));
}

}  // namespace ossdesk

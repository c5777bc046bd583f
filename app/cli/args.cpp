#include "args.h"

#include <charconv>

#include "ossdesk/error.h"

namespace ossdesk::cli {

Args::Args(const std::string& command, const std::vector<std::string>& argv, const std::set<std::string>& valued,
           const std::set<std::string>& flags)
    : command_(command) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) fail_input(command + ": unexpected argument '" + a + "'");
    std::string name = a.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (flags.count(name)) {
      if (inline_value) fail_input(command + ": --" + name + " takes no value");
      flags_.insert(name);
    } else if (valued.count(name)) {
      if (inline_value) {
        values_[name] = *inline_value;
      } else {
        if (i + 1 >= argv.size()) fail_input(command + ": --" + name + " needs a value");
        values_[name] = argv[++i];
      }
    } else {
      fail_input(command + ": unknown option --" + name);
    }
  }
}

std::string Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) fail_input(command_ + ": --" + name + " is required");
  return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

int Args::get_int(const std::string& name, int fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int v = 0;
  const auto& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) fail_input(command_ + ": --" + name + ": expected an integer, found '" + s + "'");
  return v;
}

double Args::get_double(const std::string& name, double fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  try {
    std::size_t used = 0;
    double v = std::stod(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  fail_input(command_ + ": --" + name + ": expected a number, found '" + it->second + "'");
}

void Args::require_one_of(const std::vector<std::string>& names) const {
  int n = 0;
  std::string list;
  for (const auto& name : names) {
    n += has(name) ? 1 : 0;
    list += (list.empty() ? "--" : " or --") + name;
  }
  if (n != 1) fail_input(command_ + ": give exactly one of " + list);
}

std::vector<TokenId> parse_id_list(const std::string& text, const std::string& what) {
  std::vector<TokenId> ids;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    TokenId v = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || v < 0)
      fail_input(what + ": expected comma-separated token ids, found '" + item + "'");
    ids.push_back(v);
    pos = comma + 1;
  }
  return ids;
}

std::string join_ids(const std::vector<TokenId>& ids) {
  std::string s;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  return s;
}

}  // namespace ossdesk::cli

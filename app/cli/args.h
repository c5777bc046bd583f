// A small command-line parser for ossdesk-cli: `--name value` and `--flag`
// options after a subcommand. Unknown options and missing values are errors
// (exit code 2) that name the option.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ossdesk/chat.h"

namespace ossdesk::cli {

class Args {
 public:
  // `flags`: options that take no value. Every other --option takes one.
  Args(const std::string& command, const std::vector<std::string>& argv, const std::set<std::string>& valued,
       const std::set<std::string>& flags);

  bool has(const std::string& name) const { return values_.count(name) || flags_.count(name); }
  std::string get(const std::string& name) const;  // required; throws naming the option
  std::string get_or(const std::string& name, const std::string& fallback) const;
  int get_int(const std::string& name, int fallback) const;
  double get_double(const std::string& name, double fallback) const;
  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  void require_one_of(const std::vector<std::string>& names) const;

 private:
  std::string command_;
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
};

// "1,2,3" -> {1, 2, 3}; throws naming `what` on anything else.
std::vector<TokenId> parse_id_list(const std::string& text, const std::string& what);
std::string join_ids(const std::vector<TokenId>& ids);

}  // namespace ossdesk::cli

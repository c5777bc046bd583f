// The one exception type the engine throws across its public API.
//
// Every message names what was being read (file, tensor or key) and what was
// expected versus found, so the CLI can print it as one line and the app can
// show it verbatim.
#pragma once

#include <stdexcept>
#include <string>

namespace ossdesk {

enum class ErrorKind {
  BadInput,     // malformed, truncated or hostile file or argument
  Unsupported,  // well-formed but not something this build can run
  Io,           // the operating system refused (open, mmap, write, disk full)
  OutOfMemory,  // the model does not fit where it was asked to go
  Cancelled,    // the caller cancelled (load, generation)
  Internal,     // a bug: an invariant did not hold
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] inline void fail(ErrorKind kind, const std::string& message) { throw Error(kind, message); }
[[noreturn]] inline void fail_input(const std::string& message) { throw Error(ErrorKind::BadInput, message); }

}  // namespace ossdesk

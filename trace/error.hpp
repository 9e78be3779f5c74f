#pragma once

#include <stdexcept>
#include <string>

namespace kprof {

// An error the user can act on; its message says what went wrong and what to do. The CLI
// prints it as "kprof: <what>" and exits 1.
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A trace file that cannot be read: names the byte offset where reading failed.
class TraceError : public Error {
  public:
    TraceError(const std::string& path, uint64_t offset, const std::string& what)
        : Error(path + ": " + what + " at offset " + std::to_string(offset)), offset_(offset) {}
    uint64_t offset() const { return offset_; }

  private:
    uint64_t offset_;
};

}  // namespace kprof

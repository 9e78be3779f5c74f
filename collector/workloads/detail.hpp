// Pieces shared by the workload implementations; not part of the workloads API.
//
// The functions of the workloads are marked [[gnu::noipa]] so that they are neither
// inlined nor cloned: each stays a frame with its own name in the user stacks.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

#include "collector/workloads/syscalls.hpp"
#include "collector/workloads/workloads.hpp"
#include "trace/error.hpp"

namespace kprof::workloads::detail {

// Owns one file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void reset(int fd = -1) {
        if (fd_ >= 0) sys::close(fd_);
        fd_ = fd;
    }

  private:
    int fd_ = -1;
};

// "what: strerror(errno)", for Error messages about a failed system call.
inline std::string errno_text(const std::string& what, int err = errno) {
    return what + ": " + std::strerror(err);
}

// Decides when the operation loop ends: the duration, the op count or a stop request.
class StopCondition {
  public:
    using Clock = std::chrono::steady_clock;

    StopCondition(const Options& options, std::stop_token stop)
        : max_ops_(options.max_ops), stop_(std::move(stop)), start_(Clock::now()) {
        double limit = options.duration_s;
        if (limit < 0) limit = options.max_ops > 0 ? 0 : kDefaultDurationS;
        if (limit > 0)
            deadline_ = start_ + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(limit));
    }

    // True once the loop that has done `ops` operations should stop.
    bool done(uint64_t ops) const {
        if (max_ops_ > 0 && ops >= max_ops_) return true;
        if (stop_.stop_requested()) return true;
        return deadline_ && Clock::now() >= *deadline_;
    }
    bool interrupted() const { return stop_.stop_requested(); }
    const std::stop_token& token() const { return stop_; }
    double elapsed_s() const {
        return std::chrono::duration<double>(Clock::now() - start_).count();
    }

  private:
    uint64_t max_ops_;
    std::stop_token stop_;
    Clock::time_point start_;
    std::optional<Clock::time_point> deadline_;
};

}  // namespace kprof::workloads::detail

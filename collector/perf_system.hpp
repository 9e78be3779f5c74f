// The only door to the perf_event syscalls. Everything that opens, maps or controls a
// perf event goes through a PerfSystem, so that tests can replace the kernel with a fake
// that fails the way a real kernel does (EACCES, ENOENT, ENOMEM...).
#pragma once

#include <linux/perf_event.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace kprof::collector {

class PerfSystem {
  public:
    virtual ~PerfSystem() = default;
    // perf_event_open(2): an fd, or -errno.
    virtual int open(const perf_event_attr& attr, pid_t pid, int cpu, int group_fd,
                     unsigned long flags) = 0;
    // mmap(2) of a perf fd, shared read-write: the address, or nullptr with *err = errno.
    virtual void* map(int fd, size_t length, int* err) = 0;
    virtual void unmap(void* addr, size_t length) = 0;
    // ioctl(2): 0 (or the ioctl's result), or -errno.
    virtual int ioctl(int fd, unsigned long request, uintptr_t arg) = 0;
    virtual void close(int fd) = 0;
    // Contents of a file under /proc/sys/kernel ("perf_event_paranoid"), trimmed, for
    // error messages and limits; nullopt when unreadable.
    virtual std::optional<std::string> read_sysctl(const std::string& name) = 0;
};

// The real kernel.
class RealPerfSystem final : public PerfSystem {
  public:
    int open(const perf_event_attr& attr, pid_t pid, int cpu, int group_fd,
             unsigned long flags) override;
    void* map(int fd, size_t length, int* err) override;
    void unmap(void* addr, size_t length) override;
    int ioctl(int fd, unsigned long request, uintptr_t arg) override;
    void close(int fd) override;
    std::optional<std::string> read_sysctl(const std::string& name) override;
};

// An open perf event fd; closes itself through its PerfSystem.
class PerfFd {
  public:
    PerfFd() = default;
    PerfFd(PerfSystem* sys, int fd) : sys_(sys), fd_(fd) {}
    ~PerfFd() { reset(); }
    PerfFd(PerfFd&& o) noexcept : sys_(o.sys_), fd_(o.fd_) { o.fd_ = -1; }
    PerfFd& operator=(PerfFd&& o) noexcept {
        if (this != &o) {
            reset();
            sys_ = o.sys_;
            fd_ = o.fd_;
            o.fd_ = -1;
        }
        return *this;
    }
    PerfFd(const PerfFd&) = delete;
    PerfFd& operator=(const PerfFd&) = delete;
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0 && sys_) sys_->close(fd_);
        fd_ = -1;
    }

  private:
    PerfSystem* sys_ = nullptr;
    int fd_ = -1;
};

}  // namespace kprof::collector

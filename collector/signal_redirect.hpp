// How a recording hears SIGINT, SIGTERM and SIGCHLD: not as asynchronous handlers but as
// readable events on a signalfd in the recorder's epoll loop, with the old signal mask
// kept for the children the recorder starts to restore before exec.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "trace/error.hpp"

namespace kprof::collector::detail {

// Blocks SIGINT, SIGTERM and SIGCHLD for the recording and delivers them through a
// signalfd into the epoll loop; restores the old mask on exit (children restore it
// themselves before exec).
class SignalRedirect {
  public:
    SignalRedirect() {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGCHLD);
        ::sigprocmask(SIG_BLOCK, &set, &old_);
        fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd_ < 0) {
            const int e = errno;
            ::sigprocmask(SIG_SETMASK, &old_, nullptr);
            throw Error(std::string("signalfd failed: ") + std::strerror(e));
        }
    }
    ~SignalRedirect() {
        // A SIGINT that arrived while the trace was being finalized has been honoured
        // already (we were stopping): consume it instead of dying on unblock.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGCHLD);
        timespec zero{};
        while (::sigtimedwait(&set, nullptr, &zero) > 0) {
        }
        ::close(fd_);
        ::sigprocmask(SIG_SETMASK, &old_, nullptr);
    }
    SignalRedirect(const SignalRedirect&) = delete;
    SignalRedirect& operator=(const SignalRedirect&) = delete;
    int fd() const { return fd_; }
    const sigset_t& old_mask() const { return old_; }
    // The signals received since the last call.
    std::vector<int> read() {
        std::vector<int> out;
        signalfd_siginfo info{};
        while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
            out.push_back(static_cast<int>(info.ssi_signo));
        return out;
    }

  private:
    sigset_t old_{};
    int fd_ = -1;
};

}  // namespace kprof::collector::detail

// The recording's poll loop: one epoll set wakes it on ring watermarks, on SIGINT/SIGTERM
// (through the signalfd), on a -p process's exit (through its pidfd), or every 100 ms;
// each wake-up drains the rings, and the loop ends when the targets are done, -d is up,
// or a signal stops it, escalating to SIGKILL for children that outlive the grace time.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "collector/recorder_internal.hpp"
#include "collector/signal_redirect.hpp"

namespace kprof::collector::detail {
namespace {

// A file descriptor closed on scope exit.
class Fd {
  public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

}  // namespace

void Recording::poll(SignalRedirect& signals, ProfileBuilder& builder, uint64_t start_mono) {
    // The loop: wake on ring watermarks, signals, or every 100 ms to keep the rings and
    // the file moving at low sample rates.
    Fd epoll(::epoll_create1(EPOLL_CLOEXEC));
    if (epoll.get() < 0) throw Error(std::string("epoll_create1: ") + std::strerror(errno));
    auto watch = [&](int fd, uint64_t tag) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = tag;
        ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev);
    };
    constexpr uint64_t kSignalTag = UINT64_MAX;
    constexpr uint64_t kPidTag = 1ULL << 62;
    watch(signals.fd(), kSignalTag);
    for (size_t i = 0; i < events_->rings().size(); ++i) watch(events_->rings()[i].fd(), i);
    // -p targets end when their processes do; a pidfd becomes readable at exit.
    std::map<pid_t, std::unique_ptr<Fd>> live_pids;
    for (pid_t pid : options_.pids) {
        auto fd = std::make_unique<Fd>(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        if (fd->get() >= 0) watch(fd->get(), kPidTag | static_cast<uint64_t>(pid));
        live_pids.emplace(pid, std::move(fd));
    }

    const uint64_t sec = 1'000'000'000ULL;
    const uint64_t grace = static_cast<uint64_t>(options_.grace_s * 1e9);
    std::optional<uint64_t> stop_at;  // -d for -a/-p/commands; a safety net for workloads
    if (options_.duration_s > 0)
        stop_at = start_mono + static_cast<uint64_t>(options_.duration_s * 1e9) +
                  (options_.workloads.empty() ? 0 : 5 * sec);
    else if (!options_.workloads.empty())
        stop_at = start_mono + static_cast<uint64_t>(options_.workload_default_s * 1e9) + 5 * sec;
    std::optional<uint64_t> kill_at;  // SIGKILL children that outlive their SIGTERM
    bool stop = false;
    epoll_event evs[64];
    while (!stop) {
        uint64_t now = clock_ns(CLOCK_MONOTONIC);
        int timeout_ms = 100;
        for (const auto& at : {stop_at, kill_at})
            if (at)
                timeout_ms =
                    std::min<int>(timeout_ms, *at > now ? int((*at - now) / 1000000) + 1 : 0);
        const int n = ::epoll_wait(epoll.get(), evs, 64, timeout_ms);
        for (int i = 0; i < n; ++i) {
            const uint64_t tag = evs[i].data.u64;
            if (tag == kSignalTag) {
                for (int sig : signals.read()) {
                    if (sig != SIGINT && sig != SIGTERM) continue;  // SIGCHLD: reaped below
                    if (summary_.interrupted && !children_.empty()) {
                        signal_children(SIGKILL);  // a second ^C: no more waiting
                    } else {
                        summary_.interrupted = true;
                        profile_.meta.interrupted = true;
                        signal_children(sig);
                        if (!kill_at) kill_at = clock_ns(CLOCK_MONOTONIC) + grace;
                    }
                }
            } else if (tag & kPidTag) {
                auto it = live_pids.find(static_cast<pid_t>(tag & ~kPidTag));
                if (it != live_pids.end()) {
                    ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, it->second->get(), nullptr);
                    live_pids.erase(it);
                }
            } else if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
                // Every task of this ring's events is gone; it is still drained each round.
                ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, events_->rings()[tag].fd(), nullptr);
            }
        }
        drain(builder);

        now = clock_ns(CLOCK_MONOTONIC);
        if (!children_.empty()) {
            if (children_done()) stop = true;
        } else if (!options_.pids.empty()) {
            // Without pidfds (old kernels) a process's end shows as kill(pid, 0) failing.
            for (auto it = live_pids.begin(); it != live_pids.end();)
                it = it->second->get() < 0 && ::kill(it->first, 0) < 0 && errno == ESRCH
                         ? live_pids.erase(it)
                         : std::next(it);
            if (live_pids.empty() || summary_.interrupted) stop = true;
        } else if (summary_.interrupted) {
            stop = true;
        }
        if (stop_at && now >= *stop_at) {
            if (children_.empty()) {
                stop = true;
            } else if (!kill_at) {
                signal_children(SIGTERM);
                kill_at = now + grace;
            }
            stop_at.reset();
        }
        if (kill_at && now >= *kill_at) {
            signal_children(SIGKILL);
            for (ChildProcess& c : children_) c.reap(true);
            kill_at.reset();
        }
    }
}

}  // namespace kprof::collector::detail

// What a recording watches: child processes it starts (held before exec so their events
// are open before the first instruction runs), and processes found in /proc.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kprof::collector {

// A child forked and held before exec until release() (perf's "workload prepare"): the
// recorder opens its events with enable_on_exec first, so nothing before exec is counted.
class ChildProcess {
  public:
    // Forks; the child restores `child_mask` (the caller's signal mask before it blocked
    // signals for its signalfd) and waits. Throws Error if argv is empty or fork fails.
    ChildProcess(std::vector<std::string> argv, const sigset_t& child_mask);
    ~ChildProcess();  // a child still running is killed and reaped
    ChildProcess(ChildProcess&&) noexcept;
    ChildProcess& operator=(ChildProcess&&) = delete;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    const std::vector<std::string>& argv() const { return argv_; }
    // Lets the child exec; throws Error "cannot run 'CMD': ..." when exec fails.
    void release();
    // Reaps the child if it has exited (blocking: waits for it). True once reaped.
    bool reap(bool block);
    bool exited() const { return exited_; }
    int wait_status() const { return wait_status_; }
    // Decoded status: exit code (>= 0), or -signal for a child killed by a signal.
    int exit_code() const;
    void kill(int sig) const;

  private:
    std::vector<std::string> argv_;
    pid_t pid_ = -1;
    int go_fd_ = -1;     // write end: one byte lets the child exec
    int error_fd_ = -1;  // read end: the child's errno if exec failed, EOF on success
    bool exited_ = false;
    int wait_status_ = 0;
};

// execvp's search: the path CMD would run, or nullopt if none is executable.
std::optional<std::string> find_executable(std::string_view command);

// One thread as /proc describes it.
struct ProcThread {
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint32_t ppid = 0;
    std::string comm;
};
std::vector<ProcThread> proc_threads(pid_t pid);  // empty if the process is gone
std::vector<pid_t> proc_pids();                   // every process in /proc

// An executable mapping from /proc/PID/maps.
struct ProcMapping {
    uint64_t start = 0;
    uint64_t len = 0;
    uint64_t pgoff = 0;
    std::string path;

    auto operator<=>(const ProcMapping&) const = default;
};
// Parses /proc/PID/maps text; keeps executable mappings only (what samples can hit).
std::vector<ProcMapping> parse_proc_maps(std::string_view text);
std::vector<ProcMapping> proc_maps(pid_t pid);

}  // namespace kprof::collector

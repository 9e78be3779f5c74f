// The recording's targets: the children it starts (built-in workloads or a command, held
// before exec), the tasks its events follow (those children, or every thread of the -p
// pids), and the processes that existed before recording began, read from /proc.
#include <limits.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "collector/recorder_internal.hpp"
#include "collector/workloads/workloads.hpp"

namespace kprof::collector::detail {
namespace {

std::string self_exe() {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return "/proc/self/exe";
    return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

void Recording::start_children(const sigset_t& child_mask) {
    if (!options_.workloads.empty()) {
        const std::string exe = options_.kprof_binary.empty() ? self_exe() : options_.kprof_binary;
        workloads::Options wo;
        wo.duration_s = options_.duration_s > 0 ? options_.duration_s : options_.workload_default_s;
        wo.size = options_.workload_size;
        for (const std::string& name : options_.workloads) {
            children_.emplace_back(workloads::workload_argv(exe, name, wo), child_mask);
            child_names_.push_back(name);
        }
    } else if (!options_.command.empty()) {
        children_.emplace_back(options_.command, child_mask);
        child_names_.push_back(join(options_.command, " "));
    }
}

std::vector<pid_t> Recording::event_pids() {
    std::vector<pid_t> pids;
    if (options_.system_wide) return pids;
    for (const ChildProcess& c : children_) pids.push_back(c.pid());
    for (pid_t pid : options_.pids) {
        const std::vector<ProcThread> threads = proc_threads(pid);
        if (threads.empty())
            throw Error("process " + std::to_string(pid) + " does not exist (or /proc/" +
                        std::to_string(pid) + "/task is unreadable); check the pid given to -p");
        for (const ProcThread& t : threads) pids.push_back(static_cast<pid_t>(t.tid));
    }
    return pids;
}

void Recording::synthesize_from_proc(ProfileBuilder& builder, uint64_t now) {
    std::vector<pid_t> pids = options_.system_wide ? proc_pids() : options_.pids;
    for (pid_t pid : pids) {
        for (const ProcThread& t : proc_threads(pid))
            builder.add_thread(t.pid, t.tid, t.ppid, t.comm, now);
        for (const ProcMapping& m : proc_maps(pid))
            builder.add_mapping(static_cast<uint32_t>(pid), m, now);
    }
}

}  // namespace kprof::collector::detail

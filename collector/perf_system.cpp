#include "collector/perf_system.hpp"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace kprof::collector {

int RealPerfSystem::open(const perf_event_attr& attr, pid_t pid, int cpu, int group_fd,
                         unsigned long flags) {
    // perf_event_open copies the attr; the const_cast only satisfies the syscall prototype.
    long fd = ::syscall(SYS_perf_event_open, const_cast<perf_event_attr*>(&attr), pid, cpu,
                        group_fd, flags);
    return fd < 0 ? -errno : static_cast<int>(fd);
}

void* RealPerfSystem::map(int fd, size_t length, int* err) {
    void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        if (err) *err = errno;
        return nullptr;
    }
    return p;
}

void RealPerfSystem::unmap(void* addr, size_t length) {
    ::munmap(addr, length);
}

int RealPerfSystem::ioctl(int fd, unsigned long request, uintptr_t arg) {
    int r = ::ioctl(fd, request, arg);
    return r < 0 ? -errno : r;
}

void RealPerfSystem::close(int fd) {
    ::close(fd);
}

std::optional<std::string> RealPerfSystem::read_sysctl(const std::string& name) {
    std::ifstream in("/proc/sys/kernel/" + name);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace kprof::collector

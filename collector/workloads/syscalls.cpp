#include "collector/workloads/syscalls.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace kprof::workloads::sys {
namespace {

// Issues the call in place (no libc frame in between); -errno on failure, like the
// kernel returns it.
[[gnu::always_inline]] inline long invoke(long number, long a1 = 0, long a2 = 0, long a3 = 0,
                                          long a4 = 0, long a5 = 0, long a6 = 0) {
#if defined(__x86_64__)
    register long r10 asm("r10") = a4;
    register long r8 asm("r8") = a5;
    register long r9 asm("r9") = a6;
    long result;
    asm volatile("syscall"
                 : "=a"(result)
                 : "a"(number), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                 : "rcx", "r11", "memory");
    return result;
#elif defined(__aarch64__)
    register long x8 asm("x8") = number;
    register long x0 asm("x0") = a1;
    register long x1 asm("x1") = a2;
    register long x2 asm("x2") = a3;
    register long x3 asm("x3") = a4;
    register long x4 asm("x4") = a5;
    register long x5 asm("x5") = a6;
    asm volatile("svc 0"
                 : "+r"(x0)
                 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                 : "memory");
    return x0;
#else
    // Elsewhere libc's syscall(): correct, only the user stacks lose a frame.
    const long result = ::syscall(number, a1, a2, a3, a4, a5, a6);
    return result == -1 ? -errno : result;
#endif
}

long to_libc(long result) {
    if (result < 0 && result > -4096) {
        errno = static_cast<int>(-result);
        return -1;
    }
    return result;
}

long arg(const void* pointer) {
    return reinterpret_cast<long>(pointer);
}

}  // namespace

// noipa: each stays a real function with its own frame, so it names the leaf of every
// user stack that enters the kernel.
[[gnu::noipa]] int socket(int domain, int type, int protocol) {
    return static_cast<int>(to_libc(invoke(SYS_socket, domain, type, protocol)));
}

[[gnu::noipa]] int bind(int fd, const sockaddr* address, socklen_t length) {
    return static_cast<int>(to_libc(invoke(SYS_bind, fd, arg(address), length)));
}

[[gnu::noipa]] int listen(int fd, int backlog) {
    return static_cast<int>(to_libc(invoke(SYS_listen, fd, backlog)));
}

[[gnu::noipa]] int connect(int fd, const sockaddr* address, socklen_t length) {
    return static_cast<int>(to_libc(invoke(SYS_connect, fd, arg(address), length)));
}

[[gnu::noipa]] int accept4(int fd, sockaddr* address, socklen_t* length, int flags) {
    return static_cast<int>(to_libc(invoke(SYS_accept4, fd, arg(address), arg(length), flags)));
}

[[gnu::noipa]] int close(int fd) {
    return static_cast<int>(to_libc(invoke(SYS_close, fd)));
}

[[gnu::noipa]] int shutdown(int fd, int how) {
    return static_cast<int>(to_libc(invoke(SYS_shutdown, fd, how)));
}

[[gnu::noipa]] int setsockopt(int fd, int level, int name, const void* value, socklen_t length) {
    return static_cast<int>(
        to_libc(invoke(SYS_setsockopt, fd, level, name, arg(value), static_cast<long>(length))));
}

[[gnu::noipa]] int getsockname(int fd, sockaddr* address, socklen_t* length) {
    return static_cast<int>(to_libc(invoke(SYS_getsockname, fd, arg(address), arg(length))));
}

[[gnu::noipa]] ssize_t write(int fd, const void* data, size_t size) {
    return to_libc(invoke(SYS_write, fd, arg(data), static_cast<long>(size)));
}

[[gnu::noipa]] ssize_t read(int fd, void* data, size_t size) {
    return to_libc(invoke(SYS_read, fd, arg(data), static_cast<long>(size)));
}

[[gnu::noipa]] ssize_t sendto(int fd, const void* data, size_t size, int flags, const sockaddr* to,
                              socklen_t to_length) {
    return to_libc(invoke(SYS_sendto, fd, arg(data), static_cast<long>(size), flags, arg(to),
                          static_cast<long>(to_length)));
}

[[gnu::noipa]] ssize_t recv(int fd, void* data, size_t size, int flags) {
    return to_libc(invoke(SYS_recvfrom, fd, arg(data), static_cast<long>(size), flags, 0, 0));
}

// ppoll, because aarch64 has no poll system call.
[[gnu::noipa]] int poll(pollfd* fds, nfds_t count, int timeout_ms) {
    timespec timeout{.tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000L};
    return static_cast<int>(to_libc(invoke(SYS_ppoll, arg(fds), static_cast<long>(count),
                                           timeout_ms < 0 ? 0 : arg(&timeout), 0,
                                           0 /* sigsetsize unused without a mask */)));
}

}  // namespace kprof::workloads::sys

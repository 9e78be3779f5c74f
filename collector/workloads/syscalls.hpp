// The system calls the workloads make, each issued from its own small function with a
// frame pointer. glibc's wrappers are built without frame pointers, so a frame-pointer
// unwind from inside one skips its caller (write_chunk would vanish from
// run_write_client -> write_chunk -> write), and through the cancellable ones (sendto,
// recv) it stops altogether — measured with perf record -g on Debian 12's glibc 2.36.
// These return what the libc functions return: -1 with errno set on failure.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace kprof::workloads::sys {

int socket(int domain, int type, int protocol);
int bind(int fd, const sockaddr* address, socklen_t length);
int listen(int fd, int backlog);
int connect(int fd, const sockaddr* address, socklen_t length);
int accept4(int fd, sockaddr* address, socklen_t* length, int flags);
int close(int fd);
int shutdown(int fd, int how);
int setsockopt(int fd, int level, int name, const void* value, socklen_t length);
int getsockname(int fd, sockaddr* address, socklen_t* length);
ssize_t write(int fd, const void* data, size_t size);
ssize_t read(int fd, void* data, size_t size);
ssize_t sendto(int fd, const void* data, size_t size, int flags, const sockaddr* to,
               socklen_t to_length);
ssize_t recv(int fd, void* data, size_t size, int flags);
int poll(pollfd* fds, nfds_t count, int timeout_ms);

}  // namespace kprof::workloads::sys

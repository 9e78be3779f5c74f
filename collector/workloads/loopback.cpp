#include "collector/workloads/loopback.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

namespace kprof::workloads::detail {

[[gnu::noipa]] Fd open_listener() {
    Fd listener(sys::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listener) throw Error(errno_text("cannot create a TCP socket"));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (sys::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
        throw Error(
            errno_text("cannot bind a TCP socket to 127.0.0.1 (is the loopback "
                       "interface up? try 'ip link set lo up')"));
    if (sys::listen(listener.get(), 16) != 0) throw Error(errno_text("listen() on 127.0.0.1"));
    return listener;
}

[[gnu::noipa]] sockaddr_in listener_address(const Fd& listener) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (sys::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
        throw Error(errno_text("getsockname() on the loopback listener"));
    return address;
}

[[gnu::noipa]] Fd connect_client(const sockaddr_in& address) {
    Fd client(sys::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!client) throw Error(errno_text("cannot create a TCP socket"));
    int rc;
    do {
        rc =
            sys::connect(client.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0)
        throw Error(
            errno_text("cannot connect to 127.0.0.1:" + std::to_string(ntohs(address.sin_port))));
    return client;
}

[[gnu::noipa]] Fd accept_connection(const Fd& listener) {
    int fd;
    do {
        fd = sys::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) throw Error(errno_text("accept() on 127.0.0.1"));
    return Fd(fd);
}

[[gnu::noipa]] void close_abortively(Fd& socket) {
    const linger abort_on_close{.l_onoff = 1, .l_linger = 0};
    if (sys::setsockopt(socket.get(), SOL_SOCKET, SO_LINGER, &abort_on_close,
                        sizeof abort_on_close) != 0)
        throw Error(errno_text("setsockopt(SO_LINGER)"));
    socket.reset();
}

}  // namespace kprof::workloads::detail

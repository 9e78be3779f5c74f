// `socket`: the whole life of a TCP connection, over and over, so that socket creation
// (__sys_socket -> __sock_create -> inet_create), bind, listen, connect, accept and close
// all show up in the kernel stacks. Client and server run in one thread: on loopback the
// handshake completes inside connect(), so accept() never waits.
#include "collector/workloads/loopback.hpp"
#include "collector/workloads/workloads.hpp"

namespace kprof::workloads {
namespace {

using detail::Fd;

[[gnu::noipa]] void run_socket_lifecycle() {
    Fd listener = detail::open_listener();
    Fd client = detail::connect_client(detail::listener_address(listener));
    Fd server = detail::accept_connection(listener);
    detail::close_abortively(client);
    server.reset();
    listener.reset();
}

}  // namespace

[[gnu::noipa]] Result run_socket(const Options& options, std::stop_token stop) {
    const detail::StopCondition until(options, std::move(stop));
    Result result;
    result.name = "socket";
    while (!until.done(result.ops)) {
        run_socket_lifecycle();
        ++result.ops;
    }
    result.seconds = until.elapsed_s();
    result.interrupted = until.interrupted();
    return result;
}

}  // namespace kprof::workloads

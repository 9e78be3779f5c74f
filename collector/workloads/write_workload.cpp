// `write`: a TCP stream over loopback. The client write()s fixed-size chunks (tcp_sendmsg
// and the loopback transmit path); a server thread read()s them (tcp_recvmsg).
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <thread>
#include <vector>

#include "collector/workloads/loopback.hpp"
#include "collector/workloads/workloads.hpp"

namespace kprof::workloads {
namespace {

using detail::Fd;

// Blocks SIGPIPE in this thread while alive, so a server that went away turns write()
// into EPIPE instead of killing the process; discards a SIGPIPE raised meanwhile.
class SigpipeBlock {
  public:
    SigpipeBlock() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
    }
    ~SigpipeBlock() {
        const timespec no_wait{};
        while (sigtimedwait(&pipe_, nullptr, &no_wait) == SIGPIPE) {
        }
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;

  private:
    sigset_t pipe_{};
    sigset_t previous_{};
};

struct ServerResult {
    uint64_t bytes = 0;
    std::string error;  // empty when the stream ended cleanly
};

// Reads until the client shuts the stream down.
[[gnu::noipa]] ServerResult run_write_server(Fd connection, size_t chunk_size) {
    ServerResult result;
    std::vector<char> buffer(chunk_size);
    for (;;) {
        const ssize_t n = sys::read(connection.get(), buffer.data(), buffer.size());
        if (n > 0) {
            result.bytes += static_cast<uint64_t>(n);
        } else if (n == 0) {
            return result;
        } else if (errno != EINTR) {
            result.error = detail::errno_text("write server: read() from 127.0.0.1");
            return result;
        }
    }
}

// One chunk, however many write() calls the kernel needs for it. Returns 0 or an errno.
[[gnu::noipa]] int write_chunk(const Fd& connection, const char* data, size_t size) {
    while (size > 0) {
        const ssize_t n = sys::write(connection.get(), data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return 0;
}

struct ClientResult {
    uint64_t chunks = 0;
    uint64_t bytes = 0;
    int error = 0;
};

[[gnu::noipa]] ClientResult run_write_client(const Fd& connection, size_t chunk_size,
                                             const detail::StopCondition& until) {
    ClientResult result;
    const std::vector<char> chunk(chunk_size, 'k');
    while (!until.done(result.chunks)) {
        result.error = write_chunk(connection, chunk.data(), chunk.size());
        if (result.error != 0) break;
        ++result.chunks;
        result.bytes += chunk_size;
    }
    return result;
}

}  // namespace

[[gnu::noipa]] Result run_write(const Options& options, std::stop_token stop) {
    const size_t chunk_size = options.size == 0 ? kDefaultWriteSize : options.size;
    if (chunk_size > kMaxWriteSize)
        throw Error("write: --size " + std::to_string(chunk_size) + " is too large; use at most " +
                    std::to_string(kMaxWriteSize) + " bytes");

    const SigpipeBlock no_sigpipe;
    Fd listener = detail::open_listener();
    Fd client = detail::connect_client(detail::listener_address(listener));
    Fd server = detail::accept_connection(listener);
    listener.reset();

    ServerResult server_result;
    std::thread server_thread(
        [&server_result, connection = std::move(server), chunk_size]() mutable {
            server_result = run_write_server(std::move(connection), chunk_size);
        });

    const detail::StopCondition until(options, std::move(stop));
    const ClientResult client_result = run_write_client(client, chunk_size, until);
    const double seconds = until.elapsed_s();
    // End of stream: the server thread reads the rest and returns.
    sys::shutdown(client.get(), SHUT_WR);
    server_thread.join();

    if (!server_result.error.empty()) throw Error(server_result.error);
    if (client_result.error != 0)
        throw Error(detail::errno_text("write client: write() to 127.0.0.1", client_result.error));
    if (server_result.bytes != client_result.bytes)
        throw Error("write: the server read " + std::to_string(server_result.bytes) +
                    " bytes but the client wrote " + std::to_string(client_result.bytes));

    return Result{.name = "write",
                  .ops = client_result.chunks,
                  .bytes = client_result.bytes,
                  .seconds = seconds,
                  .interrupted = until.interrupted(),
                  .detail = std::to_string(chunk_size) + "-byte chunks"};
}

}  // namespace kprof::workloads

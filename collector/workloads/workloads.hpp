// The built-in workloads: small network programs whose kernel paths kprof is meant to
// show (socket creation, TCP writes, ICMP echo). Each runs in its own process
// (`kprof workload NAME`) so it is profiled like any other command; the functions here
// are plain and named after what they do so user stacks read e.g.
// run_write_client -> write_chunk -> write.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace kprof::workloads {

struct Options {
    // Stop after this long; 0 = no time limit. When unset (< 0) the limit is 2 s, or
    // none if max_ops is set.
    double duration_s = -1;
    // Stop after this many operations; 0 = no limit.
    uint64_t max_ops = 0;
    // Bytes per write() for `write`, ICMP payload bytes for `ping`; 0 = the workload's
    // default (4096 for write, 56 for ping). `socket` ignores it.
    size_t size = 0;

    friend bool operator==(const Options&, const Options&) = default;
};

inline constexpr double kDefaultDurationS = 2.0;
inline constexpr size_t kDefaultWriteSize = 4096;
inline constexpr size_t kDefaultPingPayload = 56;
// Largest ICMP payload that fits an IPv4 datagram (65535 - 20 IP - 8 ICMP).
inline constexpr size_t kMaxPingPayload = 65507;
inline constexpr size_t kMaxWriteSize = 64 << 20;

// Which ICMP socket `ping` uses. Auto tries raw first, then the unprivileged datagram
// socket (net.ipv4.ping_group_range).
enum class PingSocket { Auto, Raw, Datagram };

struct Result {
    std::string name{};
    uint64_t ops = 0;          // socket: full socket..close lifecycles; write: write() calls;
                               // ping: echo replies received and verified
    uint64_t bytes = 0;        // write: bytes written (and read back by the server)
    uint64_t unanswered = 0;   // ping: requests with no reply within 0.5 s (then the next
                               // one is sent)
    double seconds = 0;        // wall time of the operation loop
    bool interrupted = false;  // stopped by the stop token (SIGINT/SIGTERM)
    std::string detail{};      // e.g. "raw socket" for ping

    friend bool operator==(const Result&, const Result&) = default;
};

struct Workload {
    std::string_view name;
    std::string_view summary;
};

// socket, write, ping — in that order.
std::span<const Workload> workloads();
bool is_workload(std::string_view name);
// "socket, write, ping", for error messages.
std::string workload_names();

// Runs NAME in the calling process until the duration, the op count or a stop request,
// whichever comes first. Throws kprof::Error (naming the valid workloads for a bad NAME,
// saying what to do when the kernel refuses a socket).
Result run_workload(std::string_view name, const Options& options, std::stop_token stop = {});

// Individual workloads, for tests that need a particular variant.
Result run_socket(const Options& options, std::stop_token stop = {});
Result run_write(const Options& options, std::stop_token stop = {});
Result run_ping(const Options& options, std::stop_token stop = {},
                PingSocket socket = PingSocket::Auto);

// "write: 123456 ops in 2.00 s (61728 ops/s, 482.3 MiB/s)"
std::string format_result(const Result& result);

// What `kprof workload NAME` does: blocks SIGINT/SIGTERM and turns them into a stop
// request, runs the workload, prints format_result() to stdout. Returns 0; throws
// kprof::Error on failure. Call it in a single-threaded process (e.g. a forked child).
int run_workload_main(std::string_view name, const Options& options);

// The argv that runs NAME as its own process: {kprof_binary, "workload", NAME, ...},
// for collectors that fork+exec the workload to profile it like any command.
std::vector<std::string> workload_argv(const std::string& kprof_binary, std::string_view name,
                                       const Options& options);

}  // namespace kprof::workloads

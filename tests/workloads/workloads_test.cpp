// The built-in workloads, run in this process and as `kprof workload` processes.
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collector/workloads/workloads.hpp"
#include "support/test_support.hpp"
#include "trace/error.hpp"

namespace kprof::workloads {
namespace {

using test::run_child;
using test::run_kprof;

// ECMAScript syntax (gtest's MatchesRegex is POSIX and has no \n).
bool full_match(const std::string& text, const std::string& pattern) {
    return std::regex_match(text, std::regex(pattern));
}
using ::testing::HasSubstr;

TEST(Workloads, ListsSocketWritePing) {
    std::vector<std::string> names;
    for (const Workload& w : workloads()) names.emplace_back(w.name);
    EXPECT_THAT(names, ::testing::ElementsAre("socket", "write", "ping"));
    EXPECT_TRUE(is_workload("ping"));
    EXPECT_FALSE(is_workload("pong"));
    EXPECT_EQ(workload_names(), "socket, write, ping");
}

TEST(Workloads, SocketRunsTheRequestedNumberOfLifecycles) {
    const Result r = run_socket({.max_ops = 200});
    EXPECT_EQ(r.name, "socket");
    EXPECT_EQ(r.ops, 200u);
    EXPECT_GT(r.seconds, 0);
    EXPECT_FALSE(r.interrupted);
}

TEST(Workloads, SocketLeavesNoDescriptorsBehind) {
    auto open_fds = [] {
        int n = 0;
        for (int fd = 0; fd < 4096; ++fd)
            if (::fcntl(fd, F_GETFD) != -1) ++n;
        return n;
    };
    const int before = open_fds();
    run_socket({.max_ops = 100});
    run_write({.max_ops = 10});
    run_ping({.max_ops = 10});
    EXPECT_EQ(open_fds(), before);
}

TEST(Workloads, WriteStreamsChunksTheServerReadsBack) {
    const Result r = run_write({.max_ops = 200, .size = 1000});
    EXPECT_EQ(r.name, "write");
    EXPECT_EQ(r.ops, 200u);
    // run_write throws unless the server read exactly what the client wrote.
    EXPECT_EQ(r.bytes, 200u * 1000u);
    EXPECT_THAT(r.detail, HasSubstr("1000-byte"));
}

TEST(Workloads, WriteDefaultsTo4096ByteChunks) {
    const Result r = run_write({.max_ops = 10});
    EXPECT_EQ(r.bytes, 10u * kDefaultWriteSize);
}

TEST(Workloads, WriteHandlesChunksLargerThanTheSocketBuffer) {
    const Result r = run_write({.max_ops = 3, .size = 16 << 20});
    EXPECT_EQ(r.bytes, 3u * (16u << 20));
}

TEST(Workloads, PingGetsAVerifiedReplyPerRequest) {
    const Result r = run_ping({.max_ops = 200});
    EXPECT_EQ(r.name, "ping");
    EXPECT_EQ(r.ops, 200u);
    EXPECT_EQ(r.detail, "raw socket");
}

TEST(Workloads, PingCarriesLargePayloads) {
    EXPECT_EQ(run_ping({.max_ops = 5, .size = kMaxPingPayload}).ops, 5u);
    EXPECT_EQ(run_ping({.max_ops = 5, .size = 1}).ops, 5u);
}

TEST(Workloads, OversizedPayloadsAreRefused) {
    EXPECT_THROW(run_ping({.max_ops = 1, .size = kMaxPingPayload + 1}), Error);
    EXPECT_THROW(run_write({.max_ops = 1, .size = kMaxWriteSize + 1}), Error);
}

TEST(Workloads, TwoPingersAtOnceOnlyCountTheirOwnReplies) {
    // Each raw socket only queues replies with its own identifier, so neither fills the
    // other's receive buffer; a failure in either pinger fails the test, not the process.
    std::future<Result> second =
        std::async(std::launch::async, [] { return run_ping({.max_ops = 300}); });
    const Result mine = run_ping({.max_ops = 300});
    const Result other = second.get();
    EXPECT_EQ(mine.ops, 300u);
    EXPECT_EQ(other.ops, 300u);
    EXPECT_EQ(mine.unanswered + other.unanswered, 0u);
}

TEST(Workloads, StopsAtTheDuration) {
    const Result r = run_socket({.duration_s = 0.2});
    EXPECT_GE(r.seconds, 0.2);
    EXPECT_GT(r.ops, 0u);
    EXPECT_FALSE(r.interrupted);
}

TEST(Workloads, StopsOnAStopRequest) {
    for (const Workload& w : workloads()) {
        SCOPED_TRACE(std::string(w.name));
        std::stop_source stop;
        std::thread stopper([&stop] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            stop.request_stop();
        });
        // No duration and no op limit: only the stop request ends it.
        const Result r = run_workload(w.name, {.duration_s = 0}, stop.get_token());
        stopper.join();
        EXPECT_TRUE(r.interrupted);
    }
}

TEST(Workloads, UnknownNameListsTheValidOnes) {
    try {
        run_workload("pong", {.max_ops = 1});
        FAIL() << "no error for an unknown workload";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("'pong'"));
        EXPECT_THAT(e.what(), HasSubstr("socket, write, ping"));
    }
}

TEST(Workloads, FormatsCountAndRate) {
    const Result write{.name = "write",
                       .ops = 123456,
                       .bytes = 123456ull * 4096,
                       .seconds = 2.0,
                       .interrupted = false,
                       .detail = ""};
    EXPECT_EQ(format_result(write), "write: 123456 ops in 2.00 s (61728 ops/s, 241.1 MiB/s)");
    const Result ping{.name = "ping",
                      .ops = 50,
                      .bytes = 0,
                      .seconds = 0.5,
                      .interrupted = false,
                      .detail = "raw socket"};
    EXPECT_EQ(format_result(ping), "ping: 50 ops in 0.50 s (100 ops/s, raw socket)");
    Result lossy = ping;
    lossy.unanswered = 2;
    EXPECT_EQ(format_result(lossy), "ping: 50 ops in 0.50 s (100 ops/s, raw socket, 2 unanswered)");
    // A run too short to time must not divide by zero.
    EXPECT_EQ(format_result(Result{.name = "socket"}), "socket: 0 ops in 0.00 s (0 ops/s)");
}

TEST(Workloads, ArgvRunsTheWorkloadAsACommand) {
    EXPECT_THAT(
        workload_argv("/bin/kprof", "write", {.duration_s = 1.5, .size = 512}),
        ::testing::ElementsAre("/bin/kprof", "workload", "write", "-d", "1.5", "--size", "512"));
    EXPECT_THAT(workload_argv("kprof", "socket", {.duration_s = 0.0004}),
                ::testing::ElementsAre("kprof", "workload", "socket", "-d", "0.0004"));
    EXPECT_THAT(workload_argv("kprof", "ping", {.max_ops = 7}),
                ::testing::ElementsAre("kprof", "workload", "ping", "-n", "7"));
}

// --- ICMP socket variants, each in a child in a fresh network namespace so the
// ping_group_range sysctl and the capabilities can be changed without touching the host.

struct NamespaceSetup {
    std::string ping_group_range;  // written to the namespace's sysctl
    bool drop_net_raw = false;
};

// Runs in the forked child; returns the reason it failed, or "".
std::string enter_namespace(const NamespaceSetup& setup) {
    if (::unshare(CLONE_NEWNET) != 0) return std::string("unshare: ") + std::strerror(errno);
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq lo{};
    std::snprintf(lo.ifr_name, sizeof lo.ifr_name, "lo");
    if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &lo) != 0) return "SIOCGIFFLAGS lo failed";
    lo.ifr_flags = static_cast<short>(lo.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(s, SIOCSIFFLAGS, &lo) != 0) return "cannot bring lo up";
    ::close(s);
    std::ofstream range("/proc/sys/net/ipv4/ping_group_range");
    range << setup.ping_group_range << "\n";
    range.close();
    if (!range) return "cannot write ping_group_range";
    if (setup.drop_net_raw) {
        __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        __user_cap_data_struct data[2]{};
        if (::syscall(SYS_capget, &header, data) != 0) return "capget failed";
        data[CAP_TO_INDEX(CAP_NET_RAW)].effective &= ~CAP_TO_MASK(CAP_NET_RAW);
        if (::syscall(SYS_capset, &header, data) != 0) return "capset failed";
    }
    return "";
}

// "ops detail" from a ping in the namespace, or "error: message".
std::string ping_in_namespace(const NamespaceSetup& setup, PingSocket kind) {
    if (::geteuid() != 0) return "skip: needs root";
    return run_child([&]() -> std::string {
        if (std::string failed = enter_namespace(setup); !failed.empty()) return "skip: " + failed;
        try {
            const Result r = run_ping({.max_ops = 50}, {}, kind);
            return std::to_string(r.ops) + " " + r.detail;
        } catch (const Error& e) {
            return std::string("error: ") + e.what();
        }
    });
}

#define SKIP_IF_NAMESPACE_REFUSED(outcome) \
    if ((outcome).rfind("skip: ", 0) == 0) GTEST_SKIP() << (outcome);

TEST(PingSockets, DatagramSocketWhereTheGroupIsAllowed) {
    const std::string outcome =
        ping_in_namespace({.ping_group_range = "0 0"}, PingSocket::Datagram);
    SKIP_IF_NAMESPACE_REFUSED(outcome);
    EXPECT_EQ(outcome, "50 datagram socket");
}

TEST(PingSockets, FallsBackToDatagramWithoutCapNetRaw) {
    const std::string outcome =
        ping_in_namespace({.ping_group_range = "0 0", .drop_net_raw = true}, PingSocket::Auto);
    SKIP_IF_NAMESPACE_REFUSED(outcome);
    EXPECT_EQ(outcome, "50 datagram socket");
}

TEST(PingSockets, ClearErrorWhenNeitherIsAllowed) {
    const std::string outcome =
        ping_in_namespace({.ping_group_range = "1 0", .drop_net_raw = true}, PingSocket::Auto);
    SKIP_IF_NAMESPACE_REFUSED(outcome);
    EXPECT_THAT(outcome, HasSubstr("error: ping: cannot open an ICMP socket"));
    EXPECT_THAT(outcome, HasSubstr("CAP_NET_RAW"));
    EXPECT_THAT(outcome, HasSubstr("ping_group_range"));
}

TEST(PingSockets, RawOnlyRefusedWithoutCapNetRaw) {
    const std::string outcome =
        ping_in_namespace({.ping_group_range = "0 0", .drop_net_raw = true}, PingSocket::Raw);
    SKIP_IF_NAMESPACE_REFUSED(outcome);
    EXPECT_THAT(outcome, HasSubstr("error: ping: cannot open a raw ICMP socket"));
}

// Echo replies switched off in the namespace (net.ipv4.icmp_echo_ignore_all) for
// OFF_S seconds, 0.2 s into a ping run of RUN_S seconds: "ops unanswered", or "error: ...".
std::string ping_with_replies_off(double off_s, double run_s) {
    if (::geteuid() != 0) return "skip: needs root";
    return run_child([&]() -> std::string {
        if (std::string failed = enter_namespace({.ping_group_range = "0 0"}); !failed.empty())
            return "skip: " + failed;
        auto set_ignore = [](const char* value) {
            std::ofstream("/proc/sys/net/ipv4/icmp_echo_ignore_all") << value << "\n";
        };
        std::thread toggler([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            set_ignore("1");
            std::this_thread::sleep_for(std::chrono::duration<double>(off_s));
            set_ignore("0");
        });
        std::string outcome;
        try {
            const Result r = run_ping({.duration_s = run_s}, {}, PingSocket::Raw);
            outcome = std::to_string(r.ops) + " " + std::to_string(r.unanswered);
        } catch (const Error& e) {
            outcome = std::string("error: ") + e.what();
        }
        toggler.join();
        return outcome;
    });
}

TEST(PingSockets, ARequestWithoutAReplyIsCountedAndTheNextOneSent) {
    // 0.7 s without replies: one or two requests time out after 0.5 s each, then the
    // replies come back and the run goes on to its end.
    const std::string outcome = ping_with_replies_off(0.7, 1.5);
    SKIP_IF_NAMESPACE_REFUSED(outcome);
    std::smatch m;
    ASSERT_TRUE(std::regex_match(outcome, m, std::regex("([0-9]+) ([0-9]+)"))) << outcome;
    EXPECT_GT(std::stoull(m[1]), 0u);
    EXPECT_GE(std::stoull(m[2]), 1u);
    EXPECT_LE(std::stoull(m[2]), 2u);
}

TEST(PingSockets, NoReplyForTwoSecondsIsAnError) {
    const std::string outcome = ping_with_replies_off(3.0, 5.0);
    SKIP_IF_NAMESPACE_REFUSED(outcome);
    EXPECT_THAT(outcome, HasSubstr("error: ping: no echo reply from 127.0.0.1 within 2 s"));
    EXPECT_THAT(outcome, HasSubstr("icmp_echo_ignore_all"));
}

// --- `kprof workload` as a command.

TEST(WorkloadCommand, EachWorkloadPrintsItsCount) {
    const std::regex line(
        R"(^(socket|write|ping): 200 ops in [0-9]+\.[0-9]{2} s \([0-9]+ ops/s.*\)\n$)");
    for (const Workload& w : workloads()) {
        SCOPED_TRACE(std::string(w.name));
        const auto r = run_kprof({"workload", std::string(w.name), "-n", "200"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_TRUE(std::regex_match(r.out, line)) << r.out;
        EXPECT_EQ(r.out.rfind(std::string(w.name) + ": ", 0), 0u) << r.out;
    }
}

TEST(WorkloadCommand, WriteReportsThroughput) {
    const auto r = run_kprof({"workload", "write", "-n", "100", "--size", "8192"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(full_match(r.out, R"(write: 100 ops in .* MiB/s, 8192-byte chunks\)\n)")) << r.out;
}

TEST(WorkloadCommand, StopsAtTheDuration) {
    const auto r = run_kprof({"workload", "socket", "-d", "0.3"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::smatch seconds;
    ASSERT_TRUE(std::regex_match(r.out, seconds,
                                 std::regex(R"(socket: [1-9][0-9]* ops in ([0-9.]+) s .*\n)")))
        << r.out;
    // Printed with 2 decimals, rounded.
    EXPECT_GE(std::stod(seconds[1]), 0.3 - 0.005);
}

struct RawSocketQueue {
    bool found = false;
    uint64_t queued_bytes = 0;  // rx_queue
    uint64_t drops = 0;
};

// The receive queue of PID's raw socket, from /proc/net/raw and /proc/PID/fd.
RawSocketQueue raw_socket_queue(pid_t pid) {
    std::set<std::string> inodes;
    std::error_code ec;
    for (const auto& fd :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
        if (target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
    }
    std::ifstream table("/proc/net/raw");
    std::string line;
    std::getline(table, line);  // the header
    while (std::getline(table, line)) {
        // sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ref pointer drops
        std::istringstream fields(line);
        std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        std::string refs, pointer, drops;
        fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
            timeout >> inode >> refs >> pointer >> drops;
        if (!inodes.contains(inode)) continue;
        return {.found = true,
                .queued_bytes = std::stoull(queues.substr(queues.find(':') + 1), nullptr, 16),
                .drops = std::stoull(drops)};
    }
    return {};
}

TEST(WorkloadCommand, APausedPingerQueuesNoOtherPingersReplies) {
    // A raw ICMP socket receives every echo reply on the host. Without ping(8)'s filter on
    // the echo identifier, a pinger that is not scheduled while another one runs has its
    // receive buffer filled with the other's replies, and the kernel drops its own.
    test::Process pinger({test::kprof_binary(), "workload", "ping", "-d", "20"});
    RawSocketQueue queue;
    for (int i = 0; i < 200 && !queue.found; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        queue = raw_socket_queue(pinger.pid());
    }
    if (!queue.found) GTEST_SKIP() << "the pinger did not open a raw ICMP socket (no CAP_NET_RAW)";
    ASSERT_EQ(::kill(pinger.pid(), SIGSTOP), 0);
    const Result flood = run_ping({.max_ops = 3000});
    queue = raw_socket_queue(pinger.pid());
    ::kill(pinger.pid(), SIGCONT);
    ::kill(pinger.pid(), SIGTERM);
    const test::ProcessResult r = pinger.wait();
    EXPECT_EQ(flood.ops, 3000u);
    ASSERT_TRUE(queue.found);
    EXPECT_EQ(queue.drops, 0u);
    // At most its own reply, if it was stopped before reading it.
    EXPECT_LT(queue.queued_bytes, 4096u);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_TRUE(full_match(r.out, R"(ping: [0-9]+ ops in .*, raw socket\)\n)")) << r.out;
}

TEST(WorkloadCommand, SigtermStopsItAndItStillPrints) {
    for (const char* sig_name : {"TERM", "INT"}) {
        const int sig = std::string(sig_name) == "TERM" ? SIGTERM : SIGINT;
        for (const Workload& w : workloads()) {
            SCOPED_TRACE(std::string(w.name) + " SIG" + sig_name);
            // -d 0: no time limit, only the signal ends it.
            const auto r =
                run_kprof({"workload", std::string(w.name), "-d", "0"}, {.signal_when_ready = sig});
            EXPECT_EQ(r.exit_code, 0) << r.err;
            EXPECT_TRUE(full_match(r.out, std::string(w.name) + R"(: [0-9]+ ops in .*\n)"))
                << r.out;
            EXPECT_THAT(r.err, HasSubstr(std::string("stopped by SIG") + sig_name));
        }
    }
}

TEST(WorkloadCommand, UnknownNameFailsListingTheValidOnes) {
    const auto r = run_kprof({"workload", "pong"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, HasSubstr("unknown workload 'pong'"));
    EXPECT_THAT(r.err, HasSubstr("socket, write, ping"));
}

TEST(WorkloadCommand, MissingNameSaysWhatToDo) {
    const auto r = run_kprof({"workload"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--list"));
}

TEST(WorkloadCommand, BadOptionValuesAreRefused) {
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"-d", "abc"},
                                               {"-d", "-1"},
                                               {"-n", "0"},
                                               {"--size", "0"},
                                               {"--size", "70000"},
                                               {"--bogus"}}) {
        std::vector<std::string> argv{"workload", "ping"};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = run_kprof(argv);
        EXPECT_NE(r.exit_code, 0) << args[0];
        EXPECT_EQ(r.out, "") << args[0];
        EXPECT_NE(r.err, "") << args[0];
    }
}

TEST(WorkloadCommand, ListPrintsEveryWorkload) {
    const auto r = run_kprof({"workload", "--list"});
    EXPECT_EQ(r.exit_code, 0);
    for (const Workload& w : workloads())
        EXPECT_THAT(r.out, HasSubstr(std::string(w.name) + " ")) << r.out;
}

}  // namespace
}  // namespace kprof::workloads

#include "collector/workloads/workloads.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <thread>

#include "collector/workloads/detail.hpp"

namespace kprof::workloads {
namespace {

using detail::Fd;

constexpr std::array kWorkloads = {
    Workload{"socket", "socket(), bind(), listen(), connect(), accept(), close() over loopback"},
    Workload{"write", "a TCP stream over loopback: write() fixed-size chunks, read() them"},
    Workload{"ping", "ICMP echo requests to 127.0.0.1, each reply checked"},
};

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

// Turns SIGINT and SIGTERM into a stop request while alive. The signals are blocked in
// the calling thread (and so in every thread it starts) and read from a signalfd by a
// watcher thread, so no signal handler and no global flag are needed.
class SignalStop {
  public:
    SignalStop() {
        sigemptyset(&signals_);
        sigaddset(&signals_, SIGINT);
        sigaddset(&signals_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
        signal_fd_.reset(::signalfd(-1, &signals_, SFD_CLOEXEC | SFD_NONBLOCK));
        finished_.reset(::eventfd(0, EFD_CLOEXEC));
        if (!signal_fd_ || !finished_) {
            pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
            throw Error(detail::errno_text("cannot set up SIGINT/SIGTERM handling"));
        }
        watcher_ = std::thread([this] { watch(); });
    }
    ~SignalStop() {
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(finished_.get(), &one, sizeof one);
        watcher_.join();
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    }
    SignalStop(const SignalStop&) = delete;
    SignalStop& operator=(const SignalStop&) = delete;

    std::stop_token token() const { return stop_.get_token(); }
    // The signal that stopped the workload, or 0.
    int received() const { return received_.load(); }

  private:
    void watch() {
        std::array<pollfd, 2> fds{pollfd{.fd = signal_fd_.get(), .events = POLLIN, .revents = 0},
                                  pollfd{.fd = finished_.get(), .events = POLLIN, .revents = 0}};
        for (;;) {
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[0].revents & POLLIN) {
                signalfd_siginfo info{};
                if (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
                    received_.store(static_cast<int>(info.ssi_signo));
                    stop_.request_stop();
                }
            }
            if (fds[1].revents & POLLIN) return;
        }
    }

    sigset_t signals_{};
    sigset_t previous_{};
    Fd signal_fd_;
    Fd finished_;
    std::stop_source stop_;
    std::atomic<int> received_{0};
    std::thread watcher_;
};

}  // namespace

std::span<const Workload> workloads() {
    return kWorkloads;
}

bool is_workload(std::string_view name) {
    for (const Workload& w : kWorkloads)
        if (w.name == name) return true;
    return false;
}

std::string workload_names() {
    std::string names;
    for (const Workload& w : kWorkloads) {
        if (!names.empty()) names += ", ";
        names += w.name;
    }
    return names;
}

Result run_workload(std::string_view name, const Options& options, std::stop_token stop) {
    if (options.duration_s > 0 && !(options.duration_s < 1e9))
        throw Error("workload duration " + fixed(options.duration_s, 2) +
                    " s is too long; give a number of seconds below 1e9");
    if (name == "socket") return run_socket(options, std::move(stop));
    if (name == "write") return run_write(options, std::move(stop));
    if (name == "ping") return run_ping(options, std::move(stop));
    throw Error("unknown workload '" + std::string(name) +
                "'; the built-in workloads are: " + workload_names());
}

std::string format_result(const Result& result) {
    const double seconds = result.seconds > 0 ? result.seconds : 0;
    const double rate = seconds > 0 ? static_cast<double>(result.ops) / seconds : 0;
    std::string line = result.name + ": " + std::to_string(result.ops) + " ops in " +
                       fixed(seconds, 2) + " s (" + fixed(rate, 0) + " ops/s";
    if (result.bytes > 0) {
        const double mib_per_s =
            seconds > 0 ? static_cast<double>(result.bytes) / seconds / (1024.0 * 1024.0) : 0;
        line += ", " + fixed(mib_per_s, 1) + " MiB/s";
    }
    if (!result.detail.empty()) line += ", " + result.detail;
    if (result.unanswered > 0) line += ", " + std::to_string(result.unanswered) + " unanswered";
    line += ")";
    return line;
}

int run_workload_main(std::string_view name, const Options& options) {
    if (!is_workload(name))
        throw Error("unknown workload '" + std::string(name) +
                    "'; the built-in workloads are: " + workload_names());
    // Name the process (and the threads it starts) after the workload, so reports can
    // tell the three apart: `kprof report --comm kprof-ping`.
    const std::string comm = "kprof-" + std::string(name);
    prctl(PR_SET_NAME, comm.c_str(), 0, 0, 0);
    Result result;
    int signal_number = 0;
    {
        const SignalStop signals;
        result = run_workload(name, options, signals.token());
        signal_number = signals.received();
        // Print while SIGINT/SIGTERM are still blocked, so a second signal cannot cut the
        // count off.
        std::printf("%s\n", format_result(result).c_str());
        std::fflush(stdout);
    }
    if (signal_number != 0)
        std::fprintf(stderr, "kprof workload: %s stopped by SIG%s\n", result.name.c_str(),
                     sigabbrev_np(signal_number) ? sigabbrev_np(signal_number) : "?");
    return 0;
}

std::vector<std::string> workload_argv(const std::string& kprof_binary, std::string_view name,
                                       const Options& options) {
    std::vector<std::string> argv{kprof_binary, "workload", std::string(name)};
    if (options.duration_s >= 0) {
        // Shortest text that reads back as the same double: a rounded 0.0004 would turn
        // into "0.000", which means no limit.
        char text[64];
        const auto end =
            std::to_chars(text, text + sizeof text, options.duration_s, std::chars_format::fixed)
                .ptr;
        argv.push_back("-d");
        argv.emplace_back(text, end);
    }
    if (options.max_ops > 0) {
        argv.push_back("-n");
        argv.push_back(std::to_string(options.max_ops));
    }
    if (options.size > 0) {
        argv.push_back("--size");
        argv.push_back(std::to_string(options.size));
    }
    return argv;
}

}  // namespace kprof::workloads

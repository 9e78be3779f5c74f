// Runs the kprof binary, or a function in a forked child, and collects what it printed.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace kprof::test {

struct ProcessResult {
    int exit_code = -1;  // 128 + N when killed by signal N
    std::string out;
    std::string err;
};

struct RunOptions {
    // Send this signal once the process has blocked it (its SIGINT/SIGTERM handling is
    // in place), read from /proc/PID/status; 0 = none.
    int signal_when_ready = 0;
    std::chrono::seconds timeout{60};
};

inline bool signal_blocked(pid_t pid, int sig) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("SigBlk:", 0) != 0) continue;
        const uint64_t mask = std::stoull(line.substr(7), nullptr, 16);
        return (mask >> (sig - 1)) & 1;
    }
    return false;
}

inline int exit_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// Runs KPROF_BINARY ARGS... with stdout and stderr captured.
inline ProcessResult run_kprof(const std::vector<std::string>& args,
                               const RunOptions& options = {}) {
    std::array<int, 2> out{}, err{};
    if (::pipe2(out.data(), O_CLOEXEC) != 0 || ::pipe2(err.data(), O_CLOEXEC) != 0)
        return {.exit_code = -1, .out = "", .err = "pipe failed"};
    std::vector<std::string> argv_strings{KPROF_BINARY};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);

    ProcessResult result;
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    bool signalled = options.signal_when_ready == 0;
    std::array<pollfd, 2> fds{pollfd{.fd = out[0], .events = POLLIN, .revents = 0},
                              pollfd{.fd = err[0], .events = POLLIN, .revents = 0}};
    int open_pipes = 2;
    while (open_pipes > 0) {
        if (!signalled && signal_blocked(pid, options.signal_when_ready)) {
            ::kill(pid, options.signal_when_ready);
            signalled = true;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            result.err += "\n[test: timed out, killed]";
            break;
        }
        if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
        for (size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buffer[4096];
            const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                (i == 0 ? result.out : result.err).append(buffer, static_cast<size_t>(n));
            } else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_pipes;
            }
        }
    }
    for (const pollfd& p : fds)
        if (p.fd >= 0) ::close(p.fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = exit_code(status);
    return result;
}

// Runs BODY in a forked child and returns the string it returned (sent over a pipe), or
// a description of how the child died.
inline std::string run_child(const std::function<std::string()>& body) {
    std::array<int, 2> channel{};
    if (::pipe2(channel.data(), O_CLOEXEC) != 0) return "pipe failed";
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(channel[0]);
        const std::string answer = body();
        size_t written = 0;
        while (written < answer.size()) {
            const ssize_t n = ::write(channel[1], answer.data() + written, answer.size() - written);
            if (n <= 0) break;
            written += static_cast<size_t>(n);
        }
        ::_exit(0);
    }
    ::close(channel[1]);
    std::string answer;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(channel[0], buffer, sizeof buffer)) > 0)
        answer.append(buffer, static_cast<size_t>(n));
    ::close(channel[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (exit_code(status) != 0) answer += " [child exit " + std::to_string(exit_code(status)) + "]";
    return answer;
}

}  // namespace kprof::test

// What the test folders share: a scratch directory, whole files as strings or bytes, and
// running the built kprof (or any program, or a shell command line) with its output
// captured. Header-only; every test target has tests/ on its include path:
//   #include "support/test_support.hpp"
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kprof::test {

// The kprof binary of this build tree.
inline std::string kprof_binary() {
    return KPROF_BINARY;
}

// WORD as one word of a POSIX shell command line, whatever it holds.
inline std::string shell_quote(std::string_view word) {
    std::string q = "'";
    for (char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// A fresh directory under the temporary directory (TMPDIR, else /tmp), removed with
// everything in it when the test ends.
class TempDir {
  public:
    explicit TempDir(std::string_view prefix = "kprof-test") {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

// The whole file, byte for byte; "" when it cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
}

struct ProcessResult {
    int exit_code = -1;  // 128 + N when killed by signal N; -1 when it could not start
    int signal = 0;      // the signal that killed it, 0 when it exited
    bool timed_out = false;
    std::string out;  // stdout (and stderr with merge_stderr)
    std::string err;
    long maxrss_kb = 0;  // peak resident set size of the process

    bool signaled() const { return signal != 0; }
    // For assertion messages.
    std::string describe() const {
        std::string s = signaled() ? "killed by signal " + std::to_string(signal)
                                   : "exit " + std::to_string(exit_code);
        if (timed_out) s += " (timed out)";
        return s + "; stderr: " + (err.empty() ? out : err).substr(0, 2000);
    }
};

struct ProcessOptions {
    bool merge_stderr = false;  // stderr into the same pipe (or file) as stdout
    // stdout goes to this file instead of `out`: for output too large to keep, or to read
    // while the process runs. `out` stays empty.
    std::string stdout_path = {};
    // Send this signal once the process has blocked it (its SIGINT/SIGTERM handling is in
    // place), read from /proc/PID/status; 0 = none.
    int signal_when_ready = 0;
    // Then it is killed with SIGKILL and `timed_out` set.
    std::chrono::seconds timeout = std::chrono::seconds(300);
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

// A program started with ARGV (argv[0] is its path), stdin from /dev/null, its output
// captured. The destructor kills and reaps it if wait() was not called.
class Process {
  public:
    explicit Process(std::vector<std::string> argv, ProcessOptions options = {})
        : options_(std::move(options)) {
        std::array<int, 2> out{-1, -1}, err{-1, -1};
        if (::pipe2(out.data(), O_CLOEXEC) != 0 || ::pipe2(err.data(), O_CLOEXEC) != 0) {
            for (int fd : {out[0], out[1], err[0], err[1]})
                if (fd >= 0) ::close(fd);
            start_error_ = "pipe failed";
            return;
        }
        std::vector<char*> args;
        for (std::string& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (null >= 0) ::dup2(null, 0);
            int stdout_fd = out[1];
            if (!options_.stdout_path.empty())
                stdout_fd = ::open(options_.stdout_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            ::dup2(stdout_fd, 1);
            ::dup2(options_.merge_stderr ? stdout_fd : err[1], 2);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::close(out[1]);
        ::close(err[1]);
        out_fd_ = out[0];
        err_fd_ = err[0];
        if (pid_ < 0) start_error_ = "fork failed";
    }
    ~Process() {
        if (pid_ > 0 && !waited_) {
            ::kill(pid_, SIGKILL);
            wait();
        }
        close_pipes();
    }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }

    // Collects the output until the process closes it, then reaps the process.
    ProcessResult wait() {
        ProcessResult r;
        if (pid_ <= 0 || waited_) {
            r.err = start_error_;
            return r;
        }
        waited_ = true;
        const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
        bool signalled = options_.signal_when_ready == 0;
        std::array<pollfd, 2> fds{pollfd{.fd = out_fd_, .events = POLLIN, .revents = 0},
                                  pollfd{.fd = err_fd_, .events = POLLIN, .revents = 0}};
        std::string* sinks[2] = {&r.out, &r.err};
        int open = 2;
        while (open > 0) {
            if (!signalled && signal_blocked(pid_, options_.signal_when_ready)) {
                ::kill(pid_, options_.signal_when_ready);
                signalled = true;
            }
            const auto now = std::chrono::steady_clock::now();
            if (now > deadline && !r.timed_out) {
                r.timed_out = true;
                ::kill(pid_, SIGKILL);
            }
            // Its children may hold the pipes open after it was killed.
            if (r.timed_out && now > deadline + std::chrono::seconds(5)) break;
            if (::poll(fds.data(), fds.size(), 20) < 0) break;
            for (size_t i = 0; i < fds.size(); ++i) {
                if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
                char buffer[65536];
                const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
                if (n > 0) {
                    sinks[i]->append(buffer, static_cast<size_t>(n));
                } else {
                    ::close(fds[i].fd);
                    fds[i].fd = -1;
                    --open;
                }
            }
        }
        out_fd_ = fds[0].fd;
        err_fd_ = fds[1].fd;
        close_pipes();
        int status = 0;
        rusage usage{};
        ::wait4(pid_, &status, 0, &usage);
        r.maxrss_kb = usage.ru_maxrss;
        if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) {
            r.signal = WTERMSIG(status);
            r.exit_code = 128 + r.signal;
        }
        return r;
    }

  private:
    void close_pipes() {
        for (int* fd : {&out_fd_, &err_fd_}) {
            if (*fd >= 0) ::close(*fd);
            *fd = -1;
        }
    }

    ProcessOptions options_;
    pid_t pid_ = -1;
    int out_fd_ = -1, err_fd_ = -1;
    bool waited_ = false;
    std::string start_error_;
};

// Runs ARGV to the end (argv[0] is the program's path).
inline ProcessResult run_process(std::vector<std::string> argv, ProcessOptions options = {}) {
    return Process(std::move(argv), std::move(options)).wait();
}

// Runs the built kprof with ARGS.
inline ProcessResult run_kprof(const std::vector<std::string>& args, ProcessOptions options = {}) {
    std::vector<std::string> argv{kprof_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(std::move(argv), std::move(options));
}

// Runs COMMAND with /bin/sh -c, as popen() and system() would.
inline ProcessResult run_shell(const std::string& command, ProcessOptions options = {}) {
    return run_process({"/bin/sh", "-c", command}, std::move(options));
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
    const int code = WIFEXITED(status)     ? WEXITSTATUS(status)
                     : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                           : -1;
    if (code != 0) answer += " [child exit " + std::to_string(code) + "]";
    return answer;
}

}  // namespace kprof::test

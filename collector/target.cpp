#include "collector/target.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "trace/error.hpp"

namespace kprof::collector {
namespace {

std::string read_small_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool all_digits(const char* s) {
    if (!*s) return false;
    for (; *s; ++s)
        if (*s < '0' || *s > '9') return false;
    return true;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, const sigset_t& child_mask)
    : argv_(std::move(argv)) {
    if (argv_.empty()) throw Error("no command to run");
    int go[2], err[2];
    if (::pipe2(go, O_CLOEXEC) < 0) throw Error(std::string("pipe: ") + std::strerror(errno));
    if (::pipe2(err, O_CLOEXEC) < 0) {
        ::close(go[0]);
        ::close(go[1]);
        throw Error(std::string("pipe: ") + std::strerror(errno));
    }
    // Everything the child touches is prepared before fork: after it only
    // async-signal-safe calls (and execvp) happen.
    std::vector<char*> args;
    for (std::string& a : argv_) args.push_back(a.data());
    args.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ < 0) {
        const int e = errno;
        ::close(go[0]);
        ::close(go[1]);
        ::close(err[0]);
        ::close(err[1]);
        throw Error(std::string("fork failed: ") + std::strerror(e) +
                    "; check 'ulimit -u' and free memory");
    }
    if (pid_ == 0) {
        ::close(go[1]);
        ::close(err[0]);
        ::signal(SIGINT, SIG_DFL);
        ::signal(SIGTERM, SIG_DFL);
        ::signal(SIGCHLD, SIG_DFL);
        ::sigprocmask(SIG_SETMASK, &child_mask, nullptr);
        char c;
        // EOF without the byte: the recorder gave up; do not run the command.
        if (::read(go[0], &c, 1) != 1) ::_exit(127);
        ::execvp(args[0], args.data());
        const int e = errno;
        ssize_t w = ::write(err[1], &e, sizeof e);
        (void)w;
        ::_exit(127);
    }
    ::close(go[0]);
    ::close(err[1]);
    go_fd_ = go[1];
    error_fd_ = err[0];
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : argv_(std::move(o.argv_)),
      pid_(o.pid_),
      go_fd_(o.go_fd_),
      error_fd_(o.error_fd_),
      exited_(o.exited_),
      wait_status_(o.wait_status_) {
    o.pid_ = -1;
    o.go_fd_ = o.error_fd_ = -1;
}

ChildProcess::~ChildProcess() {
    if (go_fd_ >= 0) ::close(go_fd_);  // a held child sees EOF and exits
    if (error_fd_ >= 0) ::close(error_fd_);
    if (pid_ > 0 && !exited_) {
        ::kill(pid_, SIGKILL);
        reap(true);
    }
}

void ChildProcess::release() {
    if (go_fd_ < 0) return;
    const char c = 'g';
    ssize_t w = ::write(go_fd_, &c, 1);
    (void)w;
    ::close(go_fd_);
    go_fd_ = -1;
    int e = 0;
    ssize_t n;
    do {
        n = ::read(error_fd_, &e, sizeof e);
    } while (n < 0 && errno == EINTR);
    ::close(error_fd_);
    error_fd_ = -1;
    if (n == static_cast<ssize_t>(sizeof e)) {
        reap(true);
        throw Error("cannot run '" + argv_[0] + "': " + std::strerror(e));
    }
}

bool ChildProcess::reap(bool block) {
    if (exited_ || pid_ <= 0) return exited_;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) {
        exited_ = true;
        wait_status_ = status;
    } else if (r < 0 && errno == ECHILD) {
        exited_ = true;  // reaped elsewhere; status unknown
    }
    return exited_;
}

int ChildProcess::exit_code() const {
    if (WIFEXITED(wait_status_)) return WEXITSTATUS(wait_status_);
    if (WIFSIGNALED(wait_status_)) return -WTERMSIG(wait_status_);
    return 0;
}

void ChildProcess::kill(int sig) const {
    if (pid_ > 0 && !exited_) ::kill(pid_, sig);
}

std::optional<std::string> find_executable(std::string_view command) {
    if (command.empty()) return std::nullopt;
    auto executable = [](const std::string& p) {
        struct stat st {};
        return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
    };
    if (command.find('/') != std::string_view::npos) {
        std::string p(command);
        return executable(p) ? std::optional(p) : std::nullopt;
    }
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t colon = dirs.find(':', start);
        if (colon == std::string::npos) colon = dirs.size();
        std::string dir = dirs.substr(start, colon - start);
        if (dir.empty()) dir = ".";
        std::string p = dir + "/" + std::string(command);
        if (executable(p)) return p;
        start = colon + 1;
    }
    return std::nullopt;
}

std::vector<ProcThread> proc_threads(pid_t pid) {
    std::vector<ProcThread> out;
    const std::string base = "/proc/" + std::to_string(pid);
    uint32_t ppid = 0;
    {
        std::istringstream status(read_small_file(base + "/status"));
        std::string line;
        while (std::getline(status, line))
            if (line.rfind("PPid:", 0) == 0)
                ppid = static_cast<uint32_t>(std::atoi(line.c_str() + 5));
    }
    DIR* d = ::opendir((base + "/task").c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        if (!all_digits(e->d_name)) continue;
        ProcThread t;
        t.pid = static_cast<uint32_t>(pid);
        t.tid = static_cast<uint32_t>(std::atoi(e->d_name));
        t.ppid = ppid;
        t.comm = read_small_file(base + "/task/" + e->d_name + "/comm");
        if (!t.comm.empty() && t.comm.back() == '\n') t.comm.pop_back();
        out.push_back(std::move(t));
    }
    ::closedir(d);
    return out;
}

std::vector<pid_t> proc_pids() {
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    while (dirent* e = ::readdir(d))
        if (all_digits(e->d_name)) out.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
    ::closedir(d);
    return out;
}

std::vector<ProcMapping> parse_proc_maps(std::string_view text) {
    std::vector<ProcMapping> out;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string line(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        // start-end perms offset dev inode   path
        unsigned long long start = 0, end = 0, off = 0;
        char perms[8] = {};
        int path_pos = 0;
        if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &off,
                        &path_pos) < 4)
            continue;
        if (std::strlen(perms) < 3 || perms[2] != 'x' || end <= start) continue;
        ProcMapping m;
        m.start = start;
        m.len = end - start;
        m.pgoff = off;
        if (path_pos > 0 && static_cast<size_t>(path_pos) <= line.size())
            m.path = line.substr(static_cast<size_t>(path_pos));
        while (!m.path.empty() && m.path.back() == ' ') m.path.pop_back();
        if (m.path.empty()) m.path = "//anon";
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<ProcMapping> proc_maps(pid_t pid) {
    return parse_proc_maps(read_small_file("/proc/" + std::to_string(pid) + "/maps"));
}

}  // namespace kprof::collector

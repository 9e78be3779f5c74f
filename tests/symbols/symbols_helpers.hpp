// Helpers of the symbolizer tests: the fixture programs run as children, /proc/PID/maps
// turned into the profile tables the collector would record, and nm as an independent
// reference for symbol addresses.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "trace/profile.hpp"

namespace kprof::test {

struct MapsLine {
    uint64_t start = 0, end = 0, pgoff = 0;
    std::string perms, path;
};

inline std::vector<MapsLine> read_maps(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
    std::vector<MapsLine> out;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream s(line);
        MapsLine m;
        std::string range, dev, inode;
        s >> range >> m.perms >> std::hex >> m.pgoff >> dev >> inode;
        std::getline(s >> std::ws, m.path);
        const auto dash = range.find('-');
        m.start = std::stoull(range.substr(0, dash), nullptr, 16);
        m.end = std::stoull(range.substr(dash + 1), nullptr, 16);
        out.push_back(m);
    }
    return out;
}

// Adds the executable mappings of pid to the profile as MMAP2 records would: one dso per
// path (" (deleted)" included, as the kernel spells it), generation 0.
inline void add_process_maps(Profile& profile, pid_t pid) {
    for (const MapsLine& l : read_maps(pid)) {
        if (l.perms.find('x') == std::string::npos || l.path.empty()) continue;
        DsoId id = kNoDso;
        for (DsoId d = 0; d < profile.dsos.size(); ++d)
            if (profile.dsos[d].path == l.path) id = d;
        if (id == kNoDso) {
            Dso dso;
            dso.path = l.path;
            profile.dsos.push_back(dso);
            id = static_cast<DsoId>(profile.dsos.size() - 1);
        }
        profile.mappings.push_back(Mapping{.pid = static_cast<uint32_t>(pid),
                                           .start = l.start,
                                           .len = l.end - l.start,
                                           .pgoff = l.pgoff,
                                           .dso = id});
    }
}

struct NmSymbol {
    uint64_t addr = 0, size = 0;
    char type = 0;
};

// nm's view of a file's symbols (by name): the reference the symbolizer is checked against.
inline std::map<std::string, NmSymbol> nm_symbols(const std::string& path, bool dynamic = false) {
    const std::string cmd =
        "nm -S --defined-only " + std::string(dynamic ? "-D " : "") + "'" + path + "'";
    const ProcessResult nm = run_shell(cmd);
    if (nm.exit_code < 0) throw std::runtime_error("cannot run " + cmd + ": " + nm.err);
    std::map<std::string, NmSymbol> out;
    std::istringstream lines(nm.out);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream s(line);
        std::vector<std::string> f;
        for (std::string w; s >> w;) f.push_back(w);
        NmSymbol sym;
        if (!f.empty()) f.back() = f.back().substr(0, f.back().find('@'));  // name@@VERSION
        if (f.size() == 4) {
            sym = {std::stoull(f[0], nullptr, 16), std::stoull(f[1], nullptr, 16), f[2][0]};
            out[f[3]] = sym;
        } else if (f.size() == 3) {
            sym = {std::stoull(f[0], nullptr, 16), 0, f[1][0]};
            out[f[2]] = sym;
        }
    }
    return out;
}

// A fixture program run with --addresses: it prints where its functions are, then waits
// until its stdin closes.
class Child {
  public:
    explicit Child(const std::string& path) {
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe");
        pid_ = fork();
        if (pid_ == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            close(in[1]);
            close(out[0]);
            execl(path.c_str(), path.c_str(), "--addresses", static_cast<char*>(nullptr));
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        stdin_ = in[1];
        FILE* f = fdopen(out[0], "r");
        char buf[256];
        while (std::fgets(buf, sizeof buf, f) != nullptr) {
            std::istringstream s(buf);
            std::string name, addr;
            s >> name >> addr;
            if (name == "end") break;
            addresses_[name] = std::stoull(addr, nullptr, 16);
        }
        std::fclose(f);
        if (addresses_.size() < 5) throw std::runtime_error(path + " printed no addresses");
    }
    ~Child() { stop(); }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    void stop() {
        if (pid_ <= 0) return;
        close(stdin_);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    pid_t pid() const { return pid_; }
    uint64_t address(const std::string& name) const { return addresses_.at(name); }

  private:
    pid_t pid_ = -1;
    int stdin_ = -1;
    std::map<std::string, uint64_t> addresses_;
};

}  // namespace kprof::test

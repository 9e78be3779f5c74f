#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "import/imports.hpp"
#include "trace/error.hpp"
#include "trace/format.hpp"

namespace kprof {
namespace {

constexpr size_t kHeadBytes = 64 * 1024;

uint64_t load64(const uint8_t* p, bool swap) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * (swap ? 7 - i : i));
    return v;
}

bool is_hex(std::string_view s) {
    if (s.starts_with("0x")) s.remove_prefix(2);
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "comm pid/tid [cpu] secs.usecs: ..." : a timestamp field "<digits>.<digits>:".
bool looks_like_script_header(std::string_view line) {
    if (line.empty() || line[0] == ' ' || line[0] == '\t') return false;
    size_t pos = 0;
    while ((pos = line.find(": ", pos)) != std::string_view::npos ||
           (line.ends_with(":") && (pos = line.size() - 1) != 0)) {
        size_t start = pos;
        while (start > 0 && line[start - 1] != ' ' && line[start - 1] != '\t') --start;
        const std::string_view ts = line.substr(start, pos - start);
        const size_t dot = ts.find('.');
        if (dot != std::string_view::npos && is_digits(ts.substr(0, dot)) &&
            is_digits(ts.substr(dot + 1)))
            return true;
        if (pos + 1 >= line.size()) break;
        ++pos;
    }
    return false;
}

// "\t ffffffff81000000 sym+0x10 (module)": whitespace, then a hex address.
bool looks_like_script_frame(std::string_view line) {
    if (line.empty() || (line[0] != ' ' && line[0] != '\t')) return false;
    const size_t b = line.find_first_not_of(" \t");
    if (b == std::string_view::npos) return false;
    const size_t e = line.find_first_of(" \t", b);
    return is_hex(line.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
}

// "a;b;c 123": frames, one space, a count.
bool looks_like_folded(std::string_view line) {
    if (line.empty() || line[0] == ' ' || line[0] == '\t') return false;
    const size_t sp = line.find_last_of(" \t");
    if (sp == std::string_view::npos || sp == 0) return false;
    std::string_view count = line.substr(sp + 1);
    if (const size_t dot = count.find('.'); dot != std::string_view::npos)
        count = count.substr(0, dot);  // flamegraph.pl allows fractional counts
    return is_digits(count);
}

FileFormat detect_text(std::string_view text, bool complete) {
    if (text.find('\0') != std::string_view::npos) return FileFormat::unknown;
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        if (nl == std::string_view::npos && !complete) break;  // cut off by the head size
        std::string_view line = text.substr(0, nl);
        if (line.ends_with('\r')) line.remove_suffix(1);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.find_first_not_of(" \t") == std::string_view::npos || line.starts_with('#'))
            continue;
        lines.push_back(line);
        if (lines.size() >= 64) break;
    }
    if (lines.empty()) return FileFormat::unknown;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (!looks_like_script_header(lines[i])) continue;
        if (i + 1 < lines.size() && looks_like_script_frame(lines[i + 1]))
            return FileFormat::perf_script;
        if (i + 1 == lines.size() || looks_like_script_header(lines[i + 1]))
            return FileFormat::perf_script;  // samples without call chains
    }
    const size_t folded =
        static_cast<size_t>(std::count_if(lines.begin(), lines.end(), looks_like_folded));
    if (folded == lines.size()) return FileFormat::folded;
    return FileFormat::unknown;
}

FileFormat detect(std::span<const uint8_t> head, bool complete) {
    if (head.size() >= 8 && std::memcmp(head.data(), kTraceMagic, 8) == 0) return FileFormat::kprof;
    // perf.data: "PERFILE2" as a u64 in the writer's byte order; the next u64 is the header
    // size, 16 for the pipe header (just magic and size), sizeof(perf_file_header) else.
    const bool native = head.size() >= 8 && std::memcmp(head.data(), "PERFILE2", 8) == 0;
    const bool swapped = head.size() >= 8 && std::memcmp(head.data(), "2ELIFREP", 8) == 0;
    if (native || swapped) {
        if (head.size() >= 16 && load64(head.data() + 8, swapped) == 16)
            return FileFormat::perf_data_pipe;
        return FileFormat::perf_data;
    }
    return detect_text(std::string_view(reinterpret_cast<const char*>(head.data()), head.size()),
                       complete);
}

}  // namespace

FileFormat detect_format(std::span<const uint8_t> head) {
    return detect(head, true);
}

FileFormat detect_file_format(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        throw Error("cannot open " + path + ": " + std::strerror(err) +
                    (err == ENOENT ? "; record one with 'kprof record -o " + path + "'" : ""));
    }
    std::vector<uint8_t> head(kHeadBytes);
    size_t got = 0;
    while (got < head.size()) {
        const ssize_t n = ::read(fd, head.data() + got, head.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            throw Error("cannot read " + path + ": " + std::strerror(err));
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    ::close(fd);
    head.resize(got);
    return detect(head, got < kHeadBytes);
}

Profile load_profile(const std::string& path, const LoadOptions& options) {
    std::string file = path;
    // After a crash only FILE.tmp exists; --recover FILE finds it.
    if (options.recover && !std::filesystem::exists(file) && std::filesystem::exists(file + ".tmp"))
        file += ".tmp";
    switch (detect_file_format(file)) {
        case FileFormat::kprof: {
            ReadReport local;
            ReadReport& report = options.report ? *options.report : local;
            Profile p = read_trace(file, ReadOptions{.recover = options.recover}, &report);
            if (!options.report && !report.finalized)
                std::fprintf(stderr, "kprof: warning: %s: %s\n", file.c_str(), report.note.c_str());
            return p;
        }
        case FileFormat::perf_data:
        case FileFormat::perf_data_pipe:
            return import_perf_data(file, options.import);
        case FileFormat::perf_script:
            return import_perf_script(file, options.import);
        case FileFormat::folded:
            return import_folded(file);
        case FileFormat::unknown:
            break;
    }
    throw Error(file +
                ": unknown file format (not a kprof trace, perf.data, perf script output or folded "
                "stacks)");
}

}  // namespace kprof

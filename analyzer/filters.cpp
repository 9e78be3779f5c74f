#include "analyzer/filters.hpp"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

#include "trace/error.hpp"

namespace kprof {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// One end of a --time range: "", "1.5" or "10%". Returns -1 for empty.
double parse_time_end(std::string_view s, bool& percent, const std::string& spec) {
    s = trim(s);
    if (s.empty()) return -1;
    bool this_percent = false;
    if (s.back() == '%') {
        this_percent = true;
        s.remove_suffix(1);
    }
    double v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v < 0)
        throw Error(
            fmt::format("--time '{}': expected START,END in seconds from the start "
                        "(e.g. 0.5,2) or percent slices (e.g. 10%,20%)",
                        spec));
    if (this_percent) percent = true;
    return v;
}

std::string join_ids(const std::vector<uint32_t>& ids) {
    std::string out;
    for (uint32_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
    return out;
}

std::string join_strings(const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

}  // namespace

TimeRange TimeRange::parse(const std::string& spec) {
    const size_t comma = spec.find(',');
    if (comma == std::string::npos || spec.find(',', comma + 1) != std::string::npos)
        throw Error(
            fmt::format("--time '{}': expected START,END in seconds from the start "
                        "(e.g. 0.5,2) or percent slices (e.g. 10%,20%)",
                        spec));
    TimeRange r;
    bool start_percent = false, end_percent = false;
    const std::string_view sv(spec);
    r.start = parse_time_end(sv.substr(0, comma), start_percent, spec);
    r.end = parse_time_end(sv.substr(comma + 1), end_percent, spec);
    if (r.start < 0) r.start = 0;
    const bool has_end = r.end >= 0;
    // "10%," is a percent slice; mixing "1,20%" is ambiguous.
    if (has_end && start_percent != end_percent && !trim(sv.substr(0, comma)).empty())
        throw Error(fmt::format("--time '{}': give both ends in seconds or both in percent", spec));
    r.percent = start_percent || end_percent;
    if (has_end && r.end < r.start)
        throw Error(fmt::format("--time '{}': END is before START", spec));
    if (r.percent && (r.start > 100 || r.end > 100))
        throw Error(fmt::format("--time '{}': percent slices go from 0% to 100%", spec));
    return r;
}

std::vector<uint32_t> parse_id_list(const std::string& spec) {
    std::vector<uint32_t> out;
    std::string_view rest(spec);
    auto number = [&spec](std::string_view s) {
        s = trim(s);
        uint32_t v = 0;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
            throw Error(fmt::format("'{}': expected a list of numbers such as 0,2,5-7", spec));
        return v;
    };
    while (!rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        const size_t dash = item.find('-');
        if (dash == std::string_view::npos) {
            out.push_back(number(item));
            continue;
        }
        const uint32_t lo = number(item.substr(0, dash)), hi = number(item.substr(dash + 1));
        if (hi < lo || hi - lo > 1'000'000)
            throw Error(fmt::format("'{}': bad range {}-{}", spec, lo, hi));
        for (uint32_t v = lo; v <= hi; ++v) out.push_back(v);
    }
    if (out.empty()) throw Error(fmt::format("'{}': empty list", spec));
    return out;
}

std::string FilterOptions::describe() const {
    std::vector<std::string> parts;
    if (!events.empty()) parts.push_back("event=" + join_strings(events));
    if (!cpus.empty()) parts.push_back("cpu=" + join_ids(cpus));
    if (!pids.empty()) parts.push_back("pid=" + join_ids(pids));
    if (!tids.empty()) parts.push_back("tid=" + join_ids(tids));
    if (!comms.empty()) parts.push_back("comm=" + join_strings(comms));
    if (time) {
        const char* unit = time->percent ? "%" : "";
        parts.push_back(
            fmt::format("time={}{},{}", time->start, unit,
                        time->end < 0 ? std::string("end") : fmt::format("{}{}", time->end, unit)));
    }
    if (kernel_only) parts.push_back("kernel-only");
    if (user_only) parts.push_back("user-only");
    if (!focus.empty()) parts.push_back("focus=" + focus);
    if (!ignore.empty()) parts.push_back("ignore=" + ignore);
    if (!hide.empty()) parts.push_back("hide=" + hide);
    if (percent_limit > 0) parts.push_back(fmt::format("percent-limit={}", percent_limit));
    if (parts.empty()) return "none";
    std::string out;
    for (const std::string& p : parts) out += (out.empty() ? "" : " ") + p;
    return out;
}

}  // namespace kprof

#include "tui/text.hpp"

#include "trace/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kprof::tui {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if it is malformed.
size_t utf8_length(std::string_view s, size_t i) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
    return n;
}

// Byte offset after the first `columns` code points.
size_t prefix_bytes(std::string_view s, size_t columns) {
    size_t i = 0;
    while (i < s.size() && columns > 0) {
        const size_t n = utf8_length(s, i);
        i += n == 0 ? 1 : n;
        --columns;
    }
    return i;
}

}  // namespace

std::string escape(std::string_view text) {
    return text_is_safe(text) ? std::string(text) : escape_text(text);
}

size_t display_width(std::string_view text) {
    size_t w = 0;
    for (unsigned char c : text)
        if ((c & 0xc0) != 0x80) ++w;
    return w;
}

std::string fit(std::string_view text, size_t width, bool unicode) {
    const size_t w = display_width(text);
    if (w <= width) return std::string(text) + std::string(width - w, ' ');
    if (width == 0) return {};
    std::string out(text.substr(0, prefix_bytes(text, width - 1)));
    out += unicode ? "\u2026" : "~";
    return out;
}

std::string fit_right(std::string_view text, size_t width, bool unicode) {
    const size_t w = display_width(text);
    if (w <= width) return std::string(width - w, ' ') + std::string(text);
    return fit(text, width, unicode);
}

std::string format_weight(uint64_t weight) {
    char buf[32];
    if (weight < 1000000) {
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(weight));
        return buf;
    }
    static constexpr const char* kSuffix[] = {"k", "M", "G", "T", "P", "E"};
    double v = static_cast<double>(weight);
    size_t s = 0;
    v /= 1000;
    while (v >= 1000 && s + 1 < std::size(kSuffix)) {
        v /= 1000;
        ++s;
    }
    std::snprintf(buf, sizeof buf, v >= 100 ? "%.1f%s" : "%.2f%s", v, kSuffix[s]);
    return buf;
}

std::string format_percent(double fraction) {
    char buf[32];
    const double p = std::clamp(fraction, 0.0, 1.0) * 100;
    std::snprintf(buf, sizeof buf, p >= 99.995 ? "%.1f%%" : "%.2f%%", p);
    return buf;
}

std::string bar(double fraction, size_t width, bool unicode) {
    fraction = std::clamp(std::isnan(fraction) ? 0.0 : fraction, 0.0, 1.0);
    std::string out;
    if (!unicode) {
        const auto full = static_cast<size_t>(std::lround(fraction * static_cast<double>(width)));
        return std::string(full, '#') + std::string(width - full, ' ');
    }
    static constexpr const char* kEighths[] = {"",       "\u258f", "\u258e", "\u258d",
                                               "\u258c", "\u258b", "\u258a", "\u2589"};
    const auto eighths =
        static_cast<size_t>(std::lround(fraction * static_cast<double>(width) * 8));
    const size_t full = eighths / 8;
    for (size_t i = 0; i < full; ++i) out += "\u2588";
    size_t used = full;
    if (eighths % 8 != 0 && used < width) {
        out += kEighths[eighths % 8];
        ++used;
    }
    out.append(width - used, ' ');
    return out;
}

bool contains_folded(std::string_view haystack, std::string_view needle) {
    if (needle.empty()) return true;
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                       [&](char a, char b) { return lower(a) == lower(b); }) != haystack.end();
}

}  // namespace kprof::tui

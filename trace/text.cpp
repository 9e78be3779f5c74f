#include "trace/text.hpp"

#include <cstdint>
#include <cstdio>

namespace kprof {
namespace {

// Length of the valid UTF-8 sequence at the start of `s` and its code point; 0 if invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_sequence(std::string_view s, uint32_t& cp) {
    const auto b0 = static_cast<uint8_t>(s[0]);
    size_t len = 0;
    uint32_t min = 0;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    } else if ((b0 & 0xe0) == 0xc0) {
        len = 2, cp = b0 & 0x1f, min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
        len = 3, cp = b0 & 0x0f, min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
        len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (s.size() < len) return 0;
    for (size_t i = 1; i < len; ++i) {
        const auto b = static_cast<uint8_t>(s[i]);
        if ((b & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

bool unsafe_code_point(uint32_t cp) {
    return cp < 0x20 || cp == 0x7f || cp == '\\' || (cp >= 0x80 && cp <= 0x9f) ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
           cp == 0x200f || cp == 0x061c;
}

}  // namespace

bool text_is_safe(std::string_view text) {
    for (size_t i = 0; i < text.size();) {
        uint32_t cp = 0;
        const size_t len = utf8_sequence(text.substr(i), cp);
        if (len == 0 || unsafe_code_point(cp)) return false;
        i += len;
    }
    return true;
}

std::string escape_text(std::string_view text) {
    if (text_is_safe(text)) return std::string(text);
    std::string out;
    out.reserve(text.size() + 16);
    char buf[16];
    for (size_t i = 0; i < text.size();) {
        uint32_t cp = 0;
        const size_t len = utf8_sequence(text.substr(i), cp);
        if (len == 0) {
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<uint8_t>(text[i]));
            out += buf;
            ++i;
            continue;
        }
        if (cp == '\\') {
            out += "\\\\";
        } else if (cp < 0x80 && unsafe_code_point(cp)) {
            std::snprintf(buf, sizeof buf, "\\x%02x", cp);
            out += buf;
        } else if (unsafe_code_point(cp)) {
            std::snprintf(buf, sizeof buf, "\\u{%04x}", cp);
            out += buf;
        } else {
            out.append(text.substr(i, len));
        }
        i += len;
    }
    return out;
}

}  // namespace kprof

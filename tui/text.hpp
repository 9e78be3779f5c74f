// Text helpers for view models: escaping of names that came from the trace, display
// widths, fitting into columns, and the number formats every view shares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kprof::tui {

// kprof's escaping of outside text (trace/text.hpp): control characters and invalid
// UTF-8 become visible escapes, so a symbol or comm from a trace can never move the
// cursor or change the terminal's state.
std::string escape(std::string_view text);

// Columns the text takes: one per code point (names are ASCII in practice; wide CJK
// glyphs are not worth a wcwidth table here).
size_t display_width(std::string_view text);

// Exactly `width` columns: cut (ending in the ellipsis glyph) or padded with spaces.
std::string fit(std::string_view text, size_t width, bool unicode = true);
std::string fit_right(std::string_view text, size_t width, bool unicode = true);

// "12345", "1.23M": at most 7 columns.
std::string format_weight(uint64_t weight);
// "12.34%", "100.0%", "0.00%": 6 columns.
std::string format_percent(double fraction);
// A bar of `width` columns filled to `fraction`: eighth blocks in UTF-8, '#' in ASCII.
std::string bar(double fraction, size_t width, bool unicode);

// Case-insensitive substring search (ASCII folding), for incremental search.
bool contains_folded(std::string_view haystack, std::string_view needle);

}  // namespace kprof::tui

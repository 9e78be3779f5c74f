// Every key of the TUI in one table: the help view lists it, and a test checks that the
// man page (man/kprof-tui.1) documents each entry, so the two cannot drift apart.
#pragma once

#include <span>
#include <string_view>

namespace kprof::tui {

struct KeyHelp {
    std::string_view view;  // "everywhere", "Functions", "Function", ...
    std::string_view keys;  // as the man page spells them, e.g. "Enter", "n, N"
    std::string_view what;
};

std::span<const KeyHelp> key_help();

}  // namespace kprof::tui

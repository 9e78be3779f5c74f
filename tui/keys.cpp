#include "tui/keys.hpp"

#include <array>

namespace kprof::tui {

std::span<const KeyHelp> key_help() {
    static constexpr std::array kKeys = {
        KeyHelp{"everywhere", "?", "this help"},
        KeyHelp{"everywhere", "q", "quit"},
        KeyHelp{"everywhere", "Up, Down", "move the cursor"},
        KeyHelp{"everywhere", "PgUp, PgDn, Home, End", "move by a page, to the top, to the end"},
        KeyHelp{"everywhere", "Backspace, Esc", "go back to the previous view"},
        KeyHelp{"everywhere", "mouse click", "select a row; click the selected row to open it"},
        KeyHelp{"everywhere", "I", "trace information: metadata, events, samples, losses, filters"},
        KeyHelp{"everywhere", "t", "call tree (top-down)"},
        KeyHelp{"everywhere", "g", "flame graph"},
        KeyHelp{"everywhere", "p", "hottest call paths to the selected function"},
        KeyHelp{"everywhere", "f", "focus: keep only stacks through the selected function"},
        KeyHelp{"everywhere", "F", "clear the focus"},
        KeyHelp{"everywhere", "e", "switch to the next event of the trace"},
        KeyHelp{"Functions", "Enter", "open the selected function (callers and callees)"},
        KeyHelp{"Functions", "s", "sort by self, total or name"},
        KeyHelp{"Functions", "/", "search function names as you type; Enter keeps, Esc cancels"},
        KeyHelp{"Functions", "n, N", "next, previous search match"},
        KeyHelp{"Functions", "k", "show kernel, user or all functions"},
        KeyHelp{"Function", "Up, Down", "move through callers and callees"},
        KeyHelp{"Function", "Enter", "re-centre on the selected caller or callee"},
        KeyHelp{"Function", "Backspace, Left", "back to the previously centred function"},
        KeyHelp{"Function", "c", "collapse recursion cycles into one entry"},
        KeyHelp{"Call tree", "Enter", "expand or collapse the selected node"},
        KeyHelp{"Call tree", "+, -", "expand, collapse the selected node (Right, Left too)"},
        KeyHelp{"Call tree", "E", "expand the hottest path below the selected node"},
        KeyHelp{"Call tree", "i", "invert: bottom-up tree from the leaf functions"},
        KeyHelp{"Call tree", "o", "open the selected node's function"},
        KeyHelp{"Flame graph", "Left, Right", "previous, next frame on the same level"},
        KeyHelp{"Flame graph", "Up, Down", "caller frame, hottest callee frame"},
        KeyHelp{"Flame graph", "Enter", "zoom into the selected frame"},
        KeyHelp{"Flame graph", "Esc", "zoom out one level (back when not zoomed)"},
        KeyHelp{"Flame graph", "o", "open the selected frame's function"},
        KeyHelp{"Paths", "Enter", "open the function under the cursor"},
        KeyHelp{"Paths", "r", "start the paths at the selected caller"},
        KeyHelp{"Paths", "R", "start the paths at the stacks' roots again"},
    };
    return kKeys;
}

}  // namespace kprof::tui

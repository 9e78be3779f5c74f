// The only code that talks to curses: draws an App's Screen with ncursesw and turns
// terminal input (keys, resize, mouse clicks) into Keys. The terminal is restored on
// every way out: normal return, exceptions (RAII), exit() (atexit) and fatal signals.
#pragma once

#include "tui/app.hpp"

namespace kprof::tui {

struct TerminalOptions {
    bool color = true;    // false or NO_COLOR set: attributes only (bold, reverse)
    bool unicode = true;  // false or a non-UTF-8 locale: ASCII bars and tree glyphs
    bool mouse = true;
};

// True when both standard input and output are terminals.
bool interactive_terminal();

// Runs the App until it quits. Throws Error if there is no usable terminal.
void run_terminal(App& app, const TerminalOptions& options);

}  // namespace kprof::tui

#include "tui/render/terminal.hpp"

#include <langinfo.h>
#include <unistd.h>

#include <array>
#include <clocale>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include <ncursesw/curses.h>

#include "trace/error.hpp"

namespace kprof::tui {
namespace {

constexpr std::array kFatalSignals = {SIGINT,  SIGTERM, SIGHUP, SIGQUIT, SIGSEGV,
                                      SIGABRT, SIGBUS,  SIGFPE, SIGILL};

// Leaves curses mode if it is active. Safe to call twice and before initialisation.
void restore_terminal() {
    if (stdscr != nullptr && !isendwin()) endwin();
}

// A fatal signal: give the user their terminal back, then die of the same signal (the
// handler was installed with SA_RESETHAND, so re-raising runs the default action).
void on_fatal_signal(int sig) {
    restore_terminal();
    raise(sig);
}

void install_handlers() {
    // Once per process: atexit entries cannot be removed, and the handlers are stateless.
    static std::once_flag once;
    std::call_once(once, [] {
        std::atexit(restore_terminal);
        struct sigaction sa {};
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        for (int sig : kFatalSignals) sigaction(sig, &sa, nullptr);
    });
}

struct Attr {
    short fg;
    short bg;
    attr_t mono;   // used without colours
    attr_t extra;  // added with colours
};

// Indexed by Style; colour pair n+1 is Style n.
constexpr Attr kAttrs[] = {
    /* normal */ {-1, -1, A_NORMAL, A_NORMAL},
    /* header */ {COLOR_CYAN, -1, A_BOLD, A_BOLD},
    /* title */ {COLOR_BLACK, COLOR_CYAN, A_REVERSE, A_BOLD},
    /* status */ {COLOR_BLACK, COLOR_WHITE, A_REVERSE, A_NORMAL},
    /* warning */ {COLOR_WHITE, COLOR_RED, A_REVERSE | A_BOLD, A_BOLD},
    /* dim */ {COLOR_BLUE, -1, A_DIM, A_NORMAL},
    /* match */ {COLOR_YELLOW, -1, A_UNDERLINE | A_BOLD, A_BOLD},
    /* bar */ {COLOR_GREEN, -1, A_NORMAL, A_NORMAL},
    /* kernel */ {COLOR_RED, -1, A_NORMAL, A_NORMAL},
    /* user */ {COLOR_GREEN, -1, A_NORMAL, A_NORMAL},
    /* center */ {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
    /* flame_kernel_a */ {COLOR_BLACK, COLOR_RED, A_REVERSE, A_NORMAL},
    /* flame_kernel_b */ {COLOR_BLACK, COLOR_YELLOW, A_NORMAL, A_NORMAL},
    /* flame_user_a */ {COLOR_BLACK, COLOR_GREEN, A_REVERSE, A_NORMAL},
    /* flame_user_b */ {COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_NORMAL},
};
static_assert(std::size(kAttrs) == static_cast<size_t>(Style::count_));

class Terminal {
  public:
    explicit Terminal(const TerminalOptions& options) {
        install_handlers();
        // Escape must not wait a second for a possible escape sequence.
        set_escdelay(100);
        screen_ = newterm(nullptr, stdout, stdin);
        if (screen_ == nullptr)
            throw Error("cannot drive this terminal (TERM=" +
                        std::string(std::getenv("TERM") ? std::getenv("TERM") : "unset") +
                        "); set TERM to your terminal's type, or use 'kprof report FILE'");
        set_term(screen_);
        cbreak();
        noecho();
        nonl();
        keypad(stdscr, TRUE);
        curs_set(0);
        color_ = options.color && has_colors() && std::getenv("NO_COLOR") == nullptr;
        if (color_) {
            start_color();
            use_default_colors();
            for (size_t i = 0; i < std::size(kAttrs); ++i)
                init_pair(static_cast<short>(i + 1), kAttrs[i].fg, kAttrs[i].bg);
        }
        if (options.mouse) {
            mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED,
                      nullptr);
            mouseinterval(0);
        }
    }
    ~Terminal() {
        restore_terminal();
        delscreen(screen_);
    }
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;

    attr_t attr(Style style, bool selected) const {
        const Attr& a = kAttrs[static_cast<size_t>(style)];
        const bool block = style >= Style::flame_kernel_a;
        if (selected) {
            if (block) {
                const attr_t base = color_ ? COLOR_PAIR(static_cast<short>(style) + 1) : a.mono;
                return (base ^ A_REVERSE) | A_BOLD;
            }
            return A_REVERSE | A_BOLD;
        }
        if (!color_) return a.mono;
        return COLOR_PAIR(static_cast<short>(style) + 1) | a.extra;
    }

  private:
    SCREEN* screen_ = nullptr;
    bool color_ = false;
};

void draw_spans(const Terminal& term, int y, const std::vector<Span>& spans, bool selected,
                Style fill, int width) {
    move(y, 0);
    int x = 0;
    for (const Span& span : spans) {
        if (x >= width) break;
        attrset(term.attr(span.style, selected));
        // Clip by code points: one column each (see tui/text.hpp display_width).
        const std::string& t = span.text;
        size_t bytes = 0;
        int cols = 0;
        while (bytes < t.size() && x + cols < width) {
            ++bytes;
            while (bytes < t.size() && (static_cast<unsigned char>(t[bytes]) & 0xc0) == 0x80)
                ++bytes;
            ++cols;
        }
        addnstr(t.data(), static_cast<int>(bytes));
        x += cols;
    }
    if (x < width) {
        attrset(term.attr(fill, selected));
        hline(' ', width - x);
    }
    attrset(A_NORMAL);
}

void draw(const Terminal& term, App& app, bool unicode) {
    int height = 0, width = 0;
    getmaxyx(stdscr, height, width);
    erase();
    if (height >= 1 && width >= 1) {
        const Screen s = app.screen(Viewport{.width = width, .height = height, .unicode = unicode});
        draw_spans(term, 0, s.title, false, Style::title, width);
        for (size_t i = 0; i < s.body.size() && static_cast<int>(i) + 1 < height - 1; ++i)
            draw_spans(term, static_cast<int>(i) + 1, s.body[i].spans, s.body[i].selected,
                       Style::normal, width);
        if (height >= 2) draw_spans(term, height - 1, s.status, false, Style::status, width);
    }
    refresh();
}

Key translate(int rc, wint_t ch) {
    if (rc == OK) {
        switch (ch) {
            case '\r':
            case '\n':
                return Key::of(KeyCode::enter);
            case 27:
                return Key::of(KeyCode::escape);
            case 127:
            case 8:
                return Key::of(KeyCode::backspace);
            case '\t':
                return Key::of(KeyCode::tab);
            default:
                return Key::chr(static_cast<char32_t>(ch));
        }
    }
    if (rc != KEY_CODE_YES) return {};
    switch (ch) {
        case KEY_UP:
            return Key::of(KeyCode::up);
        case KEY_DOWN:
            return Key::of(KeyCode::down);
        case KEY_LEFT:
            return Key::of(KeyCode::left);
        case KEY_RIGHT:
            return Key::of(KeyCode::right);
        case KEY_PPAGE:
            return Key::of(KeyCode::page_up);
        case KEY_NPAGE:
            return Key::of(KeyCode::page_down);
        case KEY_HOME:
            return Key::of(KeyCode::home);
        case KEY_END:
            return Key::of(KeyCode::end);
        case KEY_ENTER:
            return Key::of(KeyCode::enter);
        case KEY_BACKSPACE:
            return Key::of(KeyCode::backspace);
        case KEY_RESIZE:
            return Key::of(KeyCode::resize);
        case KEY_MOUSE: {
            MEVENT ev{};
            if (getmouse(&ev) != OK) return {};
            if (ev.bstate & BUTTON4_PRESSED) return Key::of(KeyCode::up);
            if (ev.bstate & BUTTON5_PRESSED) return Key::of(KeyCode::down);
            // Row 0 is the title bar: the App's body starts at terminal row 1.
            if (ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)) return Key::click(ev.y - 1, ev.x);
            return {};
        }
        default:
            return {};
    }
}

bool utf8_locale() {
    const char* codeset = nl_langinfo(CODESET);
    return codeset != nullptr && std::strcmp(codeset, "UTF-8") == 0;
}

}  // namespace

bool interactive_terminal() {
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

void run_terminal(App& app, const TerminalOptions& options) {
    if (!interactive_terminal())
        throw Error(
            "standard input and output must be a terminal for 'kprof tui'; for text output use "
            "'kprof report FILE'");
    std::setlocale(LC_ALL, "");
    const bool unicode = options.unicode && utf8_locale();
    Terminal term(options);
    // get_wch blocks, so a run of errors means input is gone (hang-up, closed pty).
    int errors = 0;
    while (!app.quitting() && errors < 100) {
        draw(term, app, unicode);
        wint_t ch = 0;
        const int rc = get_wch(&ch);
        if (rc == ERR) {
            ++errors;
            continue;
        }
        errors = 0;
        app.handle(translate(rc, ch));
    }
}

}  // namespace kprof::tui

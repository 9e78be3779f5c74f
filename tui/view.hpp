// The contract between view models and the renderer. A view model owns all state of one
// screen (rows, cursor, scroll, search, ...) and turns keys into state changes; the
// renderer (tui/render/) only draws the rows a view returns and turns terminal input into
// Keys. Nothing here includes curses, so every view is unit-tested without a terminal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kprof::tui {

// Index of a function in the session's call graph.
using FunctionRef = uint32_t;

enum class KeyCode : uint8_t {
    none,
    character,  // Key::ch holds the code point
    up,
    down,
    left,
    right,
    page_up,
    page_down,
    home,
    end,
    enter,
    backspace,
    escape,
    tab,
    resize,
    mouse,  // a left click at body row Key::row, column Key::col
};

struct Key {
    KeyCode code = KeyCode::none;
    char32_t ch = 0;
    int row = 0;  // mouse: row within the view's body (0 = first body row)
    int col = 0;

    static Key chr(char32_t c) { return Key{.code = KeyCode::character, .ch = c}; }
    static Key of(KeyCode c) { return Key{.code = c}; }
    static Key click(int row, int col) {
        return Key{.code = KeyCode::mouse, .row = row, .col = col};
    }
    bool is(char32_t c) const { return code == KeyCode::character && ch == c; }
    bool operator==(const Key&) const = default;
};

// What a span of text means; the renderer maps each to a colour pair and to attributes
// for monochrome terminals.
enum class Style : uint8_t {
    normal,
    header,          // column headings, section titles
    title,           // the top bar
    status,          // the bottom bar
    warning,         // lost samples, errors
    dim,             // secondary text (module names, hints)
    match,           // search hits
    bar,             // percentage bars
    kernel,          // kernel function names
    user,            // user-space function names
    center,          // the function in the middle of the butterfly
    flame_kernel_a,  // flame graph blocks; a/b alternate so neighbours stay apart
    flame_kernel_b,
    flame_user_a,
    flame_user_b,
    count_,
};

struct Span {
    std::string text;  // UTF-8, already escaped and fitted by the view
    Style style = Style::normal;
    bool operator==(const Span&) const = default;
};

struct Row {
    std::vector<Span> spans;
    bool selected = false;     // the cursor row: drawn highlighted across the full width
    std::string text() const;  // the spans joined: for tests and searches
};

// Cuts every row to `width` columns (views lay out for the width, but fixed columns can
// still overflow a very narrow terminal).
void clip(std::vector<Row>& rows, size_t width);

// Glyphs differ between UTF-8 and ASCII terminals; views pick from this table.
struct Glyphs {
    bool unicode = true;
    const char* tree_open;    // expanded node
    const char* tree_closed;  // collapsed node with children
    const char* tree_leaf;
    const char* arrow_up;    // caller marker
    const char* arrow_down;  // callee marker
    const char* ellipsis;
    static const Glyphs& get(bool unicode);
};

// The part of the screen a view draws into: the body between the title and status bars.
struct Viewport {
    int width = 80;
    int height = 24;
    bool unicode = true;
    const Glyphs& glyphs() const { return Glyphs::get(unicode); }
};

// What a key asked for beyond the view's own state; the App carries it out.
struct Action {
    enum class Kind : uint8_t {
        ignored,        // not this view's key: the App may handle it
        handled,        // the view changed its own state
        open_function,  // open the butterfly view of `function`
        open_paths,     // open the path view of `function`
        back,           // leave this view
        quit,
    };
    Kind kind = Kind::ignored;
    FunctionRef function = 0;

    static Action ignored() { return {}; }
    static Action handled() { return {.kind = Kind::handled}; }
    static Action open(FunctionRef f) { return {.kind = Kind::open_function, .function = f}; }
    bool operator==(const Action&) const = default;
};

// One screen. Like uftrace's tui_window_ops, but an object per view: no file-static state.
class View {
  public:
    virtual ~View() = default;
    virtual std::string title() const = 0;
    // View-specific status text (search prompt, sort order); the App adds session facts.
    virtual std::string status() const { return {}; }
    // The visible body rows, at most viewport.height. Not const: it keeps the cursor
    // visible for the viewport's size and remembers that size for PageUp/PageDown.
    virtual std::vector<Row> rows(const Viewport& viewport) = 0;
    virtual Action handle(const Key& key) = 0;
    // While true (e.g. typing a search) every key goes to the view, even 'q'.
    virtual bool capturing_input() const { return false; }
    // The function the cursor is on, for session-wide keys (p, f).
    virtual std::optional<FunctionRef> current_function() const { return std::nullopt; }
    // The session's graph changed (event switch, focus): rebuild rows from it.
    virtual void refresh() {}
};

// Cursor and scroll position of a list: the common part of every list view.
class ListCursor {
  public:
    size_t cursor() const { return cursor_; }
    size_t top() const { return top_; }
    size_t page() const { return page_ > 0 ? page_ : 1; }
    void set(size_t index, size_t count);
    // Applies up/down/page/home/end; returns false for any other key.
    bool navigate(const Key& key, size_t count);
    // Remembers the page height and scrolls so the cursor is visible.
    void fit(size_t height, size_t count);

  private:
    size_t cursor_ = 0;
    size_t top_ = 0;
    size_t page_ = 0;
};

}  // namespace kprof::tui

#include "tui/view.hpp"

#include <algorithm>

#include "tui/text.hpp"

namespace kprof::tui {

std::string Row::text() const {
    std::string s;
    for (const Span& span : spans) s += span.text;
    return s;
}

void clip(std::vector<Row>& rows, size_t width) {
    for (Row& row : rows) {
        size_t used = 0;
        for (size_t i = 0; i < row.spans.size(); ++i) {
            std::string& t = row.spans[i].text;
            const size_t w = display_width(t);
            if (used + w <= width) {
                used += w;
                continue;
            }
            // Keep the first (width - used) code points of this span, drop the rest.
            size_t bytes = 0;
            for (size_t cols = 0; bytes < t.size() && cols < width - used; ++cols) {
                ++bytes;
                while (bytes < t.size() && (static_cast<unsigned char>(t[bytes]) & 0xc0) == 0x80)
                    ++bytes;
            }
            t.resize(bytes);
            row.spans.resize(i + 1);
            break;
        }
    }
}

const Glyphs& Glyphs::get(bool unicode) {
    static const Glyphs kUnicode{
        .unicode = true,
        .tree_open = "\u25be ",
        .tree_closed = "\u25b8 ",
        .tree_leaf = "  ",
        .arrow_up = "\u2191",
        .arrow_down = "\u2193",
        .ellipsis = "\u2026",
    };
    static const Glyphs kAscii{
        .unicode = false,
        .tree_open = "- ",
        .tree_closed = "+ ",
        .tree_leaf = "  ",
        .arrow_up = "^",
        .arrow_down = "v",
        .ellipsis = "~",
    };
    return unicode ? kUnicode : kAscii;
}

void ListCursor::set(size_t index, size_t count) {
    cursor_ = count == 0 ? 0 : std::min(index, count - 1);
    // Before the first draw the page height is unknown: scroll only as far as needed.
    if (page_ == 0)
        top_ = std::min(top_, cursor_);
    else
        fit(page_, count);
}

bool ListCursor::navigate(const Key& key, size_t count) {
    if (count == 0) return key.code == KeyCode::up || key.code == KeyCode::down;
    const size_t last = count - 1;
    switch (key.code) {
        case KeyCode::up:
            if (cursor_ > 0) --cursor_;
            break;
        case KeyCode::down:
            if (cursor_ < last) ++cursor_;
            break;
        case KeyCode::page_up:
            cursor_ = cursor_ > page() ? cursor_ - page() : 0;
            break;
        case KeyCode::page_down:
            cursor_ = std::min(last, cursor_ + page());
            break;
        case KeyCode::home:
            cursor_ = 0;
            break;
        case KeyCode::end:
            cursor_ = last;
            break;
        default:
            return false;
    }
    fit(page(), count);
    return true;
}

void ListCursor::fit(size_t height, size_t count) {
    page_ = height;
    if (count == 0) {
        cursor_ = top_ = 0;
        return;
    }
    cursor_ = std::min(cursor_, count - 1);
    const size_t h = std::max<size_t>(height, 1);
    if (cursor_ < top_) top_ = cursor_;
    if (cursor_ >= top_ + h) top_ = cursor_ - h + 1;
    // Do not leave blank rows at the bottom when the list could fill them.
    if (count >= h && top_ > count - h) top_ = count - h;
    if (count < h) top_ = 0;
}

}  // namespace kprof::tui

#include "tui/pager_view.hpp"

#include <algorithm>

namespace kprof::tui {

std::vector<Row> PagerView::rows(const Viewport& viewport) {
    std::vector<Row> all = content(viewport);
    count_ = all.size();
    page_ = static_cast<size_t>(std::max(viewport.height, 1));
    top_ = std::min(top_, count_ > page_ ? count_ - page_ : 0);
    const auto first = all.begin() + static_cast<ptrdiff_t>(top_);
    const auto last = all.begin() + static_cast<ptrdiff_t>(std::min(count_, top_ + page_));
    std::vector<Row> out(first, last);
    clip(out, static_cast<size_t>(std::max(viewport.width, 0)));
    return out;
}

Action PagerView::handle(const Key& key) {
    const size_t max_top = count_ > page_ ? count_ - page_ : 0;
    switch (key.code) {
        case KeyCode::up:
            if (top_ > 0) --top_;
            return Action::handled();
        case KeyCode::down:
            top_ = std::min(max_top, top_ + 1);
            return Action::handled();
        case KeyCode::page_up:
            top_ = top_ > page_ ? top_ - page_ : 0;
            return Action::handled();
        case KeyCode::page_down:
            top_ = std::min(max_top, top_ + page_);
            return Action::handled();
        case KeyCode::home:
            top_ = 0;
            return Action::handled();
        case KeyCode::end:
            top_ = max_top;
            return Action::handled();
        default:
            return Action::ignored();
    }
}

}  // namespace kprof::tui

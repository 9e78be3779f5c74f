#include "tui/path_view.hpp"

#include <algorithm>

#include "tui/text.hpp"

namespace kprof::tui {

PathView::PathView(Session& session, FunctionId target) : session_(session), target_(target) {
    rebuild();
}

std::string PathView::title() const {
    std::string t = "Hottest paths to " + session_.name(target_);
    if (from_ != kNoFunction) t += " from " + session_.name(from_);
    return t;
}

std::string PathView::status() const {
    return std::to_string(paths_.size()) +
           " paths  Enter: open  r: start at this caller  R: from roots";
}

std::optional<FunctionRef> PathView::current_function() const {
    if (lines_.empty()) return target_;
    const Line& l = lines_[cursor_.cursor()];
    return l.function == kNoFunction ? target_ : l.function;
}

void PathView::rebuild() {
    const size_t ev = session_.event();
    paths_.clear();
    if (ev < session_.aggregated().event_count())
        paths_ = hottest_paths(session_.aggregated(), target_,
                               PathOptions{.event = ev, .from = from_, .limit = 20});
    lines_.clear();
    for (size_t p = 0; p < paths_.size(); ++p) {
        lines_.push_back({.path = p});
        for (size_t d = 0; d < paths_[p].frames.size(); ++d)
            lines_.push_back(
                {.path = p, .function = paths_[p].frames[d], .depth = static_cast<uint32_t>(d)});
    }
    cursor_.set(cursor_.cursor(), lines_.size());
}

Action PathView::handle(const Key& key) {
    if (cursor_.navigate(key, lines_.size())) return Action::handled();
    switch (key.code) {
        case KeyCode::enter:
            if (const auto f = current_function()) return Action::open(*f);
            return Action::handled();
        case KeyCode::mouse: {
            if (key.row < 1) return Action::handled();
            const size_t i = cursor_.top() + static_cast<size_t>(key.row - 1);
            if (i >= lines_.size()) return Action::handled();
            if (i == cursor_.cursor()) return Action::open(*current_function());
            cursor_.set(i, lines_.size());
            return Action::handled();
        }
        case KeyCode::character:
            if (key.ch == 'r') {
                const auto f = current_function();
                if (f && *f != target_) {
                    from_ = *f;
                    cursor_.set(0, 0);
                    rebuild();
                }
                return Action::handled();
            }
            if (key.ch == 'R') {
                from_ = kNoFunction;
                rebuild();
                return Action::handled();
            }
            return Action::ignored();
        default:
            return Action::ignored();
    }
}

std::vector<Row> PathView::rows(const Viewport& vp) {
    std::vector<Row> out;
    if (vp.height <= 0) return out;
    const bool u = vp.unicode;
    const size_t width = static_cast<size_t>(std::max(vp.width, 1));
    cursor_.fit(static_cast<size_t>(std::max(vp.height - 1, 0)), lines_.size());
    const uint64_t ev_total = session_.event() < session_.graph().event_count()
                                  ? session_.graph().total(target_, session_.event())
                                  : 0;
    const double target_total = static_cast<double>(std::max<uint64_t>(ev_total, 1));
    out.push_back(Row{{{fit("Paths by weight; share = part of " + session_.name(target_) +
                                "'s total (" + format_weight(ev_total) + ")",
                            width, u),
                        Style::header}}});
    if (lines_.empty())
        out.push_back(Row{{{fit("no stack reaches this function", width, u), Style::dim}}});
    const Glyphs& gl = vp.glyphs();
    for (size_t i = cursor_.top(); i < lines_.size() && out.size() < static_cast<size_t>(vp.height);
         ++i) {
        const Line& l = lines_[i];
        const CallPath& path = paths_[l.path];
        Row r;
        r.selected = i == cursor_.cursor();
        if (l.function == kNoFunction) {
            r.spans.push_back(
                {fit("#" + std::to_string(l.path + 1) + "  " + format_weight(path.weight) + "  " +
                         format_percent(static_cast<double>(path.weight) / target_total) + "  " +
                         std::to_string(path.frames.size()) + " frames",
                     width, u),
                 Style::header});
        } else {
            const size_t indent = std::min<size_t>(4 + l.depth, width / 2);
            const bool last = l.depth + 1 == path.frames.size();
            const std::string lead =
                std::string(indent, ' ') + (l.depth == 0 ? "  " : std::string(gl.arrow_down) + " ");
            r.spans.push_back({lead, Style::dim});
            const size_t name_width = width > indent + 2 ? width - indent - 2 : 1;
            const bool kernel = session_.function(l.function).kernel;
            r.spans.push_back({fit(session_.name(l.function), name_width, u), last ? Style::center
                                                                              : kernel
                                                                                  ? Style::kernel
                                                                                  : Style::user});
        }
        out.push_back(std::move(r));
    }
    clip(out, width);
    return out;
}

}  // namespace kprof::tui

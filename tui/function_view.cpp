#include "tui/function_view.hpp"

#include <algorithm>

#include "tui/text.hpp"

namespace kprof::tui {
namespace {

// Arcs between a set of functions and the rest, summed per outside function: the callers
// or callees of a collapsed cycle. Arcs inside the set are recursion and are left out.
std::vector<FunctionView::Line> outside_arcs(const CallGraph& g,
                                             const std::vector<FunctionId>& members, size_t ev,
                                             bool callers, FunctionView::LineKind kind) {
    // Cycles of random-looking graphs can have thousands of members: flat arrays indexed
    // by function rather than maps.
    std::vector<bool> inside(g.function_count(), false);
    for (FunctionId m : members) inside[m] = true;
    std::vector<uint64_t> weight(g.function_count(), 0), self(g.function_count(), 0);
    std::vector<bool> listed(g.function_count(), false);
    std::vector<FunctionId> touched;
    for (FunctionId m : members) {
        auto add = [&](FunctionId other, ArcId arc) {
            if (inside[other]) return;
            if (!listed[other]) {
                listed[other] = true;
                touched.push_back(other);
            }
            weight[other] += g.arc_weight(arc, ev);
            self[other] += g.arc_self(arc, ev);
        };
        // The graph's edges directly: callers()/callees() sort, which is wasted here.
        if (callers) {
            for (auto [e, end] = boost::in_edges(m, g.graph()); e != end; ++e)
                add(static_cast<FunctionId>(boost::source(*e, g.graph())), g.graph()[*e].arc);
        } else {
            for (auto [e, end] = boost::out_edges(m, g.graph()); e != end; ++e)
                add(static_cast<FunctionId>(boost::target(*e, g.graph())), g.graph()[*e].arc);
        }
    }
    std::vector<FunctionView::Line> out;
    for (FunctionId f : touched) {
        FunctionView::Line l;
        l.kind = kind;
        l.function = f;
        l.weight = weight[f];
        l.self = self[f];
        out.push_back(std::move(l));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.weight > b.weight; });
    return out;
}

}  // namespace

FunctionView::FunctionView(Session& session, FunctionId function)
    : session_(session), center_(function) {
    rebuild();
    select_center();
}

std::string FunctionView::title() const {
    return "Function " + session_.name(center_) + "  (callers above, callees below)";
}

std::string FunctionView::status() const {
    std::string s = "Enter: walk there  Backspace: back";
    if (!history_.empty()) s += " (" + std::to_string(history_.size()) + ")";
    if (session_.collapse_cycles()) s += "  cycles collapsed";
    return s;
}

void FunctionView::rebuild() {
    const CallGraph& g = session_.graph();
    const size_t ev = session_.event();
    lines_.clear();
    if (ev >= g.event_count() || center_ >= g.function_count()) {
        lines_.push_back({.kind = LineKind::note, .text = "no samples for this event"});
        cursor_ = 0;
        return;
    }
    const int cycle = session_.collapse_cycles() ? g.cycle_of(center_) : 0;
    std::vector<FunctionId> members{center_};
    if (cycle > 0) members = g.cycles()[static_cast<size_t>(cycle - 1)].members;
    const uint64_t total = cycle > 0 ? g.cycle_total(cycle, ev) : g.total(center_, ev);
    const uint64_t self = cycle > 0 ? g.cycle_self(cycle, ev) : g.self(center_, ev);
    const double denom = static_cast<double>(std::max<uint64_t>(total, 1));

    std::vector<Line> callers, callees;
    if (session_.collapse_cycles()) {
        callers = outside_arcs(g, members, ev, true, LineKind::caller);
        callees = outside_arcs(g, members, ev, false, LineKind::callee);
    } else {
        for (const Arc& a : g.callers(center_, ev))
            callers.push_back({.kind = LineKind::caller,
                               .function = a.caller,
                               .weight = g.arc_weight(a.id, ev),
                               .self = g.arc_self(a.id, ev),
                               .text = {}});
        for (const Arc& a : g.callees(center_, ev))
            callees.push_back({.kind = LineKind::callee,
                               .function = a.callee,
                               .weight = g.arc_weight(a.id, ev),
                               .self = g.arc_self(a.id, ev),
                               .text = {}});
    }
    std::erase_if(callers, [](const Line& l) { return l.weight == 0; });
    std::erase_if(callees, [](const Line& l) { return l.weight == 0; });
    for (Line& l : callers) l.share = static_cast<double>(l.weight) / denom;
    for (Line& l : callees) l.share = static_cast<double>(l.weight) / denom;
    if (session_.collapse_cycles())
        for (Line& l : callers) l.cycle = g.cycle_of(l.function);

    // Callers are listed lightest first, so the heaviest sits right above the centre.
    std::reverse(callers.begin(), callers.end());
    lines_.push_back(
        {.kind = LineKind::heading, .text = "Callers (" + std::to_string(callers.size()) + ")"});
    const uint64_t spontaneous = cycle > 0 ? 0 : g.root_weight(center_, ev);
    if (spontaneous > 0)
        lines_.push_back({.kind = LineKind::note,
                          .weight = spontaneous,
                          .share = static_cast<double>(spontaneous) / denom,
                          .text = "<spontaneous: stacks start here>"});
    if (callers.empty() && spontaneous == 0)
        lines_.push_back({.kind = LineKind::note, .text = "(none)"});
    lines_.insert(lines_.end(), callers.begin(), callers.end());
    lines_.push_back({.kind = LineKind::center,
                      .function = center_,
                      .weight = total,
                      .self = self,
                      .share = static_cast<double>(total) /
                               static_cast<double>(std::max<uint64_t>(session_.total_weight(), 1)),
                      .text = {},
                      .cycle = cycle});
    lines_.push_back(
        {.kind = LineKind::heading, .text = "Callees (" + std::to_string(callees.size()) + ")"});
    if (callees.empty()) lines_.push_back({.kind = LineKind::note, .text = "(none)"});
    lines_.insert(lines_.end(), callees.begin(), callees.end());
    if (session_.collapse_cycles())
        for (Line& l : lines_)
            if (l.kind == LineKind::callee) l.cycle = g.cycle_of(l.function);
    cursor_ = std::min(cursor_, lines_.size() - 1);
    if (!selectable(cursor_)) select_center();
}

bool FunctionView::selectable(size_t i) const {
    return i < lines_.size() &&
           (lines_[i].kind == LineKind::caller || lines_[i].kind == LineKind::center ||
            lines_[i].kind == LineKind::callee);
}

void FunctionView::select_center() {
    for (size_t i = 0; i < lines_.size(); ++i)
        if (lines_[i].kind == LineKind::center) cursor_ = i;
}

void FunctionView::select_function(FunctionId f, LineKind prefer) {
    for (size_t i = 0; i < lines_.size(); ++i)
        if (lines_[i].kind == prefer && lines_[i].function == f) {
            cursor_ = i;
            return;
        }
    select_center();
}

void FunctionView::move(int direction, size_t steps) {
    for (size_t s = 0; s < steps; ++s) {
        size_t i = cursor_;
        do {
            if (direction < 0 && i == 0) return;
            i = direction < 0 ? i - 1 : i + 1;
            if (i >= lines_.size()) return;
        } while (!selectable(i));
        cursor_ = i;
    }
}

void FunctionView::recenter(FunctionId function) {
    if (function == center_) return;
    history_.push_back(center_);
    center_ = function;
    rebuild();
    select_center();
    top_ = 0;
}

Action FunctionView::handle(const Key& key) {
    switch (key.code) {
        case KeyCode::up:
            move(-1, 1);
            return Action::handled();
        case KeyCode::down:
            move(1, 1);
            return Action::handled();
        case KeyCode::page_up:
            move(-1, page_);
            return Action::handled();
        case KeyCode::page_down:
            move(1, page_);
            return Action::handled();
        case KeyCode::home:
            move(-1, lines_.size());
            return Action::handled();
        case KeyCode::end:
            move(1, lines_.size());
            return Action::handled();
        case KeyCode::enter:
            if (selectable(cursor_) && lines_[cursor_].kind != LineKind::center)
                recenter(lines_[cursor_].function);
            return Action::handled();
        case KeyCode::backspace:
        case KeyCode::left: {
            if (history_.empty()) return Action::ignored();  // the App goes back a view
            const FunctionId from = center_;
            center_ = history_.back();
            history_.pop_back();
            rebuild();
            // Land on the function we came back from, so walking back and forth is cheap.
            const bool was_callee = std::any_of(lines_.begin(), lines_.end(), [&](const Line& l) {
                return l.kind == LineKind::callee && l.function == from;
            });
            select_function(from, was_callee ? LineKind::callee : LineKind::caller);
            return Action::handled();
        }
        case KeyCode::mouse: {
            if (key.row < 0) return Action::handled();
            const size_t i = top_ + static_cast<size_t>(key.row);
            if (!selectable(i)) return Action::handled();
            if (i == cursor_ && lines_[i].kind != LineKind::center)
                recenter(lines_[i].function);
            else
                cursor_ = i;
            return Action::handled();
        }
        case KeyCode::character:
            if (key.ch == 'c') {
                session_.set_collapse_cycles(!session_.collapse_cycles());
                const FunctionId keep = selectable(cursor_) ? lines_[cursor_].function : center_;
                const LineKind kind = selectable(cursor_) ? lines_[cursor_].kind : LineKind::center;
                rebuild();
                select_function(keep, kind);
                return Action::handled();
            }
            return Action::ignored();
        default:
            return Action::ignored();
    }
}

std::vector<Row> FunctionView::rows(const Viewport& vp) {
    std::vector<Row> out;
    if (vp.height <= 0) return out;
    const bool u = vp.unicode;
    const size_t width = static_cast<size_t>(std::max(vp.width, 1));
    const size_t height = static_cast<size_t>(vp.height);
    page_ = std::max<size_t>(height - 1, 1);
    // Keep the cursor visible; centre the middle line when the whole entry does not fit.
    if (cursor_ < top_) top_ = cursor_;
    if (cursor_ >= top_ + height) top_ = cursor_ - height + 1;
    if (lines_.size() <= height) top_ = 0;

    const bool wide = width >= 60;
    const size_t bar_width = wide ? 8 : 0;
    const size_t fixed = 8 + 8 + (wide ? bar_width + 2 : 0) + 4;
    const size_t name_width = width > fixed ? width - fixed : 1;
    const CallGraph& g = session_.graph();
    auto label = [&](FunctionId f, int cycle) {
        std::string n = session_.name(f);
        if (cycle > 0) n += " <cycle " + std::to_string(cycle) + ">";
        return n;
    };
    for (size_t i = top_; i < lines_.size() && out.size() < height; ++i) {
        const Line& l = lines_[i];
        Row r;
        r.selected = i == cursor_;
        switch (l.kind) {
            case LineKind::heading:
                r.spans.push_back({fit(l.text, width, u), Style::header});
                break;
            case LineKind::note:
                if (l.weight > 0)
                    r.spans.push_back({fit_right(format_weight(l.weight), 8) +
                                           fit_right(format_percent(l.share), 8) + "    ",
                                       Style::normal});
                r.spans.push_back({fit(l.text, name_width, u), Style::dim});
                break;
            case LineKind::caller:
            case LineKind::callee: {
                const Function& fn = g.profile().function(l.function);
                r.spans.push_back(
                    {fit_right(format_weight(l.weight), 8) + fit_right(format_percent(l.share), 8),
                     Style::normal});
                if (wide) r.spans.push_back({"  " + bar(l.share, bar_width, u), Style::bar});
                const Glyphs& gl = vp.glyphs();
                r.spans.push_back({std::string("  ") +
                                       (l.kind == LineKind::caller ? gl.arrow_up : gl.arrow_down) +
                                       " ",
                                   Style::dim});
                r.spans.push_back({fit(label(l.function, l.cycle), name_width, u),
                                   fn.kernel ? Style::kernel : Style::user});
                break;
            }
            case LineKind::center: {
                const std::string name = l.cycle > 0 ? "<cycle " + std::to_string(l.cycle) + "> (" +
                                                           session_.name(center_) + " ...)"
                                                     : session_.name(center_);
                std::string text = "== " + name + "  self " + format_weight(l.self) + "  total " +
                                   format_weight(l.weight) + "  " + format_percent(l.share) +
                                   " of all ==";
                r.spans.push_back({fit(text, width, u), Style::center});
                break;
            }
        }
        out.push_back(std::move(r));
    }
    clip(out, width);
    return out;
}

}  // namespace kprof::tui

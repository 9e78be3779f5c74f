#include "tui/functions_view.hpp"

#include <algorithm>

#include "tui/text.hpp"

namespace kprof::tui {
namespace {

const char* sort_name(FunctionsView::Sort s) {
    switch (s) {
        case FunctionsView::Sort::self:
            return "self";
        case FunctionsView::Sort::total:
            return "total";
        case FunctionsView::Sort::name:
            return "name";
    }
    return "";
}

const char* space_name(FunctionsView::Space s) {
    switch (s) {
        case FunctionsView::Space::all:
            return "kernel+user";
        case FunctionsView::Space::kernel:
            return "kernel";
        case FunctionsView::Space::user:
            return "user";
    }
    return "";
}

}  // namespace

FunctionsView::FunctionsView(Session& session) : session_(session) {
    rebuild(std::nullopt);
}

std::string FunctionsView::title() const {
    return std::string("Functions (") + space_name(space_) + ", by " + sort_name(sort_) + ")";
}

std::string FunctionsView::status() const {
    if (searching_) return "/" + query_;
    if (!note_.empty()) return note_;
    return std::to_string(order_.size()) + " functions";
}

std::optional<FunctionRef> FunctionsView::current_function() const {
    if (order_.empty()) return std::nullopt;
    return order_[cursor_.cursor()];
}

void FunctionsView::refresh() {
    rebuild(current_function());
}

void FunctionsView::rebuild(std::optional<FunctionId> keep) {
    const CallGraph& g = session_.graph();
    const size_t ev = session_.event();
    const bool have_event = ev < g.event_count();
    order_ = have_event ? (sort_ == Sort::total ? g.by_total(ev) : g.by_self(ev))
                        : std::vector<FunctionId>{};
    if (space_ != Space::all) {
        const bool want_kernel = space_ == Space::kernel;
        std::erase_if(order_,
                      [&](FunctionId f) { return g.profile().function(f).kernel != want_kernel; });
    }
    // by_self/by_total list every function present in any event: drop the ones this
    // event never saw.
    if (have_event) std::erase_if(order_, [&](FunctionId f) { return g.total(f, ev) == 0; });
    if (sort_ == Sort::name)
        std::stable_sort(order_.begin(), order_.end(), [&](FunctionId a, FunctionId b) {
            return g.profile().function(a).name < g.profile().function(b).name;
        });
    size_t index = 0;
    if (keep) {
        const auto it = std::find(order_.begin(), order_.end(), *keep);
        if (it != order_.end()) index = static_cast<size_t>(it - order_.begin());
    }
    cursor_.set(index, order_.size());
}

bool FunctionsView::matches(size_t index) const {
    return contains_folded(session_.aggregated().function(order_[index]).name, query_);
}

bool FunctionsView::find(size_t from, bool forward) {
    const size_t n = order_.size();
    if (n == 0 || query_.empty()) return false;
    for (size_t step = 0; step < n; ++step) {
        const size_t i = forward ? (from + step) % n : (from + n - step % n) % n;
        if (matches(i)) {
            cursor_.set(i, n);
            return true;
        }
    }
    return false;
}

bool FunctionsView::find_exact() {
    const auto& agg = session_.aggregated();
    for (size_t i = 0; i < order_.size(); ++i) {
        const std::string& name = agg.function(order_[i]).name;
        if (name.size() == query_.size() && contains_folded(name, query_)) {
            cursor_.set(i, order_.size());
            return true;
        }
    }
    return false;
}

Action FunctionsView::search_key(const Key& key) {
    switch (key.code) {
        case KeyCode::enter:
            searching_ = false;
            return Action::handled();
        case KeyCode::escape:
            searching_ = false;
            query_.clear();
            cursor_.set(search_origin_, order_.size());
            return Action::handled();
        case KeyCode::backspace:
            if (query_.empty()) {
                searching_ = false;
                return Action::handled();
            }
            query_.pop_back();
            break;
        case KeyCode::character:
            if (key.ch < 0x20 || key.ch > 0x7e) return Action::handled();
            query_ += static_cast<char>(key.ch);
            break;
        case KeyCode::resize:
        case KeyCode::none:
            return Action::handled();
        default:
            // Moving while typing ends the search where the cursor is.
            searching_ = false;
            cursor_.navigate(key, order_.size());
            return Action::handled();
    }
    // Incremental: a function of exactly that name, else the first match from where the
    // search started ("icmp_echo" should not land on "icmp_echo.part.0").
    if (!query_.empty() && !find_exact() && !find(search_origin_, true))
        note_ = "no match for " + query_;
    if (query_.empty()) cursor_.set(search_origin_, order_.size());
    return Action::handled();
}

Action FunctionsView::handle(const Key& key) {
    note_.clear();
    if (searching_) return search_key(key);
    if (cursor_.navigate(key, order_.size())) return Action::handled();
    if (key.code == KeyCode::enter) {
        if (order_.empty()) return Action::handled();
        return Action::open(order_[cursor_.cursor()]);
    }
    if (key.code == KeyCode::mouse) {
        if (key.row < 1) return Action::handled();  // the column header
        const size_t index = cursor_.top() + static_cast<size_t>(key.row - 1);
        if (index >= order_.size()) return Action::handled();
        if (index == cursor_.cursor()) return Action::open(order_[index]);
        cursor_.set(index, order_.size());
        return Action::handled();
    }
    if (key.code != KeyCode::character) return Action::ignored();
    switch (key.ch) {
        case 's':
            sort_ = sort_ == Sort::self    ? Sort::total
                    : sort_ == Sort::total ? Sort::name
                                           : Sort::self;
            rebuild(current_function());
            return Action::handled();
        case 'k':
            space_ = space_ == Space::all      ? Space::kernel
                     : space_ == Space::kernel ? Space::user
                                               : Space::all;
            rebuild(current_function());
            return Action::handled();
        case '/':
            searching_ = true;
            query_.clear();
            search_origin_ = cursor_.cursor();
            return Action::handled();
        case 'n':
        case 'N':
            if (query_.empty()) {
                note_ = "no search: press / first";
            } else if (!find(key.ch == 'n' ? cursor_.cursor() + 1
                                           : cursor_.cursor() + order_.size() - 1,
                             key.ch == 'n')) {
                note_ = "no match for " + query_;
            }
            return Action::handled();
        default:
            return Action::ignored();
    }
}

std::vector<Row> FunctionsView::rows(const Viewport& vp) {
    const bool u = vp.unicode;
    const size_t width = static_cast<size_t>(std::max(vp.width, 1));
    const size_t list_height = static_cast<size_t>(std::max(vp.height - 1, 0));
    cursor_.fit(list_height, order_.size());
    const CallGraph& g = session_.graph();
    const size_t ev = session_.event();
    const double total = static_cast<double>(std::max<uint64_t>(session_.total_weight(), 1));

    // Columns that do not fit are dropped, widest-value-last, so 20 columns still work.
    const bool wide = width >= 70;
    const bool medium = width >= 40;
    const size_t bar_width = wide ? 10 : 0;
    std::vector<Row> out;
    if (vp.height <= 0) return out;
    {
        std::string h = fit_right("Self%", 7) + fit_right("Total%", 7);
        if (medium) h += fit_right("Self", 8) + fit_right("Total", 8);
        if (wide) h += "  " + fit("", bar_width);
        h += "  Function";
        out.push_back(Row{{{fit(h, width, u), Style::header}}});
    }
    const size_t fixed = 14 + (medium ? 16 : 0) + (wide ? 2 + bar_width : 0) + 2;
    const size_t rest = width > fixed ? width - fixed : 0;
    const size_t module_width = wide ? std::min<size_t>(24, rest / 3) : 0;
    const size_t name_width =
        rest > module_width + 1 ? rest - module_width - (module_width ? 1 : 0) : rest;

    for (size_t i = cursor_.top(); i < order_.size() && out.size() < static_cast<size_t>(vp.height);
         ++i) {
        const FunctionId f = order_[i];
        const Function& fn = g.profile().function(f);
        const uint64_t self = ev < g.event_count() ? g.self(f, ev) : 0;
        const uint64_t tot = ev < g.event_count() ? g.total(f, ev) : 0;
        const double fraction = (sort_ == Sort::self ? self : tot) / total;
        Row r;
        r.selected = i == cursor_.cursor();
        std::string nums =
            fit_right(format_percent(self / total), 7) + fit_right(format_percent(tot / total), 7);
        if (medium) nums += fit_right(format_weight(self), 8) + fit_right(format_weight(tot), 8);
        r.spans.push_back({nums, Style::normal});
        if (wide) r.spans.push_back({"  " + bar(fraction, bar_width, u), Style::bar});
        const bool hit = !query_.empty() && contains_folded(fn.name, query_);
        r.spans.push_back({"  " + fit(escape(fn.name), name_width, u), hit         ? Style::match
                                                                       : fn.kernel ? Style::kernel
                                                                                   : Style::user});
        if (module_width > 0)
            r.spans.push_back({" " + fit(escape(fn.module), module_width, u), Style::dim});
        out.push_back(std::move(r));
    }
    clip(out, width);
    return out;
}

}  // namespace kprof::tui

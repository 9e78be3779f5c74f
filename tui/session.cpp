#include "tui/session.hpp"

#include "tui/text.hpp"

namespace kprof::tui {

Session::Session(Profile profile, std::string trace_name, const AggregateOptions& options)
    : profile_(std::move(profile)),
      trace_name_(std::move(trace_name)),
      base_(aggregate(profile_, options)) {
    // Start on the first event that has samples, so the home screen is not empty.
    for (size_t i = 0; i < base_.event_count(); ++i)
        if (base_.events()[i].samples > 0) {
            event_ = i;
            break;
        }
    base_graph_ = std::make_unique<CallGraph>(base_);
}

Session::~Session() = default;

void Session::reset_trees() {
    top_down_.reset();
    bottom_up_.reset();
}

LazyTree& Session::tree(bool inverted) {
    auto& slot = inverted ? bottom_up_ : top_down_;
    if (!slot) slot = std::make_unique<LazyTree>(aggregated(), event_, inverted);
    return *slot;
}

std::string Session::event_name() const {
    if (event_ < base_.event_count()) return escape(base_.events()[event_].name);
    return "(no samples)";
}

bool Session::next_event() {
    const size_t n = base_.event_count();
    if (n < 2) return false;
    event_ = (event_ + 1) % n;
    // Trees are per event; the graph holds every event.
    reset_trees();
    return true;
}

bool Session::select_event(std::string_view name) {
    const int i = base_.find_event(std::string(name));
    if (i < 0) return false;
    event_ = static_cast<size_t>(i);
    reset_trees();
    return true;
}

uint64_t Session::total_weight() const {
    return event_ < aggregated().event_count() ? aggregated().total(event_) : 0;
}

void Session::focus(FunctionId function) {
    // Focus is always taken from the whole trace, so f on another function replaces it.
    // The trees and the old focused graph point into the old aggregation: drop them first.
    reset_trees();
    focused_graph_.reset();
    focused_ = std::make_unique<AggregatedProfile>(base_.focus_on(function));
    focused_graph_ = std::make_unique<CallGraph>(*focused_);
    focus_ = function;
}

void Session::clear_focus() {
    if (!focus_) return;
    focus_.reset();
    reset_trees();
    focused_graph_.reset();
    focused_.reset();
}

std::string Session::name(FunctionId function) const {
    if (function == kNoFunction) return "all";
    return escape(aggregated().function(function).name);
}

std::string Session::filter_description() const {
    std::string out;
    const std::string& base = base_.filters_text();
    if (!base.empty() && base != "none") out = base;
    if (focus_) out += (out.empty() ? "" : " ") + std::string("focus=") + name(*focus_);
    return out;
}

}  // namespace kprof::tui

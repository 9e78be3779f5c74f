// What every view of one `kprof tui` run shares: the trace, its aggregation, the chosen
// event, the focus filter and the call graph built from them. Views hold a reference to
// the session and rebuild their rows (View::refresh) when the App changes it. All graph
// logic is the analyzer's; the session only decides which graph is current.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "analyzer/aggregate.hpp"
#include "analyzer/call_graph.hpp"
#include "analyzer/tree.hpp"
#include "trace/profile.hpp"
#include "tui/view.hpp"

namespace kprof::tui {

class Session {
  public:
    // Aggregates `profile` (the expensive step: once per session).
    Session(Profile profile, std::string trace_name, const AggregateOptions& options = {});
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const Profile& profile() const { return profile_; }
    const std::string& trace_name() const { return trace_name_; }

    // The aggregation and call graph of the current focus (the whole trace without one).
    const AggregatedProfile& aggregated() const { return focused_ ? *focused_ : base_; }
    const CallGraph& graph() const { return focused_graph_ ? *focused_graph_ : *base_graph_; }
    // Call trees of the current event and focus, made on first use and grown as views
    // expand them (shared by the tree and flame views).
    LazyTree& tree(bool inverted);

    // Index into aggregated().events().
    size_t event() const { return event_; }
    size_t event_count() const { return base_.event_count(); }
    std::string event_name() const;
    // Cycles to the next event; false if the trace has no other.
    bool next_event();
    // Selects the event named `name`; false if the trace has none of that name.
    bool select_event(std::string_view name);
    // Weight of every sample of the current event (the 100% of percentages).
    uint64_t total_weight() const;

    // Keeps only stacks through `function` (f); clear_focus() (F) undoes it.
    void focus(FunctionId function);
    void clear_focus();
    std::optional<FunctionId> focused_function() const { return focus_; }

    // Butterfly option ('c'): recursion cycles shown as one entry.
    bool collapse_cycles() const { return collapse_cycles_; }
    void set_collapse_cycles(bool on) { collapse_cycles_ = on; }

    // The function's name, escaped for the terminal.
    std::string name(FunctionId function) const;
    const Function& function(FunctionId f) const { return aggregated().function(f); }

    uint64_t lost() const { return profile_.total_lost(); }
    // "focus=tcp_sendmsg", "" when unfiltered.
    std::string filter_description() const;

  private:
    void reset_trees();

    Profile profile_;
    std::string trace_name_;
    AggregatedProfile base_;
    std::unique_ptr<AggregatedProfile> focused_;
    std::unique_ptr<CallGraph> base_graph_;     // kept: clearing the focus is instant
    std::unique_ptr<CallGraph> focused_graph_;  // of focused_
    std::unique_ptr<LazyTree> top_down_, bottom_up_;
    size_t event_ = 0;
    std::optional<FunctionId> focus_;
    bool collapse_cycles_ = false;
};

}  // namespace kprof::tui

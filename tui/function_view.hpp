#pragma once

#include <vector>

#include "tui/session.hpp"

namespace kprof::tui {

// One function as a gprof call-graph entry you can walk: callers above with the weight of
// each caller->function arc, the function in the middle, callees below. Enter re-centres
// on the selected caller or callee; Backspace walks back through the history.
class FunctionView : public View {
  public:
    FunctionView(Session& session, FunctionId function);

    enum class LineKind : uint8_t { heading, caller, center, callee, note };
    struct Line {
        LineKind kind = LineKind::note;
        FunctionId function = kNoFunction;
        uint64_t weight = 0;  // caller/callee: arc weight; center: total
        uint64_t self = 0;    // caller/callee: the part where the callee is the leaf
        double share = 0;     // of the centre's total
        std::string text;     // heading/note text
        int cycle = 0;        // collapsed: the cycle this entry stands for
    };

    std::string title() const override;
    std::string status() const override;
    std::vector<Row> rows(const Viewport& viewport) override;
    Action handle(const Key& key) override;
    std::optional<FunctionRef> current_function() const override { return center_; }
    void refresh() override { rebuild(); }

    // For tests and the benchmark.
    FunctionId center() const { return center_; }
    const std::vector<Line>& lines() const { return lines_; }
    size_t cursor() const { return cursor_; }  // index into lines()
    const std::vector<FunctionId>& history() const { return history_; }
    // Re-centres on `function`, remembering the current centre for Backspace.
    void recenter(FunctionId function);

  private:
    void rebuild();
    bool selectable(size_t i) const;
    void move(int direction, size_t steps);
    void select_function(FunctionId f, LineKind prefer);
    void select_center();

    Session& session_;
    FunctionId center_;
    std::vector<FunctionId> history_;
    std::vector<Line> lines_;
    size_t cursor_ = 0;
    size_t top_ = 0;
    size_t page_ = 1;
};

}  // namespace kprof::tui

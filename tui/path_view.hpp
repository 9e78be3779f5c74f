#pragma once

#include <vector>

#include "analyzer/paths.hpp"
#include "tui/session.hpp"

namespace kprof::tui {

// 'p': the hottest call paths down to one function, heaviest first, each with its weight
// and share of the function's total; 'r' starts the paths at the selected caller.
class PathView : public View {
  public:
    PathView(Session& session, FunctionId target);

    struct Line {
        size_t path = 0;                    // index into paths()
        FunctionId function = kNoFunction;  // kNoFunction: the path's heading line
        uint32_t depth = 0;
    };

    std::string title() const override;
    std::string status() const override;
    std::vector<Row> rows(const Viewport& viewport) override;
    Action handle(const Key& key) override;
    std::optional<FunctionRef> current_function() const override;
    void refresh() override { rebuild(); }

    // For tests and the benchmark.
    const std::vector<CallPath>& paths() const { return paths_; }
    const std::vector<Line>& lines() const { return lines_; }
    size_t cursor() const { return cursor_.cursor(); }
    FunctionId target() const { return target_; }
    FunctionId from() const { return from_; }

  private:
    void rebuild();

    Session& session_;
    FunctionId target_;
    FunctionId from_ = kNoFunction;
    std::vector<CallPath> paths_;
    std::vector<Line> lines_;
    ListCursor cursor_;
};

}  // namespace kprof::tui

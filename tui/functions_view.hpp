#pragma once

#include <string>
#include <vector>

#include "tui/session.hpp"

namespace kprof::tui {

// The home screen: every function with self and total weight, sortable and searchable.
class FunctionsView : public View {
  public:
    enum class Sort : uint8_t { self, total, name };
    enum class Space : uint8_t { all, kernel, user };

    explicit FunctionsView(Session& session);

    std::string title() const override;
    std::string status() const override;
    std::vector<Row> rows(const Viewport& viewport) override;
    Action handle(const Key& key) override;
    bool capturing_input() const override { return searching_; }
    std::optional<FunctionRef> current_function() const override;
    void refresh() override;

    // For tests and the benchmark.
    const std::vector<FunctionId>& order() const { return order_; }
    size_t cursor() const { return cursor_.cursor(); }
    Sort sort() const { return sort_; }
    Space space() const { return space_; }
    const std::string& query() const { return query_; }

  private:
    void rebuild(std::optional<FunctionId> keep);
    bool matches(size_t index) const;
    // Moves the cursor to the next (forward) or previous match, starting at `from`.
    bool find(size_t from, bool forward);
    bool find_exact();
    Action search_key(const Key& key);

    Session& session_;
    std::vector<FunctionId> order_;
    ListCursor cursor_;
    Sort sort_ = Sort::self;
    Space space_ = Space::all;
    bool searching_ = false;
    std::string query_;
    size_t search_origin_ = 0;  // cursor when '/' was pressed: Esc returns there
    std::string note_;
};

}  // namespace kprof::tui

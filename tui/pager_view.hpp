#pragma once

#include "tui/view.hpp"

namespace kprof::tui {

// A read-only page of text that scrolls: the base of the help and info views.
class PagerView : public View {
  public:
    std::vector<Row> rows(const Viewport& viewport) override;
    Action handle(const Key& key) override;

  protected:
    virtual std::vector<Row> content(const Viewport& viewport) const = 0;

  private:
    size_t top_ = 0;
    size_t page_ = 1;
    size_t count_ = 0;
};

}  // namespace kprof::tui

#pragma once

#include "tui/pager_view.hpp"

namespace kprof::tui {

// '?': every key, grouped by the view it works in (from tui/keys.hpp).
class HelpView : public PagerView {
  public:
    std::string title() const override { return "Help"; }
    std::string status() const override { return "Esc or Backspace: back"; }
    Action handle(const Key& key) override;

  protected:
    std::vector<Row> content(const Viewport& viewport) const override;
};

}  // namespace kprof::tui

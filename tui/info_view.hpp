#pragma once

#include "tui/pager_view.hpp"
#include "tui/session.hpp"

namespace kprof::tui {

// 'I': what the trace holds (metadata, events, samples, losses) and the active filters.
class InfoView : public PagerView {
  public:
    explicit InfoView(const Session& session) : session_(session) {}
    std::string title() const override { return "Trace information"; }

  protected:
    std::vector<Row> content(const Viewport& viewport) const override;

  private:
    const Session& session_;
};

}  // namespace kprof::tui

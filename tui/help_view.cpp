#include "tui/help_view.hpp"

#include "tui/keys.hpp"
#include "tui/text.hpp"

namespace kprof::tui {

std::vector<Row> HelpView::content(const Viewport& viewport) const {
    std::vector<Row> out;
    out.push_back(Row{
        {{"kprof tui walks a profile by function: callers above, callees below.", Style::normal}}});
    out.push_back(
        Row{{{"On Functions, search with / and press Enter to open one; in a function, "
              "move to a caller or callee and press Enter to walk there.",
              Style::dim}}});
    std::string_view section;
    for (const KeyHelp& k : key_help()) {
        if (k.view != section) {
            section = k.view;
            out.push_back(Row{});
            out.push_back(Row{{{section == "everywhere" ? std::string("Keys that work everywhere")
                                                        : std::string(section) + " view",
                                Style::header}}});
        }
        Row r;
        r.spans.push_back({"  " + fit(k.keys, 24, viewport.unicode), Style::header});
        r.spans.push_back({std::string(k.what), Style::normal});
        out.push_back(std::move(r));
    }
    return out;
}

Action HelpView::handle(const Key& key) {
    if (key.is('?')) return {.kind = Action::Kind::back};
    return PagerView::handle(key);
}

}  // namespace kprof::tui

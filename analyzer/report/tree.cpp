// --tree: the top-down or bottom-up call tree, drawn as text.
#include "analyzer/report.hpp"

#include <fmt/format.h>

#include "analyzer/report/common.hpp"
#include "analyzer/tree.hpp"

namespace kprof {
using namespace report_detail;

void write_tree(std::ostream& out, const AggregatedProfile& p, const ReportOptions& o) {
    out << report_header(p, o);
    if (o.event >= p.event_count()) return;
    // Lazy: nodes under --percent-limit are never printed, so never built.
    LazyTree tree(p, o.event, o.inverted);
    const uint64_t total = p.total(o.event);
    out << (o.inverted
                ? "#\n# bottom-up call tree (callers below each function): total% name (module)\n"
                : "#\n# top-down call tree (callees below each function): total% self% name "
                  "(module)\n");
    // Iterative depth-first walk; prefix holds the tree drawing of the ancestors.
    struct Item {
        TreeNodeId node;
        std::string prefix;
        bool last;
    };
    std::vector<Item> stack;
    const std::vector<TreeNodeId> roots = tree.children(LazyTree::root());
    for (size_t i = roots.size(); i-- > 0;) stack.push_back({roots[i], "", true});
    while (!stack.empty()) {
        const Item it = stack.back();
        stack.pop_back();
        const TreeNode n = tree.node(it.node);  // a copy: children() below adds nodes
        if (percent(n.total, total) < o.percent_limit) continue;
        const Function& fn = p.function(n.function);
        const bool top = n.depth == 1;
        std::string mark;
        if (tree.crosses_boundary(it.node))
            mark = o.inverted ? "  [kernel<-user]" : "  [user->kernel]";
        const std::string self_column =
            o.inverted ? "        " : fmt::format("{:7.2f}%", percent(n.self, total));
        out << fmt::format("{:7.2f}% {}  {}{}{}  ({}){}\n", percent(n.total, total), self_column,
                           it.prefix, top ? "" : (it.last ? "`-- " : "|-- "), printable(fn.name),
                           printable(fn.module), mark);
        if (o.max_depth != 0 && n.depth >= o.max_depth) continue;
        const std::string child_prefix = top ? "" : it.prefix + (it.last ? "    " : "|   ");
        // Children drawn are those above the limit; the last of them gets "`--".
        std::vector<TreeNodeId> shown;
        for (TreeNodeId c : tree.children(it.node))
            if (percent(tree.node(c).total, total) >= o.percent_limit) shown.push_back(c);
        for (size_t i = shown.size(); i-- > 0;)
            stack.push_back({shown[i], child_prefix, i + 1 == shown.size()});
    }
}

}  // namespace kprof

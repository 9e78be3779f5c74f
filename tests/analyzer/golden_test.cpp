// Every report format on the folded-stack fixtures of tests/data/golden/, compared with
// the stored outputs there. Regenerate after an intended change with
//   KPROF_UPDATE_GOLDEN=1 ./kprof_analyzer_tests --gtest_filter='*Golden*'
// and review the diff before committing it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyzer/report.hpp"
#include "analyzer_test_util.hpp"
#include "support/test_support.hpp"

namespace kprof {
namespace {

namespace fs = std::filesystem;
const fs::path kGoldenDir = fs::path(KPROF_TEST_DATA_DIR) / "golden";

using test::read_file;

bool updating() {
    const char* v = std::getenv("KPROF_UPDATE_GOLDEN");
    return v != nullptr && std::string(v) == "1";
}

void expect_golden(const std::string& name, const std::string& actual) {
    const fs::path path = kGoldenDir / name;
    if (updating()) {
        std::ofstream(path, std::ios::binary) << actual;
        return;
    }
    ASSERT_TRUE(fs::exists(path)) << path << " is missing: run with KPROF_UPDATE_GOLDEN=1";
    EXPECT_EQ(read_file(path), actual)
        << "output differs from " << path << " (KPROF_UPDATE_GOLDEN=1 regenerates it)";
}

struct Fixture {
    const char* name;      // tests/data/golden/<name>.folded
    const char* function;  // for --callers/--callees, "" for none
};

class Golden : public ::testing::TestWithParam<Fixture> {};

TEST_P(Golden, EveryFormatMatchesTheStoredOutput) {
    const Fixture fx = GetParam();
    const std::string file = std::string(fx.name) + ".folded";
    auto a = testing::analyze_folded(read_file(kGoldenDir / file));
    ReportOptions o{.trace_name = file};
    auto render = [&](auto&& write) {
        std::ostringstream s;
        write(s);
        return s.str();
    };
    const std::string base = std::string(fx.name) + ".";
    expect_golden(base + "flat.txt", render([&](std::ostream& s) { write_flat(s, *a->graph, o); }));
    expect_golden(base + "callgraph.txt",
                  render([&](std::ostream& s) { write_callgraph(s, *a->graph, o); }));
    expect_golden(base + "tree.txt", render([&](std::ostream& s) { write_tree(s, a->agg, o); }));
    ReportOptions inverted = o;
    inverted.inverted = true;
    expect_golden(base + "tree-inverted.txt",
                  render([&](std::ostream& s) { write_tree(s, a->agg, inverted); }));
    expect_golden(base + "json", render([&](std::ostream& s) { write_json(s, *a->graph, o); }));
    expect_golden(base + "folded.txt",
                  render([&](std::ostream& s) { write_folded(s, a->agg, o); }));
    const std::string dot = render([&](std::ostream& s) { write_dot(s, *a->graph, o); });
    expect_golden(base + "dot", dot);
    const std::string svg = render([&](std::ostream& s) { write_svg(s, a->agg, o); });
    expect_golden(base + "svg", svg);
    if (*fx.function) {
        const FunctionId f = a->id(fx.function);
        expect_golden(base + "butterfly.txt", render([&](std::ostream& s) {
                          write_butterfly(s, *a->graph, {f}, true, true, o);
                      }));
    }

    // The machine-readable outputs must parse with the real tools.
    const fs::path dir = fs::temp_directory_path() / ("kprof-golden-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "g.dot") << dot;
    std::ofstream(dir / "g.svg") << svg;
    const std::string q = "'" + dir.string() + "/";
    EXPECT_EQ(std::system(("dot -Tsvg " + q + "g.dot' -o " + q + "out.svg'").c_str()), 0)
        << "dot rejected the DOT output";
    EXPECT_EQ(std::system(("xmllint --noout " + q + "g.svg'").c_str()), 0)
        << "xmllint rejected the SVG";
    EXPECT_EQ(std::system(("xmllint --noout " + q + "out.svg'").c_str()), 0);
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Golden,
                         ::testing::Values(Fixture{"recursion", "A"}, Fixture{"mutual", "even"},
                                           Fixture{"single", "only"}, Fixture{"empty", ""},
                                           Fixture{"kernel_user", "__sys_sendto"}),
                         [](const auto& info) { return std::string(info.param.name); });

// Folding what was imported from folded stacks gives the same lines back (sorted as
// stackcollapse-perf.pl sorts them, comm spaces turned into underscores).
TEST(Folded, RoundTripsFoldedInput) {
    const std::string text =
        "b;main;x 2\na;main;A;B;A 10\nkw;worker_[k];fn_[k] 1\nwriter 1;main;w 3\na;main;A;B;A 5\n";
    auto a = testing::analyze_folded(text);
    std::ostringstream s;
    write_folded(s, a->agg, ReportOptions{.annotate_kernel = true});
    EXPECT_EQ(s.str(), "a;main;A;B;A 15\nb;main;x 2\nkw;worker_[k];fn_[k] 1\nwriter_1;main;w 3\n");
    std::ostringstream plain;
    write_folded(plain, a->agg, ReportOptions{});
    EXPECT_NE(plain.str().find("kw;worker;fn 1\n"), std::string::npos) << plain.str();
}

// The name tidying stackcollapse-perf.pl applies to every frame.
TEST(Folded, FrameNamesAreTidiedLikeStackcollapsePerf) {
    auto name = [](std::string n, std::string m = "/usr/bin/x") {
        return folded_frame_name(Function{std::move(n), std::move(m), false});
    };
    EXPECT_EQ(name("[unknown]", "/usr/lib/x86_64-linux-gnu/libc.so.6"), "[libc.so.6]");
    EXPECT_EQ(name("[unknown]", "[unknown]"), "[unknown]");
    // The kernel pseudo-symbol is "[unknown]" in `kprof script`, as in perf script.
    EXPECT_EQ(name("[unknown kernel]", "[kernel.kallsyms]"), "[[kernel.kallsyms]]");
    EXPECT_EQ(name("[unknown kernel]", "[unknown]"), "[unknown]");
    EXPECT_EQ(name("[bpf]", "[bpf]"), "[bpf]");
    EXPECT_EQ(name("foo(int, char*)"), "foo");
    EXPECT_EQ(name("(anonymous namespace)::bar(int)"), "(anonymous namespace)::bar");
    EXPECT_EQ(name("net/http.(*Client).Do"), "net/http.(*Client).Do");
    EXPECT_EQ(name("a;b"), "a:b");
    EXPECT_EQ(name("say\"hi'"), "sayhi");
    EXPECT_EQ(name("tcp_sendmsg"), "tcp_sendmsg");
}

TEST(Folded, SumsToTheTotal) {
    auto a = testing::analyze_folded(read_file(kGoldenDir / "kernel_user.folded"));
    std::ostringstream s;
    write_folded(s, a->agg, ReportOptions{});
    std::istringstream lines(s.str());
    uint64_t sum = 0;
    for (std::string line; std::getline(lines, line);)
        sum += std::stoull(line.substr(line.rfind(' ') + 1));
    EXPECT_EQ(sum, a->agg.total(0));
    EXPECT_EQ(sum, 16u);  // 6 + 2 + 3 + 1 + 4
}

TEST(Reports, ControlCharactersInNamesAreEscaped) {
    auto a = testing::analyze_folded("p;bad\x1b[31mname 1\n");
    std::ostringstream flat, svg;
    write_flat(flat, *a->graph, ReportOptions{});
    EXPECT_EQ(flat.str().find('\x1b'), std::string::npos);
    EXPECT_NE(flat.str().find("bad\\x1b[31mname"), std::string::npos);
    write_svg(svg, a->agg, ReportOptions{});
    EXPECT_EQ(svg.str().find('\x1b'), std::string::npos);
}

TEST(Reports, SvgEscapesMarkupInNames) {
    auto a = testing::analyze_folded("p;operator<<&\"x\" 1\n");
    std::ostringstream svg;
    write_svg(svg, a->agg, ReportOptions{});
    EXPECT_NE(svg.str().find("operator&lt;&lt;&amp;&quot;x&quot;"), std::string::npos) << svg.str();
}

TEST(Reports, PercentLimitHidesSmallRows) {
    auto a = testing::analyze_folded("p;big 99\np;small 1\n");
    std::ostringstream all, limited;
    write_flat(all, *a->graph, ReportOptions{});
    write_flat(limited, *a->graph, ReportOptions{.percent_limit = 5});
    EXPECT_NE(all.str().find("small"), std::string::npos);
    EXPECT_EQ(limited.str().find("small"), std::string::npos);
    EXPECT_NE(limited.str().find("big"), std::string::npos);
}

}  // namespace
}  // namespace kprof

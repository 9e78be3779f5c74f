// Event names: builtin software/hardware events, tracepoints through a tracefs layout,
// and "did you mean" suggestions for names that do not exist.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/perf_event.h>

#include <filesystem>
#include <fstream>

#include "collector/events.hpp"
#include "trace/error.hpp"

namespace kprof::collector {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A tracefs-shaped directory: available_events plus events/SYS/NAME/id.
class FakeTracefs {
  public:
    FakeTracefs() {
        root_ = fs::temp_directory_path() /
                ("kprof-tracefs-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
        fs::create_directories(root_ / "events");
        add("net", "net_dev_xmit", 1520);
        add("net", "net_dev_queue", 1521);
        add("syscalls", "sys_enter_socket", 700);
        add("syscalls", "sys_enter_sendto", 701);
        add("sched", "sched_switch", 300);
        std::ofstream avail(root_ / "available_events");
        for (const auto& n : names_) avail << n << "\n";
    }
    ~FakeTracefs() { fs::remove_all(root_); }
    std::string root() const { return root_.string(); }
    void remove_available_events() { fs::remove(root_ / "available_events"); }

  private:
    void add(const std::string& sys, const std::string& name, int id) {
        fs::create_directories(root_ / "events" / sys / name);
        std::ofstream(root_ / "events" / sys / name / "id") << id << "\n";
        names_.push_back(sys + ":" + name);
    }
    static inline int counter_ = 0;
    fs::path root_;
    std::vector<std::string> names_;
};

std::string error_of(std::string_view name, const Tracefs* tracefs) {
    try {
        resolve_event(name, tracefs);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(ResolveEvent, BuiltinSoftwareAndHardwareEvents) {
    EventSpec clock = resolve_event("cpu-clock", nullptr);
    EXPECT_EQ(clock.type, PERF_TYPE_SOFTWARE);
    EXPECT_EQ(clock.config, PERF_COUNT_SW_CPU_CLOCK);
    EXPECT_EQ(clock.kind, EventKind::kSoftware);

    EventSpec cs = resolve_event("cs", nullptr);
    EXPECT_EQ(cs.name, "context-switches");
    EXPECT_EQ(cs.config, PERF_COUNT_SW_CONTEXT_SWITCHES);
    EXPECT_EQ(resolve_event("major-faults", nullptr).config, PERF_COUNT_SW_PAGE_FAULTS_MAJ);
    EXPECT_EQ(resolve_event("task-clock", nullptr).config, PERF_COUNT_SW_TASK_CLOCK);

    EventSpec cycles = resolve_event("cpu-cycles", nullptr);
    EXPECT_EQ(cycles.kind, EventKind::kHardware);
    EXPECT_EQ(cycles.type, PERF_TYPE_HARDWARE);
    EXPECT_EQ(cycles.name, "cycles");
}

TEST(ResolveEvent, TracepointIdFromTracefs) {
    FakeTracefs fake;
    Tracefs tracefs(fake.root());
    EventSpec e = resolve_event("net:net_dev_xmit", &tracefs);
    EXPECT_EQ(e.kind, EventKind::kTracepoint);
    EXPECT_EQ(e.type, PERF_TYPE_TRACEPOINT);
    EXPECT_EQ(e.config, 1520u);
    EXPECT_EQ(resolve_event("syscalls:sys_enter_socket", &tracefs).config, 700u);
}

TEST(ResolveEvent, MisspelledTracepointSuggestsCloseMatches) {
    FakeTracefs fake;
    Tracefs tracefs(fake.root());
    const std::string msg = error_of("net:net_dev_xmitt", &tracefs);
    EXPECT_THAT(msg, HasSubstr("unknown event 'net:net_dev_xmitt'"));
    EXPECT_THAT(msg, HasSubstr("did you mean: net:net_dev_xmit"));
    EXPECT_THAT(msg, ::testing::Not(HasSubstr("sched:sched_switch")));
}

TEST(ResolveEvent, NameWithoutSystemSuggestsTheTracepoint) {
    FakeTracefs fake;
    Tracefs tracefs(fake.root());
    EXPECT_THAT(error_of("net_dev_xmit", &tracefs), HasSubstr("net:net_dev_xmit"));
}

TEST(ResolveEvent, MisspelledBuiltinSuggestsIt) {
    EXPECT_THAT(error_of("cpu-clok", nullptr), HasSubstr("did you mean: cpu-clock"));
    EXPECT_THAT(error_of("page-fault", nullptr), HasSubstr("page-faults"));
}

TEST(ResolveEvent, NothingCloseListsWhatExists) {
    FakeTracefs fake;
    Tracefs tracefs(fake.root());
    const std::string msg = error_of("zzzz:qqqqqqqqqqqq", &tracefs);
    EXPECT_THAT(msg, HasSubstr("unknown event"));
    EXPECT_THAT(msg, HasSubstr("available_events"));
    EXPECT_THAT(msg, ::testing::Not(HasSubstr("did you mean")));
}

TEST(ResolveEvent, PathTraversalIsNotATracepoint) {
    FakeTracefs fake;
    Tracefs tracefs(fake.root());
    EXPECT_FALSE(tracefs.tracepoint_id("..", "net").has_value());
    EXPECT_FALSE(tracefs.tracepoint_id("net/../net", "net_dev_xmit").has_value());
    EXPECT_THAT(error_of("../../etc:passwd", &tracefs), HasSubstr("unknown event"));
}

TEST(Tracefs, ListsTracepointsWithoutAvailableEvents) {
    FakeTracefs fake;
    fake.remove_available_events();
    Tracefs tracefs(fake.root());
    auto all = tracefs.all_tracepoints();
    EXPECT_THAT(all, ::testing::Contains("net:net_dev_xmit"));
    EXPECT_THAT(all, ::testing::Contains("sched:sched_switch"));
    EXPECT_EQ(all.size(), 5u);
}

TEST(EditDistance, Basics) {
    EXPECT_EQ(edit_distance("", ""), 0u);
    EXPECT_EQ(edit_distance("abc", ""), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
    EXPECT_EQ(edit_distance("net:net_dev_xmit", "net:net_dev_xmitt"), 1u);
}

TEST(CloseMatches, BestFirstAndBounded) {
    std::vector<std::string> c = {"cpu-clock", "task-clock", "cycles", "cpu-migrations"};
    auto m = close_matches("cpu-clocks", c);
    ASSERT_FALSE(m.empty());
    EXPECT_EQ(m[0], "cpu-clock");
    EXPECT_THAT(m, ::testing::Not(::testing::Contains("cycles")));
    EXPECT_TRUE(close_matches("x", c, 5).empty());
}

TEST(SplitList, CommasAndSpaces) {
    EXPECT_EQ(split_list("a,b, c,,"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_TRUE(split_list("").empty());
}

// The machine's own tracefs, when it is there: the tracepoints the live tests rely on.
TEST(Tracefs, SystemTracefsHasNetDevXmit) {
    Tracefs tracefs("");
    try {
        tracefs = Tracefs::system();
    } catch (const Error& e) {
        GTEST_SKIP() << "no tracefs here: " << e.what();
    }
    auto id = tracefs.tracepoint_id("net", "net_dev_xmit");
    ASSERT_TRUE(id.has_value()) << "net:net_dev_xmit missing in " << tracefs.root();
    EXPECT_GT(*id, 0u);
}

}  // namespace
}  // namespace kprof::collector

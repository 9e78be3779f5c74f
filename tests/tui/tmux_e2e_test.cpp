// End-to-end: the real `kprof tui` binary in a real terminal (tmux), driven by
// send-keys and read back with capture-pane. Each test has its own tmux server (-L), so
// tests never touch the user's sessions or each other.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "fixtures.hpp"
#include "import/imports.hpp"
#include "support/test_support.hpp"
#include "trace/format.hpp"

namespace kprof::tui {
namespace {

namespace fs = std::filesystem;

using test::shell_quote;

// Runs a shell command; returns its exit status and fills `out` with its stdout.
int run(const std::string& command, std::string* out = nullptr) {
    const test::ProcessResult r = test::run_shell(command);
    if (out != nullptr) *out = r.out;
    return r.exit_code;
}

bool have_tmux() {
    return run("command -v tmux >/dev/null 2>&1") == 0;
}

class Tmux {
  public:
    Tmux(int width, int height) {
        static int counter = 0;
        socket_ = "kprof-e2e-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
        // A plain shell with a known prompt; TERM inside tmux is tmux's own.
        tmux("new-session -d -s e2e -x " + std::to_string(width) + " -y " + std::to_string(height) +
             " 'env -i PATH=/usr/bin:/bin HOME=/tmp TERM=screen LANG=C.UTF-8 PS1=PROMPT\\$\\  "
             "bash --norc --noprofile'");
        // Later windows follow the size we ask for, not a client's (there is none).
        tmux("set-option -t e2e window-size manual");
        wait_for("PROMPT$");
    }
    ~Tmux() { tmux("kill-server"); }

    std::string tmux(const std::string& args) const {
        std::string out;
        run("tmux -L " + socket_ + " " + args + " 2>&1", &out);
        return out;
    }
    // One key name per call ("Enter", "BSpace", "?"), quoted: '?' is a shell glob.
    void keys(const std::string& key) const { tmux("send-keys -t e2e " + shell_quote(key)); }
    void type(const std::string& text) const { tmux("send-keys -t e2e -l " + shell_quote(text)); }
    void line(const std::string& command) const {
        type(command);
        keys("Enter");
    }
    std::string screen() const { return tmux("capture-pane -p -t e2e"); }
    std::string format(const std::string& f) const {
        return tmux("display -p -t e2e " + shell_quote(f));
    }

    // Polls the pane until `text` shows (a test of content, not of speed: the limit is
    // only there so a broken build fails instead of hanging).
    bool wait_for(const std::string& text, int seconds = 20) const {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        while (std::chrono::steady_clock::now() < deadline) {
            if (screen().find(text) != std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }
    bool wait_gone(const std::string& text, int seconds = 20) const {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        while (std::chrono::steady_clock::now() < deadline) {
            if (screen().find(text) == std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }
    // The pid of the shell's foreground child (kprof), or 0.
    pid_t child_of_shell() const {
        const std::string pid = format("#{pane_pid}");
        std::ifstream in("/proc/" + std::to_string(std::stoi(pid)) + "/task/" +
                         std::to_string(std::stoi(pid)) + "/children");
        pid_t child = 0;
        in >> child;
        return child;
    }

  private:
    std::string socket_;
};

class TuiE2e : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!have_tmux()) GTEST_SKIP() << "tmux is not installed (scripts/deps.sh installs it)";
        dir_ = fs::temp_directory_path() / ("kprof-tui-e2e-" + std::to_string(getpid()));
        fs::create_directories(dir_);
        trace_ = (dir_ / "net.kprof").string();
        if (!fs::exists(trace_)) write_trace(trace_, import_folded_text(testing::kNetFolded));
    }
    static void TearDownTestSuite() {
        fs::remove_all(fs::temp_directory_path() / ("kprof-tui-e2e-" + std::to_string(getpid())));
    }

    // Starts kprof tui in the pane, with the terminal's settings saved before and after
    // so the test can compare them.
    void start(const Tmux& t, const std::string& file, const std::string& extra = "") const {
        t.line("stty -g > " + (dir_ / "stty.before").string() + "; " + std::string(KPROF_BINARY) +
               " tui " + extra + " " + file + "; echo EXIT=$?; stty -g > " +
               (dir_ / "stty.after").string() + "; echo SAVED-$((40+2))");
    }
    bool terminal_restored(const Tmux& t) const {
        // Printed after the settings are saved; the command line shows it unexpanded.
        if (!t.wait_for("SAVED-42")) return false;
        std::string before, after;
        run("cat " + (dir_ / "stty.before").string(), &before);
        run("cat " + (dir_ / "stty.after").string(), &after);
        EXPECT_FALSE(before.empty());
        EXPECT_EQ(before, after) << "tty modes differ after kprof tui exited";
        EXPECT_EQ(t.format("#{alternate_on}"), "0\n") << "still on the alternate screen";
        return before == after;
    }

    fs::path dir_;
    std::string trace_;
};

TEST_F(TuiE2e, HomeSearchOpenCallersBackAndQuit) {
    Tmux t(120, 40);
    start(t, trace_);
    ASSERT_TRUE(t.wait_for("Functions (")) << t.screen();
    std::string s = t.screen();
    EXPECT_NE(s.find("dev_hard_start_xmit"), std::string::npos) << s;
    EXPECT_NE(s.find("Total%"), std::string::npos) << s;
    EXPECT_NE(s.find("total 103"), std::string::npos) << s;
    EXPECT_EQ(t.format("#{alternate_on}"), "1\n");

    t.type("/icmp_echo");
    ASSERT_TRUE(t.wait_for("/icmp_echo")) << t.screen();
    t.keys("Enter");
    t.keys("Enter");
    ASSERT_TRUE(t.wait_for("Function icmp_echo")) << t.screen();
    s = t.screen();
    // icmp_rcv is listed among the callers: between the Callers heading and the centre.
    const size_t callers = s.find("Callers");
    const size_t rcv = s.find("icmp_rcv");
    const size_t center = s.find("== icmp_echo");
    ASSERT_NE(callers, std::string::npos) << s;
    ASSERT_NE(center, std::string::npos) << s;
    EXPECT_TRUE(callers < rcv && rcv < center) << s;
    EXPECT_NE(s.find("icmp_reply"), std::string::npos) << s;

    t.keys("BSpace");
    ASSERT_TRUE(t.wait_for("Functions (")) << t.screen();
    EXPECT_EQ(t.screen().find("Function icmp_echo"), std::string::npos);

    t.keys("q");
    ASSERT_TRUE(t.wait_for("EXIT=0")) << t.screen();
    EXPECT_TRUE(terminal_restored(t));
    EXPECT_EQ(t.screen().find("Functions ("), std::string::npos) << "TUI left on screen";
}

TEST_F(TuiE2e, WalkDownAndUpWithOnlyTheKeys) {
    Tmux t(120, 40);
    start(t, trace_);
    ASSERT_TRUE(t.wait_for("Functions ("));
    t.type("/__sys_sendto");
    t.keys("Enter");
    t.keys("Enter");
    ASSERT_TRUE(t.wait_for("Function __sys_sendto")) << t.screen();
    // Down to the callees, Enter on each, down to dev_hard_start_xmit.
    for (const char* next : {"sock_sendmsg", "ip_push_pending_frames", "dev_hard_start_xmit"}) {
        t.keys("Down");
        t.keys("Enter");
        ASSERT_TRUE(t.wait_for(std::string("Function ") + next)) << t.screen();
    }
    // And back up the history.
    t.keys("BSpace");
    ASSERT_TRUE(t.wait_for("Function ip_push_pending_frames")) << t.screen();
    t.keys("?");
    ASSERT_TRUE(t.wait_for("Keys that work everywhere")) << t.screen();
    t.keys("Escape");
    ASSERT_TRUE(t.wait_for("Function ip_push_pending_frames")) << t.screen();
    t.keys("q");
    ASSERT_TRUE(t.wait_for("EXIT=0")) << t.screen();
    EXPECT_TRUE(terminal_restored(t));
}

TEST_F(TuiE2e, EveryViewOnATinyTerminal) {
    Tmux t(20, 8);
    start(t, trace_);
    ASSERT_TRUE(t.wait_for("kprof")) << t.screen();
    for (const char* k :
         {"Down",   "Enter",  "Up",     "Enter",  "t",      "E", "i",        "g",
          "Down",   "Enter",  "Escape", "p",      "I",      "?", "PageDown", "Escape",
          "Escape", "Escape", "Escape", "Escape", "Escape", "s", "k",        "e"})
        t.keys(k);
    t.keys("q");
    ASSERT_TRUE(t.wait_for("EXIT=0", 30)) << t.screen();
    EXPECT_TRUE(terminal_restored(t));
}

TEST_F(TuiE2e, ResizeRedraws) {
    Tmux t(120, 40);
    start(t, trace_);
    ASSERT_TRUE(t.wait_for("Functions ("));
    t.tmux("resize-window -t e2e -x 40 -y 10");
    t.keys("Down");
    ASSERT_TRUE(t.wait_for("Functions (")) << t.screen();
    EXPECT_EQ(t.screen().find("[kernel.kallsyms]"), std::string::npos) << "narrow layout";
    t.tmux("resize-window -t e2e -x 15 -y 4");
    t.keys("g");
    t.tmux("resize-window -t e2e -x 160 -y 50");
    ASSERT_TRUE(t.wait_for("Flame graph")) << t.screen();
    // Back on Functions, the wide layout (module column) is used after growing.
    t.keys("Escape");
    ASSERT_TRUE(t.wait_for("[kernel.kallsyms]")) << t.screen();
    EXPECT_EQ(t.format("#{window_width}x#{window_height}"), "160x50\n");
    t.keys("q");
    ASSERT_TRUE(t.wait_for("EXIT=0")) << t.screen();
    EXPECT_TRUE(terminal_restored(t));
}

TEST_F(TuiE2e, SignalsRestoreTheTerminal) {
    for (int sig : {SIGTERM, SIGSEGV}) {
        Tmux t(100, 30);
        start(t, trace_);
        ASSERT_TRUE(t.wait_for("Functions ("));
        const pid_t pid = t.child_of_shell();
        ASSERT_GT(pid, 0);
        kill(pid, sig);
        ASSERT_TRUE(t.wait_for("EXIT=" + std::to_string(128 + sig))) << t.screen();
        EXPECT_TRUE(terminal_restored(t)) << "signal " << sig;
    }
}

TEST_F(TuiE2e, NoColorAndAsciiStillDraw) {
    Tmux t(100, 30);
    t.line("export NO_COLOR=1");
    start(t, trace_, "--ascii");
    ASSERT_TRUE(t.wait_for("Functions (")) << t.screen();
    EXPECT_NE(t.screen().find("#"), std::string::npos) << "ASCII bars";
    EXPECT_EQ(t.screen().find("\u2588"), std::string::npos);
    t.keys("q");
    ASSERT_TRUE(t.wait_for("EXIT=0"));
}

TEST_F(TuiE2e, NotATerminalSuggestsReport) {
    std::string out;
    const int rc =
        run(std::string(KPROF_BINARY) + " tui " + trace_ + " </dev/null 2>&1 | cat", &out);
    (void)rc;
    EXPECT_NE(out.find("not a terminal"), std::string::npos) << out;
    EXPECT_NE(out.find("kprof report"), std::string::npos) << out;
    const int status =
        run(std::string(KPROF_BINARY) + " tui " + trace_ + " >/dev/null 2>&1 </dev/null");
    EXPECT_EQ(status, 1);
}

TEST_F(TuiE2e, MissingFileIsAnError) {
    Tmux t(100, 30);
    start(t, (dir_ / "no-such.kprof").string());
    ASSERT_TRUE(t.wait_for("EXIT=1")) << t.screen();
    EXPECT_TRUE(terminal_restored(t));
}

// The same walk on a real recording of the built-in ping workload: icmp_echo's callers
// include icmp_rcv in the kernel's own stacks.
TEST_F(TuiE2e, LiveRecordingIcmpEchoCallers) {
    if (geteuid() != 0) GTEST_SKIP() << "recording needs root";
    const std::string live = (dir_ / "live.kprof").string();
    std::string out;
    const int rc = run(std::string(KPROF_BINARY) +
                           " record -q -w ping -e net:net_dev_xmit -d 1 -o " + live + " 2>&1",
                       &out);
    if (rc != 0 || !fs::exists(live)) GTEST_SKIP() << "kprof record could not record here: " << out;
    Tmux t(160, 50);
    start(t, live);
    ASSERT_TRUE(t.wait_for("Functions (")) << t.screen();
    t.type("/icmp_echo");
    t.keys("Enter");
    if (t.screen().find("no match") != std::string::npos) {
        t.keys("q");
        GTEST_SKIP() << "the recording has no icmp_echo frames (kernel stacks unavailable?)";
    }
    t.keys("Enter");
    ASSERT_TRUE(t.wait_for("Function icmp_echo")) << t.screen();
    const std::string s = t.screen();
    const size_t rcv = s.find("icmp_rcv");
    EXPECT_NE(rcv, std::string::npos) << s;
    EXPECT_LT(rcv, s.find("== icmp_echo")) << s;
    t.keys("BSpace");
    ASSERT_TRUE(t.wait_for("Functions (")) << t.screen();
    t.keys("q");
    ASSERT_TRUE(t.wait_for("EXIT=0")) << t.screen();
    EXPECT_TRUE(terminal_restored(t));
}

}  // namespace
}  // namespace kprof::tui

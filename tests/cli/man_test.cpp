// Every command has a man page, and every option its --help prints is documented there
// (perf's tests/shell checks NAME/SYNOPSIS/OPTIONS the same way).
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/commands.hpp"
#include "command_params.hpp"
#include "support/test_support.hpp"

namespace kprof::cli {
namespace {

using test::read_file;

// Runs a shell command line; its stdout is `out`.
test::ProcessResult run(const std::string& command_line) {
    return test::run_shell(command_line);
}

std::string man_path(const std::string& page) {
    return std::string(KPROF_SOURCE_DIR) + "/man/" + page + ".1";
}

// The man page as a reader sees the words: troff's escaped hyphens (\- \(hy \(en),
// font changes (\fB ... \fR, \f(CW) and zero-width \& removed.
std::string troff_to_text(const std::string& troff) {
    std::string text = std::regex_replace(troff, std::regex(R"(\\f(\(..|\[[^\]]*\]|.))"), "");
    text = std::regex_replace(text, std::regex(R"(\\\((hy|en|em|mi))"), "-");
    text = std::regex_replace(text, std::regex(R"(\\\[(hy|en|em|mi)\])"), "-");
    text = std::regex_replace(text, std::regex(R"(\\-)"), "-");
    text = std::regex_replace(text, std::regex(R"(\\&)"), "");
    return text;
}

// Every --long and -x option in a --help text. An option starts a word (after space,
// comma, '[', '(' or '|'), so the hyphens inside words such as cpu-clock do not count.
std::set<std::string> options_in_help(const std::string& help) {
    std::set<std::string> options;
    const std::regex option(
        R"((^|[\s,\[(|])(--[A-Za-z0-9][A-Za-z0-9-]*|-[A-Za-z])(?![A-Za-z0-9-]))");
    for (auto it = std::sregex_iterator(help.begin(), help.end(), option);
         it != std::sregex_iterator(); ++it)
        options.insert((*it)[2].str());
    return options;
}

// OPTION occurs in TEXT as a word of its own: not inside a longer option (-d in
// --duration, --size in --sizes).
bool mentions(const std::string& text, const std::string& option) {
    auto is_word_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    };
    for (size_t at = text.find(option); at != std::string::npos; at = text.find(option, at + 1)) {
        const bool starts_word = at == 0 || !is_word_char(text[at - 1]);
        const size_t end = at + option.size();
        const bool ends_word = end == text.size() || !is_word_char(text[end]);
        if (starts_word && ends_word) return true;
    }
    return false;
}

bool has_section(const std::string& troff, const std::string& name) {
    return std::regex_search(troff, std::regex("(^|\\n)\\.SH +\"?" + name + "\"?[ \\t]*(\\n|$)"));
}

TEST(OptionsInHelp, FindsLongAndShortOptionsButNotHyphenatedWords) {
    const std::string help =
        "Usage: kprof record [OPTIONS] [-- CMD...]\n"
        "  -h,--help          Print this help\n"
        "  -e,--event EVENT   event, e.g. cpu-clock or sched:sched_switch (repeat -e)\n"
        "  --no-callgraph     flat PC samples; non-zero exit with -1\n";
    EXPECT_THAT(options_in_help(help),
                ::testing::ElementsAre("--event", "--help", "--no-callgraph", "-e", "-h"));
}

TEST(TroffToText, NormalisesEscapes) {
    EXPECT_EQ(troff_to_text(R"(.BR \-d ", " \-\-duration " " \fISECONDS\fR \(hyx \&.)"),
              R"(.BR -d ", " --duration " " SECONDS -x .)");
}

TEST(Mentions, NeedsAWholeOption) {
    EXPECT_TRUE(mentions("use --size BYTES", "--size"));
    EXPECT_FALSE(mentions("use --sizes", "--size"));
    EXPECT_FALSE(mentions("--duration", "-d"));
    EXPECT_TRUE(mentions(".BR -d , --duration", "-d"));
}

class CommandManPage : public ::testing::TestWithParam<std::string> {};

TEST_P(CommandManPage, ExistsWithTheStandardSections) {
    const std::string path = man_path("kprof-" + GetParam());
    const std::string troff = read_file(path);
    ASSERT_FALSE(troff.empty()) << path << " is missing or empty";
    for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXAMPLES"})
        EXPECT_TRUE(has_section(troff, section)) << path << " has no .SH " << section;
    EXPECT_TRUE(mentions(troff_to_text(troff), "kprof-" + GetParam()))
        << path << " does not name kprof-" << GetParam();
}

TEST_P(CommandManPage, DocumentsEveryOptionOfHelp) {
    const test::ProcessResult help =
        run(std::string(KPROF_BINARY) + " " + GetParam() + " --help 2>&1");
    ASSERT_EQ(help.exit_code, 0) << "kprof " << GetParam() << " --help:\n" << help.out;
    const std::set<std::string> options = options_in_help(help.out);
    // CLI11 always prints these two; an empty set means the help text was not parsed.
    ASSERT_TRUE(options.contains("--help")) << help.out;

    const std::string path = man_path("kprof-" + GetParam());
    const std::string troff = read_file(path);
    ASSERT_FALSE(troff.empty()) << path << " is missing or empty";
    const std::string text = troff_to_text(troff);
    for (const std::string& option : options)
        EXPECT_TRUE(mentions(text, option)) << "kprof " << GetParam() << " --help shows " << option
                                            << ", " << path << " does not document it";
}

TEST_P(CommandManPage, RendersWithoutTroffWarnings) {
    const std::string path = man_path("kprof-" + GetParam());
    ASSERT_FALSE(read_file(path).empty()) << path << " is missing or empty";
    const test::ProcessResult warnings = run("groff -man -ww -z '" + path + "' 2>&1");
    EXPECT_EQ(warnings.exit_code, 0);
    EXPECT_EQ(warnings.out, "") << "groff warns about " << path;
}

INSTANTIATE_TEST_SUITE_P(Commands, CommandManPage, ::testing::ValuesIn(test::command_names()),
                         test::command_test_name);

TEST(MainManPage, NamesEveryCommand) {
    const std::string path = man_path("kprof");
    const std::string troff = read_file(path);
    ASSERT_FALSE(troff.empty()) << path << " is missing or empty";
    for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION"})
        EXPECT_TRUE(has_section(troff, section)) << path << " has no .SH " << section;
    const std::string text = troff_to_text(troff);
    for (const std::string& name : test::command_names())
        EXPECT_TRUE(mentions(text, "kprof-" + name) ||
                    text.find("kprof " + name) != std::string::npos)
            << path << " does not list the command " << name;
}

}  // namespace
}  // namespace kprof::cli

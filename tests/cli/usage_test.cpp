// How every command treats a malformed command line and --help: the exit status the man
// pages promise (2, and 0 for --help), whatever CLI11's own code for the error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "command_params.hpp"
#include "support/test_support.hpp"

namespace kprof::cli {
namespace {

using test::run_kprof;
using ::testing::HasSubstr;

class CommandLine : public ::testing::TestWithParam<std::string> {};

TEST_P(CommandLine, MalformedCommandLineExitsTwoWithAMessage) {
    // record takes what it does not know for the command to run: give it a bad value.
    const std::vector<std::string> args =
        GetParam() == "record" ? std::vector<std::string>{"record", "-F", "often"}
                               : std::vector<std::string>{GetParam(), "x", "--no-such-option"};
    const auto r = run_kprof(args);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_THAT(r.err, HasSubstr(args.back()));
    EXPECT_EQ(r.out, "");
}

TEST_P(CommandLine, HelpExitsZeroOnStdout) {
    const auto r = run_kprof({GetParam(), "--help"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_THAT(r.out, HasSubstr("kprof " + GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Commands, CommandLine, ::testing::ValuesIn(test::command_names()),
                         test::command_test_name);

}  // namespace
}  // namespace kprof::cli

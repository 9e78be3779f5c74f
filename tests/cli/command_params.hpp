// Parameters for the tests that run once per kprof command.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/commands.hpp"

namespace kprof::test {

// "record", "info", ...: every command in dispatch order.
inline std::vector<std::string> command_names() {
    std::vector<std::string> names;
    for (const cli::Command& c : cli::commands()) names.emplace_back(c.name);
    return names;
}

// Names each instance after its command: Commands/CommandLine.Help/record.
inline std::string command_test_name(const ::testing::TestParamInfo<std::string>& info) {
    return info.param;
}

}  // namespace kprof::test

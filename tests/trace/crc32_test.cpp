#include <gtest/gtest.h>

#include <string_view>

#include "trace/crc32.hpp"

namespace kprof {
namespace {

std::span<const uint8_t> bytes(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Crc32, MatchesTheStandardCheckValue) {
    // The CRC-32 check value every implementation publishes: traces written before and
    // after the switch to zlib's implementation carry the same checksums.
    EXPECT_EQ(crc32(bytes("123456789")), 0xcbf43926u);
    EXPECT_EQ(crc32(bytes("")), 0u);
}

TEST(Crc32, ContinuesAPreviousResult) {
    const std::string_view all = "kprof chunk payload";
    EXPECT_EQ(crc32(bytes(all.substr(6)), crc32(bytes(all.substr(0, 6)))), crc32(bytes(all)));
    EXPECT_NE(crc32(bytes("kprof chunk payloae")), crc32(bytes(all)));
}

}  // namespace
}  // namespace kprof

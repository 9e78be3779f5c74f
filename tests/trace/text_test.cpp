#include <gtest/gtest.h>

#include "trace/text.hpp"

namespace kprof {
namespace {

TEST(EscapeText, PlainTextUnchanged) {
    EXPECT_EQ(escape_text("tcp_sendmsg"), "tcp_sendmsg");
    EXPECT_EQ(escape_text("std::vector<int>::push_back(int const&)"),
              "std::vector<int>::push_back(int const&)");
    EXPECT_EQ(escape_text("héllo wörld ✓"), "héllo wörld ✓");
    EXPECT_TRUE(text_is_safe("kworker/0:1"));
    EXPECT_EQ(escape_text(""), "");
}

TEST(EscapeText, ControlCharactersAndEscapeSequences) {
    EXPECT_EQ(escape_text("a\x1b[31mred\x1b[0m"), "a\\x1b[31mred\\x1b[0m");
    EXPECT_EQ(escape_text("tab\there\nnl\r"), "tab\\x09here\\x0anl\\x0d");
    EXPECT_EQ(escape_text(std::string_view("nul\0x", 5)), "nul\\x00x");
    EXPECT_EQ(escape_text("del\x7f"), "del\\x7f");
    EXPECT_FALSE(text_is_safe("\x07"));
}

TEST(EscapeText, C1ControlsAndBidiOverrides) {
    EXPECT_EQ(escape_text("\xc2\x9b"
                          "2J"),
              "\\u{009b}2J");  // CSI in UTF-8
    EXPECT_EQ(escape_text("abc\xe2\x80\xae"
                          "def"),
              "abc\\u{202e}def");
}

TEST(EscapeText, InvalidUtf8BecomesBytes) {
    EXPECT_EQ(escape_text("\xff\xfe"), "\\xff\\xfe");
    EXPECT_EQ(escape_text("\xc3"), "\\xc3");                    // truncated sequence
    EXPECT_EQ(escape_text("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
    EXPECT_EQ(escape_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
    EXPECT_EQ(escape_text("\x9b"), "\\x9b");                    // raw 8-bit CSI
}

TEST(EscapeText, BackslashIsEscapedSoOutputIsUnambiguous) {
    EXPECT_EQ(escape_text("a\\x1b"), "a\\\\x1b");
    EXPECT_NE(escape_text("a\\x1b"), escape_text("a\x1b"));
}

TEST(EscapeText, OutputNeverHoldsControlBytes) {
    std::string all;
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    const std::string out = escape_text(all);
    for (unsigned char c : out) EXPECT_TRUE(c >= 0x20 && c != 0x7f && c < 0x80) << int(c);
}

}  // namespace
}  // namespace kprof

#include <gtest/gtest.h>

#include "symbols/kallsyms.hpp"
#include "symbols/resolve.hpp"
#include "trace/error.hpp"
#include "trace/trace_test_util.hpp"

namespace kprof {
namespace {

constexpr std::string_view kKallsyms =
    "ffffffff81000000 T _stext\n"
    "ffffffff81000000 T _text\n"
    "ffffffff81000000 T startup_64\n"
    "ffffffff81001000 T tcp_sendmsg\n"
    "ffffffff81001400 t inet_create\n"
    "ffffffff81001400 W inet_create_weak_alias\n"
    "ffffffff81002000 T __sys_socket\n"
    "ffffffff81003000 T _etext\n"
    "ffffffff81200000 D __start_rodata\n"
    "ffffffff81200100 d some_table\n"
    "ffffffffc0001000 t e1000_xmit_frame\t[e1000]\n"
    "ffffffffc0001400 t e1000_clean\t[e1000]\n"
    "ffffffffc0001800 d e1000_driver\t[e1000]\n"
    "ffffffffc0100000 t bpf_prog_6deef7357e7b4530_sd_fw_egress\t[bpf]\n"
    "ffffffffc0100080 t bpf_prog_aa11bb22cc33dd44_handler\t[bpf]\n"
    "ffffffffc0200000 t mod_only_fn\t[tiny]\n";

TEST(Kallsyms, ParsesModulesAndSortsByAddress) {
    // Modules come after vmlinux in /proc/kallsyms in load order, not address order.
    const std::string text =
        "ffffffffc0002000 t b_fn\t[modb]\n"
        "ffffffff81000000 T _stext\n"
        "ffffffffc0001000 t a_fn\t[moda]\n";
    uint64_t skipped = 99;
    const auto syms = parse_kallsyms(text, &skipped);
    ASSERT_EQ(syms.size(), 3u);
    EXPECT_EQ(skipped, 0u);
    EXPECT_EQ(syms[0].name, "_stext");
    EXPECT_EQ(syms[0].module, "");
    EXPECT_EQ(syms[0].type, 'T');
    EXPECT_EQ(syms[1].name, "a_fn");
    EXPECT_EQ(syms[1].module, "moda");
    EXPECT_EQ(syms[2].addr, 0xffffffffc0002000ULL);
    EXPECT_EQ(syms[2].module, "modb");
}

TEST(Kallsyms, SkipsAndCountsMalformedLines) {
    const std::string text =
        "ffffffff81000000 T good_one\n"
        "not-hex T bad_addr\n"
        "ffffffff81000010 TT bad_type\n"
        "ffffffff81000020 T\n"
        "ffffffff81000030 T name\t[unterminated\n"
        "ffffffff81000040 T name [mod] extra\n"
        "1ffffffff81000050 T too_long_addr\n"
        "\n"
        "   \n"
        "ffffffff81000060 t good_two\r\n"
        "ffffffff81000070 t good_three\t[m]";  // no final newline
    uint64_t skipped = 0;
    const auto syms = parse_kallsyms(text, &skipped);
    ASSERT_EQ(syms.size(), 3u);
    EXPECT_EQ(skipped, 6u);
    EXPECT_EQ(syms[1].name, "good_two");
    EXPECT_EQ(syms[2].module, "m");
}

TEST(Kallsyms, RestrictedTableIsDetectedAndResolvesNothing) {
    const auto syms = parse_kallsyms(
        "0000000000000000 T _stext\n0000000000000000 T tcp_sendmsg\n"
        "0000000000000000 t e1000_clean\t[e1000]\n");
    ASSERT_EQ(syms.size(), 3u);
    EXPECT_TRUE(kallsyms_restricted(syms));
    EXPECT_FALSE(kallsyms_restricted(parse_kallsyms(kKallsyms)));
    EXPECT_FALSE(kallsyms_restricted({}));
    Profile p;
    p.kernel_symbols = syms;
    const FrameResolver r(p);
    const Location loc = r.resolve_kernel(0xffffffff81001010ULL);
    EXPECT_FALSE(loc.resolved);
    EXPECT_EQ(loc.function, "[unknown kernel]");
    EXPECT_TRUE(loc.kernel);
}

TEST(Kallsyms, ReadsTheLiveTable) {
    const auto syms = read_kallsyms("/proc/kallsyms");
    ASSERT_FALSE(syms.empty());
    EXPECT_TRUE(std::is_sorted(syms.begin(), syms.end(),
                               [](const auto& a, const auto& b) { return a.addr < b.addr; }));
    EXPECT_THROW(read_kallsyms("/nonexistent/kallsyms"), Error);
}

class KernelLookup : public ::testing::Test {
  protected:
    KernelLookup() : resolver_(make()) {}
    static Profile make() {
        Profile p;
        p.kernel_symbols = parse_kallsyms(kKallsyms);
        return p;
    }
    Location at(uint64_t ip) const { return resolver_.resolve_kernel(ip); }
    Profile profile_ = make();
    FrameResolver resolver_;
};

TEST_F(KernelLookup, FunctionStartAndLastByteBeforeNextSymbol) {
    Location l = at(0xffffffff81001000ULL);
    EXPECT_EQ(l.function, "tcp_sendmsg");
    EXPECT_EQ(l.module, "[kernel.kallsyms]");
    EXPECT_EQ(l.offset, 0u);
    EXPECT_TRUE(l.resolved);
    EXPECT_TRUE(l.kernel);
    l = at(0xffffffff810013ffULL);
    EXPECT_EQ(l.function, "tcp_sendmsg");
    EXPECT_EQ(l.offset, 0x3ffu);
    EXPECT_EQ(at(0xffffffff81001400ULL).function, "inet_create_weak_alias");
    EXPECT_EQ(at(0xffffffff81002fffULL).function, "__sys_socket");
}

TEST_F(KernelLookup, FunctionPreferredOverMarkersAtTheSameAddress) {
    // _stext, _text and startup_64 share an address: the function wins.
    EXPECT_EQ(at(0xffffffff81000010ULL).function, "startup_64");
    // Between functions, the last name listed wins, as in perf: it sizes each kallsyms
    // symbol up to the next one, so earlier aliases are empty and lose.
    EXPECT_EQ(at(0xffffffff81001410ULL).function, "inet_create_weak_alias");
}

TEST(KernelAliases, LastListedNameWinsAsInPerf) {
    // This machine's kernel lists these three at one address; perf script shows
    // __pi_memcpy, whatever the underscores.
    Profile p;
    p.kernel_symbols = parse_kallsyms(
        "ffffffff821f4300 T __pfx_memcpy\n"
        "ffffffff821f4320 T memcpy\n"
        "ffffffff821f4320 T __memcpy\n"
        "ffffffff821f4320 T __pi_memcpy\n"
        "ffffffff821f4400 T memmove\n");
    const FrameResolver resolver(p);
    EXPECT_EQ(resolver.resolve_kernel(0xffffffff821f432aULL).function, "__pi_memcpy");
    EXPECT_EQ(resolver.resolve_kernel(0xffffffff821f4310ULL).function, "__pfx_memcpy");
    EXPECT_EQ(resolver.resolve_kernel(0xffffffff821f4410ULL).function, "memmove");
}

TEST_F(KernelLookup, GapsAreLabelledNotNamedAfterANeighbour) {
    // Below the first symbol.
    EXPECT_EQ(at(0xffffffff80ffffffULL).function, "[unknown kernel]");
    // After _etext: not function text, and outside perf's kernel map.
    const Location l = at(0xffffffff81003010ULL);
    EXPECT_EQ(l.function, "[unknown kernel]");
    EXPECT_FALSE(l.resolved);
    EXPECT_EQ(l.module, "[unknown]");
    // In data.
    EXPECT_EQ(at(0xffffffff81200110ULL).function, "[unknown kernel]");
    // Far past a module's last function (the next symbol belongs to another module).
    EXPECT_EQ(at(0xffffffffc0001810ULL).function, "[unknown kernel]");  // module data
    EXPECT_EQ(at(0xffffffffc0080000ULL).function, "[unknown kernel]");
    // Beyond the last symbol of the table.
    EXPECT_EQ(at(0xffffffffc0300000ULL).function, "[unknown kernel]");
    EXPECT_EQ(at(0xffffffffffffffffULL).function, "[unknown kernel]");
}

TEST(KernelImage, UnknownInsideTheImageIsKernelOutsideItIsInNoMap) {
    // perf's kernel map runs from _text to _edata (or _etext without it): a gap inside
    // it is "[unknown] ([kernel.kallsyms])" in perf script, an address outside it (JIT
    // code that kallsyms does not list, such as a classic BPF socket filter) is
    // "[unknown] ([unknown])".
    Profile p;
    p.kernel_symbols = parse_kallsyms(
        "ffffffff81000000 T _text\n"
        "ffffffff81000000 T f\n"
        "ffffffff81001800 d in_text_table\n"
        "ffffffff81002000 T g\n"
        "ffffffff81003000 T _etext\n"
        "ffffffff81400000 D _edata\n");
    const FrameResolver resolver(p);
    const Location inside = resolver.resolve_kernel(0xffffffff81001810ULL);
    EXPECT_EQ(inside.function, "[unknown kernel]");
    EXPECT_EQ(inside.module, "[kernel.kallsyms]");
    // Past _etext but before _edata: still the image.
    EXPECT_EQ(resolver.resolve_kernel(0xffffffff81300000ULL).module, "[kernel.kallsyms]");
    for (uint64_t ip : {0xffffffff80ff0000ULL, 0xffffffff81400000ULL, 0xffffffffc0022142ULL}) {
        const Location outside = resolver.resolve_kernel(ip);
        EXPECT_EQ(outside.function, "[unknown kernel]");
        EXPECT_EQ(outside.module, "[unknown]") << std::hex << ip;
    }
    // Without the markers the image is not known: every gap is the kernel's.
    Profile bare;
    bare.kernel_symbols = parse_kallsyms("ffffffff81000000 T f\nffffffff81002000 T g\n");
    EXPECT_EQ(FrameResolver(bare).resolve_kernel(0xffffffffc0022142ULL).module,
              "[kernel.kallsyms]");
}

TEST_F(KernelLookup, ModulesAreBracketed) {
    const Location l = at(0xffffffffc0001404ULL);
    EXPECT_EQ(l.function, "e1000_clean");
    EXPECT_EQ(l.module, "[e1000]");
    EXPECT_EQ(l.offset, 4u);
    // The last symbol of the table still covers the code right after it.
    EXPECT_EQ(at(0xffffffffc0200010ULL).function, "mod_only_fn");
    EXPECT_EQ(at(0xffffffffc0200010ULL).module, "[tiny]");
}

TEST_F(KernelLookup, BpfProgramsAndBpfGaps) {
    Location l = at(0xffffffffc0100010ULL);
    EXPECT_EQ(l.function, "bpf_prog_6deef7357e7b4530_sd_fw_egress");
    EXPECT_EQ(l.module, "[bpf]");
    EXPECT_TRUE(l.resolved);
    l = at(0xffffffffc0100090ULL);
    EXPECT_EQ(l.function, "bpf_prog_aa11bb22cc33dd44_handler");
    // Well past the last JITed program: BPF text, but no program we know.
    l = at(0xffffffffc01f0000ULL);
    EXPECT_EQ(l.function, "[bpf]");
    EXPECT_EQ(l.module, "[bpf]");
    EXPECT_FALSE(l.resolved);
}

TEST_F(KernelLookup, KallsymsPathOverridesTheSnapshot) {
    test::TempDir dir;
    const std::string path = dir.file("kallsyms");
    const std::string text = "ffffffff81001000 T other_name\nffffffff81003000 T _etext\n";
    test::write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
    const FrameResolver r(profile_, ResolveOptions{.kallsyms_path = path});
    EXPECT_EQ(r.resolve_kernel(0xffffffff81001400ULL).function, "other_name");
    EXPECT_THROW(FrameResolver(profile_, ResolveOptions{.kallsyms_path = dir.file("none")}), Error);
}

TEST(KernelLookupLive, ResolvesKnownFunctionsOfThisKernel) {
    Profile p;
    p.kernel_symbols = read_kallsyms();
    if (kallsyms_restricted(p.kernel_symbols)) GTEST_SKIP() << "kptr_restrict hides addresses";
    const FrameResolver r(p);
    for (const KernelSymbol& s : p.kernel_symbols) {
        if (s.name != "tcp_sendmsg" && s.name != "__sys_socket") continue;
        const Location l = r.resolve_kernel(s.addr + 1);
        EXPECT_EQ(l.function, s.name);
        EXPECT_EQ(l.offset, 1u);
    }
}

}  // namespace
}  // namespace kprof

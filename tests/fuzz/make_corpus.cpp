// Writes the generated seeds of the fuzz corpus: kprof_fuzz_make_corpus CORPUS_DIR.
// tests/fuzz/make_corpus.sh runs it and adds what comes from real tools (perf record,
// perf script, /proc/kallsyms); README.md lists every seed and how it was made.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "collector/record_bytes.hpp"
#include "perfdata/perf_builder.hpp"
#include "tests/fuzz/trace_input.hpp"
#include "trace/format.hpp"

namespace {

namespace fs = std::filesystem;
using namespace kprof;

void put(const fs::path& path, std::span<const uint8_t> bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<uint8_t> prefixed(uint8_t flags, std::span<const uint8_t> bytes) {
    std::vector<uint8_t> out{flags};
    out.insert(out.end(), bytes.begin(), bytes.end());
    return out;
}

// A recording in miniature: every table of the model filled, kernel and user frames.
Profile small_profile() {
    Profile p;
    p.meta = TraceMeta{.hostname = "box",
                       .kernel_release = "6.18.0",
                       .arch = "x86_64",
                       .command_line = "kprof record -- true",
                       .target = "command true",
                       .kprof_version = "0.1.0",
                       .source_format = "kprof",
                       .start_time_ns = 1700000000000000000ULL,
                       .duration_ns = 5000,
                       .first_sample_ns = 1000,
                       .nr_cpus = 2,
                       .exit_status = -9,
                       .interrupted = true,
                       .collector_cpu_seconds = 0.25};
    p.events = {
        EventDesc{
            .name = "cpu-clock", .type = 1, .use_freq = true, .freq_or_period = 999, .samples = 4},
        EventDesc{.name = "sched:sched_switch", .type = 2, .config = 300, .samples = 1}};
    p.losses = {CpuLoss{.cpu = 0, .lost_records = 3, .throttles = 1}, CpuLoss{.cpu = 1}};
    p.kernel_symbols = {{0xffffffff81000000ULL, "_stext", "", 'T'},
                        {0xffffffff81001000ULL, "do_syscall_64", "", 'T'},
                        {0xffffffffc0000000ULL, "e1000_xmit", "e1000", 't'}};
    Dso exe{.path = "/usr/bin/true", .build_id = "deadbeef", .symbolized = true};
    exe.symbols = {{0x1000, 0x40, "main", "true.c", 12}, {0x1040, 0x20, "helper", "", 0}};
    exe.sources = {{0x1010, {{"inl", "true.c", 3}, {"main", "true.c", 12}}}};
    p.dsos = {exe, Dso{.path = "[vdso]"}};
    p.mappings = {Mapping{.pid = 10, .start = 0x400000, .len = 0x2000, .dso = 0},
                  Mapping{.pid = 10, .start = 0x7fff0000, .len = 0x1000, .dso = 1},
                  Mapping{.pid = 11, .generation = 1, .start = 0x400000, .len = 0x1000}};
    p.threads = {Thread{.pid = 10, .tid = 10, .ppid = 1, .comm = "true", .start_ns = 900},
                 Thread{.pid = 10, .tid = 12, .ppid = 1, .comm = "worker", .exit_ns = 6000}};
    const uint64_t k[] = {0xffffffff81001010ULL, 0xffffffff81000020ULL};
    const uint64_t mixed[] = {0xffffffff81001010ULL, 0x401010, 0x401048};
    const uint64_t user[] = {0x401010, 0x7fff0100};
    const StackId s0 = p.stacks.intern(k, 2, 0, 0);
    const StackId s1 = p.stacks.intern(mixed, 1, 10, 0);
    const StackId s2 = p.stacks.intern(user, 0, 10, 0);
    for (uint64_t i = 0; i < 5; ++i)
        p.samples.push_back(Sample{.time_ns = 1000 + i * 1000,
                                   .period = 1001001,
                                   .pid = 10,
                                   .tid = i % 2 ? 12u : 10u,
                                   .stack = i == 4 ? s0 : (i % 2 ? s1 : s2),
                                   .cpu = static_cast<uint16_t>(i % 2),
                                   .event = static_cast<uint16_t>(i == 4 ? 1 : 0)});
    p.unresolved_frames = 1;
    return p;
}

std::vector<uint8_t> trace_bytes(const Profile& p, const fs::path& tmp) {
    write_trace(tmp.string(), p);
    std::ifstream in(tmp, std::ios::binary);
    std::vector<uint8_t> b{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    fs::remove(tmp);
    return b;
}

void trace_seeds(const fs::path& dir, const fs::path& tmp) {
    using namespace kprof::fuzz;
    const std::vector<uint8_t> small = trace_bytes(small_profile(), tmp);
    const std::vector<uint8_t> empty = trace_bytes(Profile{}, tmp);
    Profile deep;
    deep.events = {EventDesc{.name = "cpu-clock"}};
    std::vector<uint64_t> ips(kMaxStackDepth);
    for (size_t i = 0; i < ips.size(); ++i) ips[i] = 0x400000 + i * 16;
    deep.samples = {Sample{.stack = deep.stacks.intern(ips, 0, 1, 0)}};
    const std::vector<uint8_t> deepest = trace_bytes(deep, tmp);

    put(dir / "small.raw", prefixed(kModeRaw, small));
    put(dir / "small.recover", prefixed(kModeRaw | kRecover, small));
    put(dir / "small.fixcrc", prefixed(kModeFixCrc, small));
    put(dir / "small.chunks", prefixed(kModeChunks | kWithTrailer, chunks_of(small)));
    put(dir / "small.chunks-unfinished", prefixed(kModeChunks | kRecover, chunks_of(small)));
    const std::span<const uint8_t> half(small.data(), small.size() / 2);
    put(dir / "small.truncated-recover", prefixed(kModeRaw | kRecover, half));
    put(dir / "empty.raw", prefixed(kModeRaw, empty));
    put(dir / "empty.chunks", prefixed(kModeChunks | kWithTrailer, chunks_of(empty)));
    put(dir / "max-depth.chunks", prefixed(kModeChunks | kWithTrailer, chunks_of(deepest)));
}

void ring_seeds(const fs::path& dir) {
    using collector::testing::collector_layout;
    using collector::testing::RecordBytes;
    auto sid = [](RecordBytes r) { return r.sample_id(10, 10, 500, 1, 0).done(); };
    std::vector<std::vector<uint8_t>> records = {
        sid(RecordBytes(PERF_RECORD_COMM).u32(10).u32(10).str("true")),
        sid(RecordBytes(PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC).u32(10).u32(10).str("sh")),
        sid(RecordBytes(PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER)
                .u32(10)
                .u32(10)
                .u64(0x400000)
                .u64(0x2000)
                .u64(0)
                .u32(8)
                .u32(1)
                .u64(42)
                .u64(0)
                .u32(5)
                .u32(2)
                .str("/usr/bin/true")),
        sid(RecordBytes(PERF_RECORD_MMAP)
                .u32(10)
                .u32(10)
                .u64(0x500000)
                .u64(0x1000)
                .u64(0)
                .str("/lib/x.so")),
        sid(RecordBytes(PERF_RECORD_FORK).u32(11).u32(10).u32(11).u32(10).u64(400)),
        sid(RecordBytes(PERF_RECORD_EXIT).u32(11).u32(10).u32(11).u32(10).u64(600)),
        sid(RecordBytes(PERF_RECORD_LOST).u64(0).u64(7)),
        sid(RecordBytes(PERF_RECORD_LOST_SAMPLES).u64(3)),
        sid(RecordBytes(PERF_RECORD_THROTTLE).u64(550).u64(0).u64(0)),
        sid(RecordBytes(PERF_RECORD_UNTHROTTLE).u64(560).u64(0).u64(0)),
        RecordBytes(PERF_RECORD_SAMPLE, PERF_RECORD_MISC_KERNEL)
            .u64(0)
            .u64(0xffffffff81001010ULL)
            .u32(10)
            .u32(10)
            .u64(700)
            .u32(1)
            .u32(0)
            .u64(1000)
            .u64(6)
            .u64(static_cast<uint64_t>(PERF_CONTEXT_KERNEL))
            .u64(0xffffffff81001010ULL)
            .u64(0xffffffff81000020ULL)
            .u64(static_cast<uint64_t>(PERF_CONTEXT_USER))
            .u64(0x401010)
            .u64(0x401048)
            .done(),
        RecordBytes(PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER)
            .u64(1)
            .u64(0x401010)
            .u32(10)
            .u32(10)
            .u64(800)
            .u32(0)
            .u32(0)
            .u64(1000)
            .u64(0)
            .done(),
        RecordBytes(PERF_RECORD_SWITCH).u64(0).u64(0).u64(0).done(),
    };
    const uint64_t type = collector_layout(true).sample_type;
    auto header = [&](uint8_t flags, uint16_t tail) {
        std::vector<uint8_t> h;
        for (int i = 0; i < 8; ++i) h.push_back(static_cast<uint8_t>(type >> (8 * i)));
        h.push_back(flags);
        h.push_back(static_cast<uint8_t>(tail));
        h.push_back(static_cast<uint8_t>(tail >> 8));
        return h;
    };
    std::vector<uint8_t> all = header(1 | (1 << 1), 0);
    for (const auto& r : records) all.insert(all.end(), r.begin(), r.end());
    put(dir / "all-types", all);
    std::vector<uint8_t> wrapped = header(1, 1000);  // stream wraps past the ring's end
    wrapped.insert(wrapped.end(), all.begin() + 11, all.end());
    put(dir / "all-types-wrapped", wrapped);
    for (size_t i = 0; i < records.size(); ++i) {
        std::vector<uint8_t> one = header(1, 0);
        one.insert(one.end(), records[i].begin(), records[i].end());
        put(dir / ("record-" + std::to_string(i)), one);
    }
    // --call-graph dwarf: user registers and a stack copy after the callchain.
    const collector::SampleLayout dwarf = collector::testing::dwarf_layout();
    std::vector<uint8_t> dwarf_seed;
    for (int i = 0; i < 8; ++i)
        dwarf_seed.push_back(static_cast<uint8_t>(dwarf.sample_type >> (8 * i)));
    dwarf_seed.insert(dwarf_seed.end(), {1, 0, 0});
    collector::testing::UserCopy user;
    user.regs.assign(17, 0x401010);
    user.stack.assign(64, 0x40);
    user.valid = 56;
    for (const auto& r :
         {records[2],
          collector::testing::dwarf_sample_bytes(
              0, 0xffffffff81001010ULL, 10, 900,
              {static_cast<uint64_t>(PERF_CONTEXT_KERNEL), 0xffffffff81001010ULL}, user)})
        dwarf_seed.insert(dwarf_seed.end(), r.begin(), r.end());
    put(dir / "dwarf-sample", dwarf_seed);
}

void perf_data_seeds(const fs::path& dir) {
    using namespace kprof::test;
    for (bool be : {false, true}) {
        AttrSpec a;
        a.ids = {7};
        const RecordWriter w(be, a);
        std::vector<std::vector<uint8_t>> records = {
            w.comm(100, 100, "busy", false, 10),
            w.mmap2(100, 0x400000, 0x10000, 0, "/usr/bin/busy", 20),
            w.task(true, 101, 100, 101, 100, 25),
            w.sample({.ip = 0xffffffff81001010ULL,
                      .pid = 100,
                      .tid = 101,
                      .time = 30,
                      .cpu = 1,
                      .period = 4000,
                      .callchain = {kCtxKernel, 0xffffffff81001010ULL, kCtxUser, 0x401000}}),
            w.lost(2, 0),
            w.finished_round(),
        };
        Buf cpus(be);
        cpus.u32(4);
        cpus.u32(2);
        const std::string tag = be ? "be" : "le";
        put(dir / ("built-" + tag),
            file_image(be, {a}, records,
                       {string_feature(be, kFeatHostname, "box"),
                        string_feature(be, kFeatOsrelease, "6.1.0-test"),
                        {kFeatNrcpus, cpus.data()},
                        event_desc_feature(be, {a}, {"cpu-clock"}),
                        build_id_feature(be, "/usr/bin/busy", {0xde, 0xad})}));
        put(dir / ("built-zstd-" + tag),
            file_image(be, {a}, compress_records(be, records, true, 64), {}));
    }
    // perf record --call-graph dwarf: perf's register mask, a stack copy per sample.
    AttrSpec d;
    d.sample_type = st::ip | st::tid | st::time | st::callchain | st::regs_user | st::stack_user;
    d.regs_user = 0xff0fffULL;
    const RecordWriter w(false, d);
    std::vector<uint64_t> regs(20, 0x401000);
    regs[7] = 0x7ffc0000;
    put(dir / "built-dwarf-le", file_image(false, {d},
                                           {w.mmap2(100, 0x400000, 0x10000, 0, "/usr/bin/busy", 20),
                                            w.sample({.ip = 0x401000,
                                                      .pid = 100,
                                                      .tid = 100,
                                                      .time = 30,
                                                      .regs_abi = 2,
                                                      .user_regs = regs,
                                                      .user_stack = std::vector<uint8_t>(128, 0x10),
                                                      .stack_valid = 128,
                                                      .misc = 2})},
                                           {}));
}

void text_seeds(const fs::path& root) {
    const std::string script =
        "true 10 [001] 12345.678901: 1001001 cpu-clock: \n"
        "\tffffffff81001010 do_syscall_64+0x10 ([kernel.kallsyms])\n"
        "\t          401010 main+0x10 (/usr/bin/true)\n"
        "\t    7f0000001000 [unknown] (/lib/x86_64-linux-gnu/libc.so.6)\n"
        "\n"
        "worker 10/12 12345.679901:     250000 cpu-clock:ppp: \n"
        "\tffffffffc0000010 e1000_xmit+0x10 ([e1000])\n"
        "\n";
    put(root / "perf_script" / "handmade",
        std::span(reinterpret_cast<const uint8_t*>(script.data()), script.size()));
    const std::string folded =
        "true;main;helper;do_syscall_64_[k] 5\n"
        "# comment\n"
        "worker;start;loop 12\r\n"
        "weird name;a;;b 1\n";
    put(root / "folded" / "handmade",
        std::span(reinterpret_cast<const uint8_t*>(folded.data()), folded.size()));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: kprof_fuzz_make_corpus CORPUS_DIR\n");
        return 2;
    }
    const fs::path root = argv[1];
    for (const char* d : {"trace", "perf_data", "perf_script", "folded", "kallsyms", "ring"})
        fs::create_directories(root / d);
    const fs::path tmp = fs::temp_directory_path() / ("kprof-corpus-" + std::to_string(getpid()));
    trace_seeds(root / "trace", tmp);
    ring_seeds(root / "ring");
    perf_data_seeds(root / "perf_data");
    text_seeds(root);
    return 0;
}

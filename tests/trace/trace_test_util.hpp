// Hand-built profiles for the trace layer tests (and scratch files, running kprof: the
// shared test support, which they use with these).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "trace/format.hpp"
#include "trace/profile.hpp"

namespace kprof::test {

struct ProfileShape {
    size_t samples = 100;
    size_t stacks = 20;
    uint32_t seed = 1;
};

// A profile with every table filled, the way the collector makes one: kernel symbols,
// events, losses, dsos with symbols, mappings, threads, interned stacks (kernel-only and
// kernel+user) and samples over several CPUs and events.
inline Profile make_profile(const ProfileShape& shape = {}) {
    Profile p;
    p.meta.hostname = "testhost";
    p.meta.kernel_release = "6.18.0-test";
    p.meta.arch = "x86_64";
    p.meta.command_line = "kprof record --workload socket";
    p.meta.target = "workload socket";
    p.meta.kprof_version = "0.1.0";
    p.meta.source_format = "kprof";
    p.meta.start_time_ns = 1'700'000'000'000'000'000ULL;
    p.meta.duration_ns = 3'000'000'000ULL;
    p.meta.first_sample_ns = 123'456'789'000ULL;
    p.meta.nr_cpus = 4;
    p.meta.exit_status = -9;
    p.meta.interrupted = true;
    p.meta.collector_cpu_seconds = 0.125;
    p.events = {
        EventDesc{
            .name = "cpu-clock", .type = 1, .config = 0, .use_freq = true, .freq_or_period = 999},
        EventDesc{.name = "net:net_dev_xmit",
                  .type = 2,
                  .config = 1234,
                  .use_freq = false,
                  .freq_or_period = 1},
    };
    p.losses = {
        CpuLoss{.cpu = 0, .lost_records = 3, .lost_samples = 1, .throttles = 2, .unthrottles = 2},
        CpuLoss{.cpu = 3, .lost_records = 0, .lost_samples = 5}};
    p.kernel_symbols = {
        {0xffffffff81000000ULL, "_stext", "", 'T'},
        {0xffffffff81001000ULL, "tcp_sendmsg", "", 'T'},
        {0xffffffff81001400ULL, "inet_create", "", 't'},
        {0xffffffff81002000ULL, "__sys_socket", "", 'T'},
        {0xffffffff81003000ULL, "_etext", "", 'T'},
        {0xffffffffc0001000ULL, "e1000_xmit_frame", "e1000", 't'},
    };
    Dso exe;
    exe.path = "/usr/bin/target";
    exe.build_id = "abcdef";
    exe.symbolized = true;
    exe.symbols = {
        DsoSymbol{.start = 0x1100, .size = 0x80, .name = "main", .file = "t.c", .line = 7},
        DsoSymbol{.start = 0x1200, .size = 0x40, .name = "work", .file = "", .line = 0}};
    exe.sources = {DsoAddressSource{.addr = 0x1110,
                                    .frames = {{"inlined_helper", "h.h", 3}, {"main", "t.c", 7}}}};
    Dso libc;
    libc.path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    p.dsos = {exe, libc};
    p.mappings = {
        Mapping{.pid = 42,
                .generation = 1,
                .start = 0x555555554000ULL,
                .len = 0x2000,
                .pgoff = 0x1000,
                .time_ns = 10,
                .dso = 0},
        Mapping{.pid = 42,
                .generation = 1,
                .start = 0x7ffff7c00000ULL,
                .len = 0x100000,
                .pgoff = 0,
                .time_ns = 11,
                .dso = 1},
    };
    p.threads = {Thread{.pid = 42, .tid = 42, .ppid = 1, .comm = "target", .start_ns = 5},
                 Thread{.pid = 42, .tid = 43, .ppid = 1, .comm = "target-w\x1b[31m"}};
    p.unresolved_frames = 17;

    std::mt19937_64 rng(shape.seed);
    for (size_t i = 0; i < shape.stacks; ++i) {
        std::vector<uint64_t> ips{0xffffffff81000000ULL + i};  // keeps every stack distinct
        const size_t kdepth = 1 + rng() % 6;
        for (size_t k = 1; k < kdepth; ++k) ips.push_back(0xffffffff81001000ULL + rng() % 0x2000);
        const bool user = i % 3 != 0;
        if (user)
            for (size_t k = 0, n = 1 + rng() % 4; k < n; ++k)
                ips.push_back(0x555555555000ULL + rng() % 0x300);
        p.stacks.intern(ips, static_cast<uint32_t>(kdepth), user ? 42 : 0, user ? 1 : 0);
    }
    uint64_t t = p.meta.first_sample_ns;
    for (size_t i = 0; i < shape.samples; ++i) {
        t += 1000 + rng() % 1000000;
        Sample s;
        s.time_ns = t;
        s.period = 1 + rng() % 2000000;
        s.pid = 42;
        s.tid = 42 + static_cast<uint32_t>(i % 2);
        s.stack = static_cast<StackId>(rng() % p.stacks.size());
        s.cpu = static_cast<uint16_t>(i % 4);
        s.event = static_cast<uint16_t>(i % 5 == 0);
        p.samples.push_back(s);
        ++p.events[s.event].samples;
    }
    return p;
}

// P as a recording killed before it finished leaves it: PATH.tmp holding the metadata,
// stacks and samples, never finalized (no PATH).
inline void write_unfinished_trace(const std::string& path, const Profile& p) {
    TraceWriter w(path);
    w.add_metadata(p);
    w.add_stacks(p.stacks);
    w.add_samples(p.samples);
}

}  // namespace kprof::test

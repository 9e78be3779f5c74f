#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>

#include <zstd.h>

#include "trace/crc32.hpp"
#include "trace/error.hpp"
#include "trace/format.hpp"
#include "trace_test_util.hpp"

namespace kprof {
namespace {

using test::make_profile;
using test::read_bytes;
using test::TempDir;
using test::write_bytes;

// Chunk boundaries of a finalized file, found by walking the documented layout.
std::vector<size_t> chunk_offsets(const std::vector<uint8_t>& b) {
    std::vector<size_t> out;
    size_t off = 16;
    while (off + 32 <= b.size() && std::memcmp(b.data() + off, "KCHK", 4) == 0) {
        out.push_back(off);
        uint64_t psize = 0;
        for (int i = 7; i >= 0; --i) psize = (psize << 8) | b[off + 8 + i];
        off += 32 + psize;
    }
    out.push_back(off);  // the trailer
    return out;
}

TEST(TraceFormat, RoundTripKeepsEveryTable) {
    TempDir dir;
    const Profile p = make_profile({.samples = 500, .stacks = 50});
    const std::string path = dir.file("t.kprof");
    write_trace(path, p);
    ReadReport report;
    const Profile q = read_trace(path, {}, &report);
    EXPECT_TRUE(report.finalized);
    EXPECT_EQ(report.bytes_discarded, 0u);
    EXPECT_EQ(q.meta, p.meta);
    EXPECT_EQ(q.events, p.events);
    EXPECT_EQ(q.losses, p.losses);
    EXPECT_EQ(q.kernel_symbols, p.kernel_symbols);
    EXPECT_EQ(q.dsos, p.dsos);
    EXPECT_EQ(q.mappings, p.mappings);
    EXPECT_EQ(q.threads, p.threads);
    EXPECT_EQ(q.stacks, p.stacks);
    EXPECT_EQ(q.samples, p.samples);
    EXPECT_EQ(q.unresolved_frames, p.unresolved_frames);
    EXPECT_TRUE(q == p);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(TraceFormat, EmptyStacksRoundTrip) {
    // Samples without a call chain may intern an empty stack; many of them pack tightly.
    TempDir dir;
    Profile p;
    p.events.push_back(EventDesc{.name = "cpu-clock"});
    for (uint32_t pid = 1; pid <= 5000; ++pid) p.stacks.append({}, 0, pid, 1);
    p.samples.push_back(Sample{.stack = 4999});
    write_trace(dir.file("e"), p);
    EXPECT_TRUE(read_trace(dir.file("e")) == p);
}

TEST(TraceFormat, EmptyProfileRoundTrips) {
    TempDir dir;
    const Profile p;
    write_trace(dir.file("e"), p);
    EXPECT_TRUE(read_trace(dir.file("e")) == p);
}

TEST(TraceFormat, ManySamplesSpanSeveralChunks) {
    TempDir dir;
    const Profile p = make_profile({.samples = 200'000, .stacks = 70'000, .seed = 7});
    write_trace(dir.file("big"), p);
    ReadReport report;
    const Profile q = read_trace(dir.file("big"), {}, &report);
    EXPECT_TRUE(q == p);
    // 200k samples at 64k per chunk and 70k stacks at 64k per chunk, plus 8 others.
    EXPECT_GE(report.chunks_read, 4u + 2u + 8u);
}

TEST(TraceFormat, StreamingWriterMatchesOneShot) {
    TempDir dir;
    const Profile p = make_profile({.samples = 150'000, .stacks = 300});
    TraceWriter w(dir.file("s"));
    EXPECT_EQ(w.temp_path(), dir.file("s") + ".tmp");
    // Stacks and samples trickle in, as from the collector: the table grows, and each
    // add_stacks call writes only the new ones.
    StackTable partial;
    for (StackId id = 0; id < p.stacks.size(); ++id) {
        const StackView v = p.stacks.get(id);
        partial.append(v.ips, v.kernel_depth, v.pid, v.generation);
        if (id % 37 == 0) w.add_stacks(partial);
    }
    w.add_stacks(partial);
    size_t next_sample = 0;
    for (; next_sample + 999 < p.samples.size(); next_sample += 999)
        w.add_samples(std::span(p.samples).subspan(next_sample, 999));
    w.add_samples(std::span(p.samples).subspan(next_sample));
    EXPECT_GT(w.bytes_written(), 16u);
    w.finish(p);
    EXPECT_TRUE(read_trace(dir.file("s")) == p);
}

TEST(TraceFormat, FileModeIs0600WhateverTheUmask) {
    TempDir dir;
    const mode_t old = ::umask(0);
    write_trace(dir.file("m"), make_profile());
    ::umask(old);
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("m").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(TraceFormat, WriterErrorsAreClear) {
    try {
        TraceWriter w("/nonexistent-dir/x.kprof");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.kprof.tmp"), std::string::npos);
    }
    // /dev/full fails every write with ENOSPC.
    if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "/dev/full not writable";
    TempDir dir;
    const std::string path = dir.file("full");
    ASSERT_EQ(::symlink("/dev/full", (path + ".tmp").c_str()), 0);
    // O_NOFOLLOW refuses the planted symlink rather than writing through it.
    EXPECT_THROW(TraceWriter{path}, Error);
}

TEST(TraceFormat, NoSpaceErrorNamesRecover) {
    // A tiny tmpfs is the real thing; it needs root and mount(2).
    TempDir dir;
    const std::string mnt = dir.file("mnt");
    std::filesystem::create_directory(mnt);
    if (std::system(("mount -t tmpfs -o size=64k tmpfs " + mnt + " 2>/dev/null").c_str()) != 0)
        GTEST_SKIP() << "cannot mount a tmpfs (needs root)";
    std::string message;
    {
        const Profile p = make_profile({.samples = 300'000, .stacks = 1000});
        try {
            TraceWriter w(mnt + "/t.kprof");
            w.add_stacks(p.stacks);
            w.add_samples(p.samples);
            w.finish(p);
        } catch (const Error& e) {
            message = e.what();
        }
    }
    EXPECT_NE(message.find("no space left on device"), std::string::npos) << message;
    EXPECT_NE(message.find("--recover"), std::string::npos) << message;
    ReadReport report;
    EXPECT_NO_THROW(read_trace(mnt + "/t.kprof.tmp", {.recover = true}, &report));
    EXPECT_FALSE(report.finalized);
    EXPECT_GT(report.chunks_read, 0u);
    std::system(("umount " + mnt).c_str());
}

TEST(TraceFormat, RecoverReadsAnUnfinishedWriter) {
    TempDir dir;
    const Profile p = make_profile({.samples = 100'000, .stacks = 500});
    const std::string path = dir.file("r");
    {
        TraceWriter w(path);
        w.add_metadata(p);
        w.add_stacks(p.stacks);
        w.add_samples(p.samples);
        // Destroyed without finish(): as when an exception ends a recording.
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    ASSERT_TRUE(std::filesystem::exists(path + ".tmp"));
    try {
        read_trace(path + ".tmp");
        FAIL() << "an unfinished trace read without --recover";
    } catch (const TraceError& e) {
        EXPECT_NE(std::string(e.what()).find("--recover"), std::string::npos);
    }
    ReadReport report;
    const Profile q = read_trace(path + ".tmp", {.recover = true}, &report);
    EXPECT_FALSE(report.finalized);
    EXPECT_EQ(report.bytes_discarded, 0u);
    EXPECT_EQ(q.samples, p.samples);
    EXPECT_EQ(q.stacks, p.stacks);
    EXPECT_EQ(q.meta, p.meta);
    EXPECT_EQ(q.events, p.events);
    EXPECT_EQ(q.kernel_symbols, p.kernel_symbols);
    EXPECT_TRUE(q.threads.empty());
    EXPECT_NE(report.note.find("100000 samples"), std::string::npos) << report.note;
    EXPECT_NE(report.note.find("user symbols"), std::string::npos) << report.note;
}

TEST(TraceFormat, RecoverWithoutMetadataInventsEventNames) {
    TempDir dir;
    const Profile p = make_profile({.samples = 1000, .stacks = 10});
    {
        TraceWriter w(dir.file("n"));
        w.add_stacks(p.stacks);
        w.add_samples(p.samples);
    }
    const Profile q = read_trace(dir.file("n.tmp"), {.recover = true});
    EXPECT_EQ(q.samples.size(), 1000u);
    ASSERT_EQ(q.events.size(), 2u);
    EXPECT_EQ(q.events[1].name, "event1");
}

TEST(TraceFormat, TruncationAtEveryChunkBoundaryAndMidChunk) {
    TempDir dir;
    const Profile p = make_profile({.samples = 70'000, .stacks = 100});
    const std::string path = dir.file("t");
    write_trace(path, p);
    const std::vector<uint8_t> full = read_bytes(path);
    const std::vector<size_t> bounds = chunk_offsets(full);
    ASSERT_GE(bounds.size(), 10u);
    ASSERT_EQ(bounds.back() + 32, full.size());
    std::vector<size_t> cuts{0, 1, 8, 15, 16, full.size() - 1, full.size() - 31};
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
        cuts.push_back(bounds[i]);                        // at the boundary
        cuts.push_back(bounds[i] + 5);                    // inside the header
        cuts.push_back((bounds[i] + bounds[i + 1]) / 2);  // inside the payload
    }
    cuts.push_back(bounds.back());  // every chunk, no trailer
    std::sort(cuts.begin(), cuts.end());
    size_t previous_samples = 0;
    for (size_t cut : cuts) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        const std::vector<uint8_t> part(full.begin(), full.begin() + static_cast<ptrdiff_t>(cut));
        try {
            read_trace_bytes(part, "cut");
            ADD_FAILURE() << "truncated file accepted";
        } catch (const TraceError& e) {
            EXPECT_LE(e.offset(), cut);
            EXPECT_NE(std::string(e.what()).find("at offset"), std::string::npos);
        }
        if (cut < 16) {
            EXPECT_THROW(read_trace_bytes(part, "cut", {.recover = true}), TraceError);
            continue;
        }
        ReadReport report;
        const Profile q = read_trace_bytes(part, "cut", {.recover = true}, &report);
        EXPECT_FALSE(report.finalized);
        // Recovery keeps whole chunks: the sample count grows with the cut and every
        // recovered sample is the original one.
        EXPECT_LE(q.samples.size(), p.samples.size());
        EXPECT_TRUE(std::equal(q.samples.begin(), q.samples.end(), p.samples.begin()));
        EXPECT_GE(q.samples.size(), previous_samples);
        previous_samples = q.samples.size();
        // What was discarded is the tail after the last complete chunk.
        EXPECT_TRUE(report.bytes_discarded == 0 ||
                    std::find(bounds.begin(), bounds.end(), cut - report.bytes_discarded) !=
                        bounds.end())
            << report.bytes_discarded;
    }
}

TEST(TraceFormat, BitFlipsAreAlwaysTraceErrors) {
    TempDir dir;
    const std::string path = dir.file("f");
    write_trace(path, make_profile({.samples = 800, .stacks = 20}));
    const std::vector<uint8_t> full = read_bytes(path);
    ASSERT_NO_THROW(read_trace_bytes(full, "ok"));
    // Every byte of small files would be slow under ASan: every header and trailer byte,
    // and a stride through the payloads.
    std::vector<size_t> positions;
    for (size_t i = 0; i < 16; ++i) positions.push_back(i);
    for (size_t b : chunk_offsets(full))
        for (size_t i = 0; i < 32 && b + i < full.size(); ++i) positions.push_back(b + i);
    for (size_t i = 16; i < full.size(); i += 7) positions.push_back(i);
    size_t flips = 0;
    for (size_t pos : positions) {
        for (int bit : {0, 5}) {
            std::vector<uint8_t> bad = full;
            bad[pos] ^= static_cast<uint8_t>(1u << bit);
            ++flips;
            EXPECT_THROW(read_trace_bytes(bad, "flip"), TraceError)
                << "flip of bit " << bit << " at " << pos;
            // Recovery never crashes either: it keeps what precedes the damage.
            try {
                read_trace_bytes(bad, "flip", {.recover = true});
            } catch (const TraceError&) {
            }
        }
    }
    EXPECT_GT(flips, 500u);
}

// A file of a valid header and chunks with hostile contents (checksums right).
std::vector<uint8_t> forge(const std::vector<std::pair<uint32_t, std::vector<uint8_t>>>& chunks) {
    std::vector<uint8_t> out(16, 0);
    std::memcpy(out.data(), kTraceMagic, 8);
    out[8] = kTraceVersion;
    for (const auto& [type, raw] : chunks) {
        std::vector<uint8_t> z(ZSTD_compressBound(raw.size()));
        z.resize(ZSTD_compress(z.data(), z.size(), raw.data(), raw.size(), 1));
        uint8_t h[32];
        std::memcpy(h, "KCHK", 4);
        auto put = [&h](size_t at, uint64_t v, int n) {
            for (int i = 0; i < n; ++i) h[at + i] = static_cast<uint8_t>(v >> (8 * i));
        };
        put(4, type, 4);
        put(8, z.size(), 8);
        put(16, raw.size(), 8);
        put(24, crc32(z), 4);
        put(28, crc32(std::span<const uint8_t>(h, 28)), 4);
        out.insert(out.end(), h, h + 32);
        out.insert(out.end(), z.begin(), z.end());
    }
    return out;
}

std::vector<uint8_t> varints(std::initializer_list<uint64_t> values) {
    std::vector<uint8_t> out;
    for (uint64_t v : values) {
        while (v >= 0x80) {
            out.push_back(static_cast<uint8_t>(v | 0x80));
            v >>= 7;
        }
        out.push_back(static_cast<uint8_t>(v));
    }
    return out;
}

// Reads a forged file in recover mode; returns why the reader stopped ("" if it did not).
std::string stop_reason(const std::vector<uint8_t>& file, Profile* out = nullptr) {
    ReadReport report;
    Profile p = read_trace_bytes(file, "forged", {.recover = true}, &report);
    if (out) *out = std::move(p);
    return report.bytes_discarded ? report.note : "";
}

constexpr uint32_t kStacks = 8, kSamples = 9, kEvents = 2;

TEST(TraceFormat, HostileCountsAndIdsAreRejected) {
    const uint64_t huge = UINT64_MAX - 1;
    // Absurd counts: the reader must not try to allocate them.
    EXPECT_NE(stop_reason(forge({{kSamples, varints({huge, 1, 2})}})).find("exceeds the chunk"),
              std::string::npos);
    EXPECT_NE(stop_reason(forge({{kEvents, varints({1ULL << 40})}})).find("exceeds the chunk"),
              std::string::npos);
    // Stack depth beyond the format's limit.
    std::vector<uint8_t> deep = varints({0, 1, kMaxStackDepth + 1, 0, 0, 0});
    deep.resize(deep.size() + kMaxStackDepth + 10, 0);
    EXPECT_NE(stop_reason(forge({{kStacks, deep}})).find("beyond the limit"), std::string::npos);
    // Kernel depth beyond depth.
    EXPECT_NE(stop_reason(forge({{kStacks, varints({0, 1, 1, 2, 0, 0, 5})}})).find("kernel depth"),
              std::string::npos);
    // Stack ids that skip ahead.
    EXPECT_NE(stop_reason(forge({{kStacks, varints({5, 1, 1, 1, 0, 0, 5})}})).find("start at 5"),
              std::string::npos);
    // A sample naming a stack that does not exist.
    EXPECT_NE(stop_reason(forge({{kStacks, varints({0, 1, 1, 1, 0, 0, 5})},
                                 {kSamples, varints({1, 2, 1, 1, 1, 7, 0, 0})}}))
                  .find("names stack 7"),
              std::string::npos);
    // cpu beyond 16 bits.
    EXPECT_NE(stop_reason(forge({{kStacks, varints({0, 1, 1, 1, 0, 0, 5})},
                                 {kSamples, varints({1, 2, 1, 1, 1, 0, 70000, 0})}}))
                  .find("cpu out of range"),
              std::string::npos);
    // A good pair of chunks followed by a bad one: the good part is kept.
    Profile p;
    EXPECT_FALSE(stop_reason(forge({{kStacks, varints({0, 1, 1, 1, 0, 0, 5})},
                                    {kSamples, varints({1, 2, 1, 1, 1, 0, 0, 0})},
                                    {kSamples, varints({1, 2, 1, 1, 1, 0, 0})}}),
                             &p)
                     .empty());
    EXPECT_EQ(p.samples.size(), 1u);
    EXPECT_EQ(p.stacks.size(), 1u);
    // Unknown chunk types from later versions are skipped.
    EXPECT_EQ(stop_reason(forge({{77, varints({1, 2, 3})}})), "");
}

TEST(TraceFormat, GarbageAndWrongFilesAreRejected) {
    EXPECT_THROW(read_trace_bytes({}, "empty"), TraceError);
    const std::string text = "this is not a trace, just some text that is long enough\n";
    EXPECT_THROW(read_trace_bytes(
                     std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), "text"),
                 TraceError);
    TempDir dir;
    write_trace(dir.file("v"), make_profile());
    std::vector<uint8_t> b = read_bytes(dir.file("v"));
    b[8] = 99;  // version
    try {
        read_trace_bytes(b, "v");
        FAIL();
    } catch (const TraceError& e) {
        EXPECT_NE(std::string(e.what()).find("version 99"), std::string::npos);
        EXPECT_EQ(e.offset(), 8u);
    }
    EXPECT_THROW(read_trace(dir.file("missing")), Error);
}

TEST(TraceFormat, RandomBytesAfterAValidHeaderNeverCrash) {
    std::mt19937 rng(3);
    for (int round = 0; round < 2000; ++round) {
        std::vector<uint8_t> b(16 + rng() % 200);
        for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
        std::memcpy(b.data(), kTraceMagic, 8);
        b[8] = 1, b[9] = b[10] = b[11] = 0, b[12] = b[13] = b[14] = b[15] = 0;
        if (b.size() > 20 && round % 2) std::memcpy(b.data() + 16, "KCHK", 4);
        EXPECT_THROW(read_trace_bytes(b, "rand"), TraceError);
        try {
            read_trace_bytes(b, "rand", {.recover = true});
        } catch (const TraceError&) {
        }
    }
}

// Mutations behind valid checksums reach every decoder: whatever they decode to, the
// reader either rejects it with a TraceError or returns a profile whose ids all resolve.
TEST(TraceFormat, MutatedPayloadsBehindValidChecksums) {
    TempDir dir;
    write_trace(dir.file("m"), make_profile({.samples = 200, .stacks = 20}));
    const std::vector<uint8_t> full = read_bytes(dir.file("m"));
    std::vector<std::pair<uint32_t, std::vector<uint8_t>>> chunks;
    const std::vector<size_t> bounds = chunk_offsets(full);
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
        const uint8_t* h = full.data() + bounds[i];
        uint32_t type = 0;
        uint64_t psize = 0, rsize = 0;
        for (int k = 3; k >= 0; --k) type = (type << 8) | h[4 + k];
        for (int k = 7; k >= 0; --k) psize = (psize << 8) | h[8 + k];
        for (int k = 7; k >= 0; --k) rsize = (rsize << 8) | h[16 + k];
        std::vector<uint8_t> raw(rsize);
        ASSERT_EQ(ZSTD_decompress(raw.data(), raw.size(), h + 32, psize), rsize);
        chunks.emplace_back(type, std::move(raw));
    }
    ASSERT_NO_THROW(read_trace_bytes(forge(chunks), "forged", {.recover = true}));
    std::mt19937 rng(11);
    size_t accepted = 0;
    for (int round = 0; round < 1500; ++round) {
        auto mutated = chunks;
        auto& raw = mutated[rng() % mutated.size()].second;
        for (int n = 1 + static_cast<int>(rng() % 3); n > 0 && !raw.empty(); --n) {
            const size_t at = rng() % raw.size();
            switch (rng() % 3) {
                case 0:
                    raw[at] = static_cast<uint8_t>(rng());
                    break;
                case 1:
                    raw[at] = 0xff;
                    break;
                default:
                    raw.erase(raw.begin() + static_cast<ptrdiff_t>(at));
                    break;
            }
        }
        if (raw.empty()) raw.push_back(0);
        try {
            const Profile p = read_trace_bytes(forge(mutated), "mutated", {.recover = true});
            ++accepted;
            for (const Sample& s : p.samples) {
                ASSERT_LT(s.stack, p.stacks.size());
                ASSERT_LT(s.event, p.events.size());
            }
            for (const Mapping& m : p.mappings)
                ASSERT_TRUE(m.dso == kNoDso || m.dso < p.dsos.size());
            for (StackId id = 0; id < p.stacks.size(); ++id) {
                const StackView v = p.stacks.get(id);
                ASSERT_LE(v.kernel_depth, v.ips.size());
                ASSERT_LE(v.ips.size(), kMaxStackDepth);
            }
        } catch (const TraceError&) {
        }
    }
    EXPECT_GT(accepted, 0u);  // some mutations (a changed name) are still valid traces
}

}  // namespace
}  // namespace kprof

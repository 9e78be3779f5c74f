// The record-time symbolizer on the fixture programs of extra.cmake: symbol boundaries,
// load bias (PIE and a dlopen()ed library at random bases), .dynsym fallback, the vDSO,
// deleted and replaced files, and one lookup per unique address.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/auxv.h>

#include <filesystem>
#include <fstream>

#include "support/test_support.hpp"
#include "symbols/elf_symbols.hpp"
#include "symbols/resolve.hpp"
#include "symbols/symbolize.hpp"
#include "symbols_helpers.hpp"

namespace kprof {
namespace {

namespace fs = std::filesystem;
using test::Child;
using test::nm_symbols;
using test::TempDir;

// The frames the trace's tables give ip of address space (pid, 0), as analysis sees
// them: inlined frames first, then the containing function.
std::vector<Location> frames_at(const Profile& profile, uint32_t pid, uint64_t ip,
                                const ResolveOptions& options = {}) {
    const uint64_t ips[] = {ip};
    const StackView stack{.ips = ips, .kernel_depth = 0, .pid = pid, .generation = 0};
    std::vector<Location> out;
    FrameResolver(profile, options).resolve(stack, 0, out);
    return out;
}

// The containing function's name, "" when unresolved.
std::string name_at(const Profile& profile, uint32_t pid, uint64_t ip) {
    const std::vector<Location> frames = frames_at(profile, pid, ip);
    return frames.back().resolved ? frames.back().function : "";
}

uint64_t realtime_ns() {
    timespec t{};
    clock_gettime(CLOCK_REALTIME, &t);
    return uint64_t(t.tv_sec) * 1'000'000'000 + uint64_t(t.tv_nsec);
}

// The line of the fixture's source that carries `marker`: the reference for DWARF lines.
uint32_t fixture_line(const std::string& marker) {
    std::ifstream in(std::string(KPROF_SOURCE_DIR) + "/tests/symbols/symbols_target.c");
    std::string line;
    for (uint32_t n = 1; std::getline(in, line); ++n)
        if (line.find(marker) != std::string::npos) return n;
    return 0;
}

void add_user_stack(Profile& profile, uint32_t pid, std::vector<uint64_t> ips) {
    profile.stacks.intern(ips, 0, pid, 0);
}

const Dso* dso_named(const Profile& profile, const std::string& path) {
    for (const Dso& d : profile.dsos)
        if (d.path == path) return &d;
    return nullptr;
}

// The fixture program, running: the installed build, or a private copy at DIR/target that
// a test may delete, replace or move.
struct RunningTarget {
    enum Source { Build, Copy };
    explicit RunningTarget(Source source = Build)
        : path(source == Copy ? copy_into(dir) : std::string(KPROF_SYMBOLS_TARGET)),
          child(path),
          pid(static_cast<uint32_t>(child.pid())) {}

    // A profile holding the process's current mappings, as the recorder would.
    Profile mapped() const {
        Profile profile;
        test::add_process_maps(profile, child.pid());
        return profile;
    }
    // A return address a few bytes into FUNCTION, as a user stack holds.
    uint64_t in(const std::string& function) const { return child.address(function) + 4; }

    TempDir dir;
    std::string path;
    Child child;
    uint32_t pid;

  private:
    static std::string copy_into(const TempDir& dir) {
        const std::string copy = dir.path() + "/target";
        fs::copy_file(KPROF_SYMBOLS_TARGET, copy);
        return copy;
    }
};

TEST(ElfImage, LooksUpSymbolBoundariesLikeNm) {
    const std::string path = KPROF_SYMBOLS_TARGET_NOPIE;
    auto image = ElfImage::open_file(path, false);
    ASSERT_NE(image, nullptr);
    const auto nm = nm_symbols(path);
    std::map<uint64_t, std::string> by_addr;
    for (const auto& [name, s] : nm)
        if (s.type == 'T' || s.type == 't') by_addr[s.addr] = name;
    for (const char* fn : {"leaf", "middle", "outer", "main"}) {
        SCOPED_TRACE(fn);
        const test::NmSymbol s = nm.at(fn);
        ASSERT_GT(s.size, 0u);
        const auto first = image->lookup(s.addr);
        const auto last = image->lookup(s.addr + s.size - 1);
        ASSERT_TRUE(first && last);
        EXPECT_EQ(first->name, fn);
        EXPECT_EQ(first->start, s.addr);
        EXPECT_EQ(first->size, s.size);
        EXPECT_EQ(last->name, fn);
        // One past the end is the next function, or nothing, never this one.
        const auto past = image->lookup(s.addr + s.size);
        const auto next = by_addr.find(s.addr + s.size);
        if (next != by_addr.end()) {
            ASSERT_TRUE(past);
            EXPECT_EQ(past->name, next->second);
        } else {
            EXPECT_TRUE(!past || past->name != fn);
        }
    }
}

TEST(ElfImage, MapsFileOffsetsThroughLoadSegments) {
    // The fixed-address executable: the file offset of main in its text segment gives
    // back main's address through the program headers.
    const std::string path = KPROF_SYMBOLS_TARGET_NOPIE;
    auto image = ElfImage::open_file(path, false);
    ASSERT_NE(image, nullptr);
    EXPECT_FALSE(image->build_id().empty());
    const uint64_t main_addr = nm_symbols(path).at("main").addr;
    // The non-PIE text segment is linked at 0x400000 + its file offset.
    const auto vaddr = image->vaddr_of_offset(main_addr - 0x400000);
    ASSERT_TRUE(vaddr);
    EXPECT_EQ(*vaddr, main_addr);
    EXPECT_FALSE(image->vaddr_of_offset(uint64_t{1} << 40));
}

TEST(Symbolize, ResolvesPieAtItsRandomBase) {
    RunningTarget t;
    Profile profile = t.mapped();
    profile.meta.start_time_ns = realtime_ns();  // the binary is older: trusted
    const uint32_t pid = t.pid;
    // Return addresses a few bytes into each function, leaf first, as a user stack reads.
    const std::vector<uint64_t> ips = {t.in("leaf"), t.in("middle"), t.in("outer"), t.in("main")};
    add_user_stack(profile, pid, ips);
    const SymbolizeStats stats = symbolize_profile(profile);
    EXPECT_EQ(name_at(profile, pid, ips[0]), "leaf");
    EXPECT_EQ(name_at(profile, pid, ips[1]), "middle");
    EXPECT_EQ(name_at(profile, pid, ips[2]), "outer");
    EXPECT_EQ(name_at(profile, pid, ips[3]), "main");
    EXPECT_EQ(profile.unresolved_frames, 0u);
    EXPECT_EQ(stats.addresses, 4u);
    EXPECT_EQ(stats.resolved, 4u);
    EXPECT_EQ(stats.binaries, 1u);
    const Dso* dso = dso_named(profile, t.path);
    ASSERT_NE(dso, nullptr);
    EXPECT_TRUE(dso->symbolized);
    EXPECT_FALSE(dso->deleted);
    EXPECT_FALSE(dso->build_id.empty());
    // Only the symbols hit are stored.
    EXPECT_EQ(dso->symbols.size(), 4u);
    EXPECT_TRUE(std::is_sorted(dso->symbols.begin(), dso->symbols.end(),
                               [](const auto& a, const auto& b) { return a.start < b.start; }));
}

TEST(Symbolize, AddressPastTheLastSymbolStaysUnresolved) {
    RunningTarget t;
    Profile profile = t.mapped();
    const uint32_t pid = t.pid;
    // The last byte of the program's executable mapping lies past its text (the segment
    // is padded to a page), beyond every symbol.
    uint64_t text_end = 0;
    for (const Mapping& m : profile.mappings)
        if (profile.dsos[m.dso].path == t.path) text_end = m.start + m.len;
    ASSERT_NE(text_end, 0u);
    add_user_stack(profile, pid, {text_end - 1, t.in("main")});
    symbolize_profile(profile);
    EXPECT_EQ(name_at(profile, pid, text_end - 1), "");
    EXPECT_EQ(name_at(profile, pid, t.in("main")), "main");
    EXPECT_EQ(profile.unresolved_frames, 1u);
}

__attribute__((noinline)) int demangled_probe(int x) {
    return x * 7 + 1;
}

TEST(Symbolize, CxxNamesAreStoredDemangled) {
    // This test program's own C++ function, in its own (PIE) mapping.
    Profile profile;
    test::add_process_maps(profile, getpid());
    const uint32_t pid = static_cast<uint32_t>(getpid());
    const uint64_t ip = reinterpret_cast<uint64_t>(&demangled_probe) + 1;
    add_user_stack(profile, pid, {ip});
    symbolize_profile(profile);
    EXPECT_EQ(name_at(profile, pid, ip), "kprof::(anonymous namespace)::demangled_probe(int)");
}

TEST(Symbolize, UnmappedAddressesCountAsUnresolvedFrames) {
    Profile profile;
    add_user_stack(profile, 4242, {0x1000, 0x2000});
    const SymbolizeStats stats = symbolize_profile(profile);
    EXPECT_EQ(profile.unresolved_frames, 2u);
    EXPECT_EQ(stats.unmapped, 2u);
    EXPECT_EQ(stats.resolved, 0u);
    EXPECT_EQ(stats.addresses, 2u);
    EXPECT_EQ(stats.unresolved, 2u);
}

class LoadedLibrary {
  public:
    explicit LoadedLibrary(const std::string& path) : handle_(dlopen(path.c_str(), RTLD_NOW)) {
        if (handle_ == nullptr) throw std::runtime_error(dlerror());
    }
    ~LoadedLibrary() { dlclose(handle_); }
    uint64_t address(const char* name) const {
        return reinterpret_cast<uint64_t>(dlsym(handle_, name));
    }
    uint64_t hidden_address() const {
        auto fn = reinterpret_cast<void* (*)()>(dlsym(handle_, "symlib_hidden_address"));
        return reinterpret_cast<uint64_t>(fn());
    }

  private:
    void* handle_;
};

TEST(Symbolize, SharedLibraryLoadBiasAndSymtab) {
    LoadedLibrary lib(KPROF_SYMBOLS_LIB);
    Profile profile;
    test::add_process_maps(profile, getpid());
    const uint32_t pid = static_cast<uint32_t>(getpid());
    const uint64_t leaf = lib.address("symlib_leaf");
    const uint64_t hidden = lib.hidden_address();
    ASSERT_NE(leaf, 0u);
    add_user_stack(profile, pid, {hidden + 1, leaf + 2, lib.address("symlib_caller") + 3});
    symbolize_profile(profile);
    EXPECT_EQ(name_at(profile, pid, hidden + 1), "symlib_hidden");
    EXPECT_EQ(name_at(profile, pid, leaf + 2), "symlib_leaf");
    EXPECT_EQ(name_at(profile, pid, lib.address("symlib_caller") + 3), "symlib_caller");
    EXPECT_EQ(profile.unresolved_frames, 0u);
}

TEST(Symbolize, StrippedLibraryFallsBackToDynsym) {
    const std::string path = KPROF_SYMBOLS_LIB_STRIPPED;
    ASSERT_TRUE(nm_symbols(path).empty()) << path << " still has a .symtab";
    LoadedLibrary lib(path);
    Profile profile;
    test::add_process_maps(profile, getpid());
    const uint32_t pid = static_cast<uint32_t>(getpid());
    const uint64_t leaf = lib.address("symlib_leaf");
    const uint64_t hidden = lib.hidden_address();
    add_user_stack(profile, pid, {hidden + 1, leaf + 2});
    symbolize_profile(profile);
    EXPECT_EQ(name_at(profile, pid, leaf + 2), "symlib_leaf");
    // The static function is in no .dynsym: unresolved, not its neighbour's name.
    EXPECT_EQ(name_at(profile, pid, hidden + 1), "");
    EXPECT_EQ(profile.unresolved_frames, 1u);
}

TEST(Symbolize, VdsoFromMemory) {
    const uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
    if (vdso == 0) GTEST_SKIP() << "this kernel maps no vDSO";
    // nm on a copy of the image is the reference for where its functions are.
    TempDir dir;
    uint64_t size = 0;
    for (const auto& l : test::read_maps(getpid()))
        if (l.path == "[vdso]") size = l.end - l.start;
    ASSERT_GT(size, 0u);
    const std::string copy = dir.path() + "/vdso.so";
    std::ofstream(copy).write(reinterpret_cast<const char*>(vdso), static_cast<long>(size));
    const auto nm = nm_symbols(copy, true);
    ASSERT_TRUE(nm.contains("__vdso_clock_gettime"));
    const test::NmSymbol fn = nm.at("__vdso_clock_gettime");

    Profile profile;
    test::add_process_maps(profile, getpid());
    const uint32_t pid = static_cast<uint32_t>(getpid());
    const uint64_t ip = vdso + fn.addr + fn.size / 2;
    add_user_stack(profile, pid, {ip});
    symbolize_profile(profile);
    // clock_gettime is a weak alias at the same address.
    const std::string name = name_at(profile, pid, ip);
    EXPECT_TRUE(name == "__vdso_clock_gettime" || name == "clock_gettime") << name;
    const Dso* dso = dso_named(profile, "[vdso]");
    ASSERT_NE(dso, nullptr);
    EXPECT_TRUE(dso->symbolized);
    EXPECT_FALSE(dso->build_id.empty());
}

TEST(Symbolize, OneLookupPerUniqueDsoAddress) {
    // Two processes of the same program (different random bases) and several stacks
    // sharing frames: each (dso, offset) is looked up once, each ELF opened once.
    Child a(KPROF_SYMBOLS_TARGET);
    Child b(KPROF_SYMBOLS_TARGET);
    Profile profile;
    test::add_process_maps(profile, a.pid());
    test::add_process_maps(profile, b.pid());
    for (const Child* c : {&a, &b}) {
        const uint32_t pid = static_cast<uint32_t>(c->pid());
        add_user_stack(profile, pid, {c->address("leaf") + 4, c->address("main") + 4});
        add_user_stack(profile, pid, {c->address("middle") + 4, c->address("main") + 4});
    }
    const SymbolizeStats stats = symbolize_profile(profile);
    EXPECT_EQ(stats.addresses, 3u);
    EXPECT_EQ(stats.binaries, 1u);
    EXPECT_EQ(profile.unresolved_frames, 0u);
    EXPECT_EQ(stats.frames, 8u);
    EXPECT_EQ(name_at(profile, static_cast<uint32_t>(b.pid()), b.address("middle") + 4), "middle");
}

TEST(Symbolize, DeletedBinaryResolvesWhileMappedThenIsMarked) {
    if (geteuid() != 0) GTEST_SKIP() << "/proc/PID/map_files needs root (CAP_SYS_ADMIN)";
    RunningTarget t(RunningTarget::Copy);
    fs::remove(t.path);
    const uint32_t pid = t.pid;
    const std::vector<uint64_t> ips = {t.in("leaf"), t.in("main")};

    // Alive: /proc/PID/map_files still reaches the very file.
    Profile live = t.mapped();
    add_user_stack(live, pid, ips);
    symbolize_profile(live);
    const Dso* dso = dso_named(live, t.path + " (deleted)");
    ASSERT_NE(dso, nullptr);
    EXPECT_TRUE(dso->deleted);
    EXPECT_TRUE(dso->symbolized);
    EXPECT_EQ(name_at(live, pid, ips[0]), "leaf");

    // Gone (the process exited): nothing to read, so marked and left unresolved.
    Profile gone = t.mapped();
    add_user_stack(gone, pid, ips);
    t.child.stop();
    symbolize_profile(gone);
    dso = dso_named(gone, t.path + " (deleted)");
    ASSERT_NE(dso, nullptr);
    EXPECT_TRUE(dso->deleted);
    EXPECT_FALSE(dso->symbolized);
    EXPECT_EQ(name_at(gone, pid, ips[0]), "");
    EXPECT_EQ(gone.unresolved_frames, 2u);
}

TEST(Symbolize, DeletedPathRecreatedWithOtherCodeIsNotTrusted) {
    // The kernel said "(deleted)" and a different program now sits at the path: its
    // symbols would be wrong names.
    RunningTarget t(RunningTarget::Copy);
    const uint32_t pid = t.pid;
    Profile profile = t.mapped();
    t.child.stop();
    for (Dso& d : profile.dsos)
        if (d.path == t.path) d.path += " (deleted)";
    fs::remove(t.path);
    fs::copy_file(KPROF_SYMBOLS_TARGET_NOPIE, t.path);
    add_user_stack(profile, pid, {t.in("leaf")});
    symbolize_profile(profile);
    const Dso* dso = dso_named(profile, t.path + " (deleted)");
    ASSERT_NE(dso, nullptr);
    EXPECT_TRUE(dso->deleted);
    EXPECT_FALSE(dso->symbolized);
    EXPECT_EQ(profile.unresolved_frames, 1u);
}

TEST(Symbolize, BuildIdMismatchMarksReplacedFile) {
    RunningTarget t;
    const uint32_t pid = t.pid;
    Profile profile = t.mapped();
    for (Dso& d : profile.dsos)
        if (d.path == t.path) d.build_id = "00112233445566778899aabbccddeeff00112233";
    add_user_stack(profile, pid, {t.in("leaf")});
    symbolize_profile(profile);
    const Dso* dso = dso_named(profile, t.path);
    ASSERT_NE(dso, nullptr);
    EXPECT_TRUE(dso->deleted);
    EXPECT_FALSE(dso->symbolized);
    EXPECT_EQ(name_at(profile, pid, t.in("leaf")), "");
}

// perf record's build-id cache hard-links every binary it saw, which moves the file's
// ctime: the file a live process still maps at the path is trusted by its build-id.
TEST(Symbolize, FileOnlyRelinkedAfterRecordingStartIsTrustedWhileMapped) {
    if (geteuid() != 0) GTEST_SKIP() << "/proc/PID/map_files needs root (CAP_SYS_ADMIN)";
    RunningTarget t(RunningTarget::Copy);
    const uint32_t pid = t.pid;
    Profile profile = t.mapped();
    profile.meta.start_time_ns = realtime_ns();
    usleep(50'000);
    fs::create_hard_link(t.path, t.dir.path() + "/elf");
    add_user_stack(profile, pid, {t.in("leaf")});
    symbolize_profile(profile);
    const Dso* dso = dso_named(profile, t.path);
    ASSERT_NE(dso, nullptr);
    EXPECT_FALSE(dso->deleted);
    EXPECT_TRUE(dso->symbolized);
    EXPECT_EQ(name_at(profile, pid, t.in("leaf")), "leaf");
}

TEST(Symbolize, FileChangedAfterRecordingStartIsNotTrusted) {
    RunningTarget t(RunningTarget::Copy);
    const uint32_t pid = t.pid;
    Profile profile = t.mapped();
    t.child.stop();
    // The recording began before the file at the path was replaced (renamed over);
    // file times tick coarsely, hence the pause.
    profile.meta.start_time_ns = realtime_ns();
    usleep(50'000);
    fs::copy_file(KPROF_SYMBOLS_TARGET_NOPIE, t.path + ".new");
    fs::rename(t.path + ".new", t.path);
    add_user_stack(profile, pid, {t.in("leaf")});
    symbolize_profile(profile);
    const Dso* dso = dso_named(profile, t.path);
    ASSERT_NE(dso, nullptr);
    EXPECT_TRUE(dso->deleted);
    EXPECT_FALSE(dso->symbolized);
    EXPECT_EQ(profile.unresolved_frames, 1u);
}

}  // namespace
}  // namespace kprof

namespace kprof {
namespace {

TEST(Symbolize, DwarfLinesAndInlinedFrames) {
    RunningTarget t;
    const uint32_t pid = t.pid;
    // leaf's return address lies in middle, inside the inlined copy of inlined_step.
    const uint64_t ret = t.child.address("leaf_return");
    const std::vector<uint64_t> ips = {t.in("leaf"), ret, t.in("main")};

    Profile profile = t.mapped();
    add_user_stack(profile, pid, ips);
    symbolize_profile(profile);
    const std::vector<Location> chain = frames_at(profile, pid, ret);
    ASSERT_EQ(chain.size(), 2u);
    EXPECT_TRUE(chain[0].inlined);
    EXPECT_EQ(chain[0].function, "inlined_step");
    EXPECT_TRUE(chain[0].file.ends_with("symbols_target.c")) << chain[0].file;
    EXPECT_EQ(chain[0].line, fixture_line("KPROF-INLINE-CALL"));
    EXPECT_FALSE(chain[1].inlined);
    EXPECT_EQ(chain[1].function, "middle");
    EXPECT_EQ(chain[1].line, fixture_line("KPROF-MIDDLE-CALL"));
    const std::vector<Location> leaf = frames_at(profile, pid, ips[0]);
    ASSERT_EQ(leaf.size(), 1u);
    EXPECT_EQ(leaf[0].function, "leaf");
    EXPECT_TRUE(leaf[0].file.ends_with("symbols_target.c")) << leaf[0].file;

    // --no-inline: the containing function alone, at the line of the inlined call.
    ResolveOptions no_inline;
    no_inline.inline_frames = false;
    const std::vector<Location> flat = frames_at(profile, pid, ret, no_inline);
    ASSERT_EQ(flat.size(), 1u);
    EXPECT_EQ(flat[0].function, "middle");
    EXPECT_EQ(flat[0].line, fixture_line("KPROF-MIDDLE-CALL"));

    // Without DWARF: names only.
    Profile plain = t.mapped();
    add_user_stack(plain, pid, ips);
    SymbolizeOptions no_dwarf;
    no_dwarf.debug_info = false;
    symbolize_profile(plain, no_dwarf);
    const std::vector<Location> names = frames_at(plain, pid, ret);
    ASSERT_EQ(names.size(), 1u);
    EXPECT_EQ(names[0].function, "middle");
    EXPECT_EQ(names[0].line, 0u);
}

TEST(Symbolize, SymfsResolvesDsosRecordedWithoutSymbols) {
    // A trace whose dso was not symbolized (the binary was absent at record time) gets
    // its names from a t.path of the binary in a --symfs directory.
    RunningTarget t(RunningTarget::Copy);
    const uint32_t pid = t.pid;
    Profile profile = t.mapped();
    const uint64_t leaf = t.in("leaf");
    add_user_stack(profile, pid, {leaf});
    t.child.stop();
    fs::rename(t.path, t.dir.path() + "/moved");
    symbolize_profile(profile);
    EXPECT_EQ(name_at(profile, pid, leaf), "");
    EXPECT_EQ(frames_at(profile, pid, leaf).back().function, "[unknown]");
    ASSERT_NE(dso_named(profile, t.path), nullptr);
    EXPECT_TRUE(dso_named(profile, t.path)->deleted) << "gone at symbolization time";

    TempDir symfs;
    fs::copy_file(t.dir.path() + "/moved", symfs.path() + "/target");  // flat
    ResolveOptions options;
    options.symfs = symfs.path();
    const std::vector<Location> frames = frames_at(profile, pid, leaf, options);
    EXPECT_EQ(frames.back().function, "leaf");
    EXPECT_TRUE(frames.back().resolved);
    EXPECT_EQ(name_at(profile, pid, leaf), "") << "the profile itself is left as it was";
}

}  // namespace
}  // namespace kprof

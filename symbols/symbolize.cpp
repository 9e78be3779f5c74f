#include "symbols/symbolize.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <unordered_map>

#include "symbols/elf_symbols.hpp"

namespace kprof {
namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";

// The address space the analysis-time resolver looks symbols up in: the file offset of
// ip in its mapping. DsoSymbol::start is stored in this space (see symbols/resolve.hpp).
uint64_t relative_address(const Mapping& m, uint64_t ip) {
    return ip - m.start + m.pgoff;
}

bool is_vdso(const Dso& dso) {
    return dso.path == "[vdso]";
}

// Paths that name no file: anonymous memory, the heap, stacks, JIT code.
bool names_no_file(const std::string& path) {
    return path.empty() || path[0] != '/' || path.starts_with("/memfd:") ||
           path.starts_with("//anon");
}

// Mappings sorted by (pid, generation, start), searched per unique (pid, generation, ip).
class MappingIndex {
  public:
    explicit MappingIndex(const std::vector<Mapping>& mappings) : mappings_(mappings) {
        order_.resize(mappings.size());
        for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<uint32_t>(i);
        std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
            const Mapping& x = mappings_[a];
            const Mapping& y = mappings_[b];
            return std::tie(x.pid, x.generation, x.start, x.time_ns, a) <
                   std::tie(y.pid, y.generation, y.start, y.time_ns, b);
        });
    }

    // Of the mappings containing ip, the one mapped last, then the later entry (stacks
    // carry no time, and a later mapping at the same place replaced the earlier one): the
    // rule of FrameResolver (symbols/resolve.hpp).
    const Mapping* find(uint32_t pid, uint32_t generation, uint64_t ip) const {
        auto key = [&](uint32_t i) {
            const Mapping& m = mappings_[i];
            return std::tie(m.pid, m.generation, m.start);
        };
        const auto probe = std::make_tuple(pid, generation, ip);
        const auto group = std::lower_bound(order_.begin(), order_.end(),
                                            std::make_tuple(pid, generation, uint64_t{0}),
                                            [&](uint32_t i, const auto& k) { return key(i) < k; });
        auto it = std::upper_bound(group, order_.end(), probe,
                                   [&](const auto& k, uint32_t i) { return k < key(i); });
        const Mapping* best = nullptr;
        while (it != group) {
            const Mapping& m = mappings_[*--it];
            if (ip - m.start < m.len &&
                (best == nullptr || std::pair(m.time_ns, &m) > std::pair(best->time_ns, best)))
                best = &m;
        }
        return best;
    }

  private:
    const std::vector<Mapping>& mappings_;
    std::vector<uint32_t> order_;
};

struct AddressSpaceKey {
    uint32_t pid, generation;
    uint64_t ip;
    bool operator==(const AddressSpaceKey&) const = default;
};
struct AddressSpaceKeyHash {
    size_t operator()(const AddressSpaceKey& k) const {
        uint64_t h = (uint64_t{k.pid} << 32 | k.generation) * 0x9e3779b97f4a7c15ULL;
        return static_cast<size_t>(h ^ (k.ip + (h << 6) + (h >> 2)));
    }
};

// The user addresses of every unique stack, through the mappings of its address space.
UserAddresses gather_addresses(const Profile& profile) {
    UserAddresses out;
    out.by_dso.resize(profile.dsos.size());
    MappingIndex index(profile.mappings);
    // Where each unique (pid, generation, ip) landed: its dso's entry, or null.
    std::unordered_map<AddressSpaceKey, UserAddress*, AddressSpaceKeyHash> placed;
    const StackTable& stacks = profile.stacks;
    for (StackId id = 0; id < stacks.size(); ++id) {
        const StackView s = stacks.get(id);
        const auto user = s.user_ips();
        for (size_t i = 0; i < user.size(); ++i) {
            const uint64_t ip = user[i];
            auto [it, fresh] = placed.try_emplace({s.pid, s.generation, ip}, nullptr);
            if (fresh) {
                const Mapping* m =
                    ip < kKernelAddressStart ? index.find(s.pid, s.generation, ip) : nullptr;
                if (m == nullptr || m->dso >= profile.dsos.size()) {
                    ++out.unmapped;
                } else {
                    const uint64_t offset =
                        is_vdso(profile.dsos[m->dso]) ? ip - m->start : ip - m->start + m->pgoff;
                    UserAddress& a = out.by_dso[m->dso][offset];
                    a.relative = relative_address(*m, ip);
                    it->second = &a;  // unordered_map elements stay where they are
                }
            }
            if (it->second == nullptr) {
                ++out.unmapped_frames;
                continue;
            }
            ++it->second->frames;
            if (i > 0) it->second->caller = true;
        }
    }
    return out;
}

std::string kernel_release() {
    utsname u{};
    return uname(&u) == 0 ? u.release : "";
}

int64_t to_ns(const timespec& t) {
    return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

class Symbolizer {
  public:
    Symbolizer(Profile& profile, const SymbolizeOptions& options, SymbolizeStats& stats)
        : profile_(profile), options_(options), stats_(stats) {}

    void run(UserAddresses& addresses) {
        addresses.by_dso.resize(profile_.dsos.size());
        // A few mappings of each dso: a deleted binary is still readable through a live
        // process's mapping of it, and the latest mappings are the likeliest to be alive.
        std::vector<std::vector<const Mapping*>> dso_mappings(profile_.dsos.size());
        for (size_t i = profile_.mappings.size(); i-- > 0;) {
            const Mapping& m = profile_.mappings[i];
            if (m.dso < dso_mappings.size() && !addresses.by_dso[m.dso].empty() &&
                dso_mappings[m.dso].size() < 64)
                dso_mappings[m.dso].push_back(&m);
        }

        for (DsoId d = 0; d < profile_.dsos.size(); ++d) {
            auto& wanted = addresses.by_dso[d];
            if (wanted.empty()) continue;
            Dso& dso = profile_.dsos[d];
            if (options_.only_unsymbolized && dso.symbolized) {
                for (auto& [off, w] : wanted)
                    w.resolved = std::binary_search(
                        dso.symbols.begin(), dso.symbols.end(), w.relative,
                        [](const auto& a, const auto& b) { return below(a, b); });
                continue;
            }
            symbolize_dso(dso, wanted, dso_mappings[d]);
        }

        // Frames, each unique stack once; unmapped frames count as unresolved too.
        uint64_t frames = addresses.unmapped_frames, unresolved = addresses.unmapped_frames;
        for (const auto& w : addresses.by_dso) {
            for (const auto& [off, a] : w) {
                frames += a.frames;
                if (!a.resolved) unresolved += a.frames;
                (a.resolved ? stats_.resolved : stats_.unresolved)++;
            }
        }
        stats_.frames = frames;
        profile_.unresolved_frames = unresolved;
        stats_.unmapped = addresses.unmapped;
        stats_.unresolved += stats_.unmapped;
        stats_.addresses = stats_.resolved + stats_.unresolved;
    }

  private:
    // Orders relative addresses against the (non-overlapping, sorted) symbols they fall in.
    static bool below(const DsoSymbol& s, uint64_t r) {
        return s.start + std::max<uint64_t>(s.size, 1) <= r;
    }
    static bool below(uint64_t r, const DsoSymbol& s) { return r < s.start; }

    void symbolize_dso(Dso& dso, std::unordered_map<uint64_t, UserAddress>& wanted,
                       const std::vector<const Mapping*>& mappings) {
        std::shared_ptr<ElfImage> image = open_image(dso, mappings);
        if (image == nullptr) return;

        std::map<uint64_t, DsoSymbol> hit;  // by relative start
        auto add = [&](const ElfImage::Symbol& sym, uint64_t vaddr, uint64_t relative) {
            // The symbol lies in one segment, so ip's shift between the ELF's addresses
            // and the relative space holds for the whole symbol.
            const uint64_t start = sym.start + (relative - vaddr);
            DsoSymbol& s = hit[start];
            if (s.name.empty()) {
                s.start = start;
                s.size = sym.size;
                s.name = sym.name;
            }
            // A sizeless symbol covers at least every address seen in it.
            if (sym.size == 0) s.size = std::max(s.size, relative - start + 1);
        };
        for (auto& [offset, w] : wanted) {
            const std::optional<uint64_t> vaddr = image->vaddr_of_offset(offset);
            if (!vaddr) continue;
            const std::optional<ElfImage::Symbol> sym = image->lookup(*vaddr);
            if (!sym) continue;
            w.resolved = true;
            add(*sym, *vaddr, w.relative);
            // A return address just past a call that ends its function (a noreturn call)
            // is the next function's first byte; resolvers that look up ip-1 for callers
            // need the function holding the call too.
            if (w.caller && sym->start == *vaddr && *vaddr > 0 && w.relative > 0) {
                if (const auto before = image->lookup(*vaddr - 1))
                    add(*before, *vaddr - 1, w.relative - 1);
            }
        }
        dso.sources.clear();
        if (options_.debug_info && image->has_debug_info()) add_sources(dso, *image, wanted, hit);
        dso.symbols.clear();
        dso.symbols.reserve(hit.size());
        for (auto& [start, s] : hit) dso.symbols.push_back(std::move(s));
        dso.symbolized = true;
    }

    // file:line and inline chains of the resolved addresses, and each hit symbol's
    // declaration (file, first line), which is what survives where a reader ignores the
    // per-address table. A return address's source is that of the call before it, so
    // callers are looked up one byte back.
    static void add_sources(Dso& dso, const ElfImage& image,
                            const std::unordered_map<uint64_t, UserAddress>& wanted,
                            std::map<uint64_t, DsoSymbol>& hit) {
        for (const auto& [offset, w] : wanted) {
            if (!w.resolved) continue;
            const std::optional<uint64_t> vaddr = image.vaddr_of_offset(offset);
            if (!vaddr || (w.caller && *vaddr == 0)) continue;
            SourceFrame decl;
            std::vector<SourceFrame> frames = image.source(w.caller ? *vaddr - 1 : *vaddr, &decl);
            if (frames.empty()) continue;
            if (auto sym = hit.upper_bound(w.relative); sym != hit.begin()) {
                DsoSymbol& s = std::prev(sym)->second;
                if (s.file.empty() && w.relative - s.start < s.size) {
                    s.file = decl.file;
                    s.line = decl.line;
                }
            }
            DsoAddressSource& a = dso.sources.emplace_back();
            a.addr = w.relative;
            a.frames.reserve(frames.size());
            for (SourceFrame& f : frames)
                a.frames.push_back({std::move(f.function), std::move(f.file), f.line});
        }
        std::sort(dso.sources.begin(), dso.sources.end(),
                  [](const auto& a, const auto& b) { return a.addr < b.addr; });
    }

    // The ELF for dso, opened once per path and shared by build-id; nullptr (with the dso
    // marked) when its file is missing, deleted or replaced.
    std::shared_ptr<ElfImage> open_image(Dso& dso, const std::vector<const Mapping*>& mappings) {
        if (is_vdso(dso)) return open_vdso(dso);
        if (names_no_file(dso.path)) return nullptr;

        std::string path = dso.path;
        const bool marked_deleted = path.ends_with(kDeletedSuffix);
        if (marked_deleted) path.resize(path.size() - kDeletedSuffix.size());

        // Through a live process's mapping the file is exactly the one mapped, even
        // when it was deleted or replaced since.
        if (marked_deleted && options_.symfs.empty()) {
            if (std::unique_ptr<ElfImage> image = open_map_files(dso, mappings)) {
                if (!dso.build_id.empty() && dso.build_id != image->build_id()) {
                    mark_deleted(dso);
                    return nullptr;
                }
                dso.deleted = true;
                dso.build_id = image->build_id();
                return share(std::move(image));
            }
        }

        std::string file = options_.symfs.empty() ? path : options_.symfs + path;
        struct stat st {};
        if (!options_.symfs.empty() && ::stat(file.c_str(), &st) != 0) {
            // Binaries copied flat into the --symfs directory are found by their name.
            file = options_.symfs + path.substr(path.rfind('/'));
        }
        if (::stat(file.c_str(), &st) != 0) {
            if (options_.symfs.empty()) mark_deleted(dso);  // gone since it was mapped
            return nullptr;
        }
        std::unique_ptr<ElfImage> image = open_elf(file);
        if (image == nullptr) return nullptr;
        if (!dso.build_id.empty()) {
            // The recorded build-id decides: the file at the path now is either the one
            // the process mapped or not.
            if (dso.build_id != image->build_id()) {
                mark_deleted(dso);
                return nullptr;
            }
        } else {
            // Without one, a path the kernel called deleted, or a file changed (renamed
            // over, rewritten) after the recording began, may hold other code: leave its
            // frames unresolved rather than name them wrongly.
            // A --symfs tree is the user's word for which files these are.
            const bool changed_since =
                profile_.meta.start_time_ns != 0 &&
                to_ns(st.st_ctim) > static_cast<int64_t>(profile_.meta.start_time_ns);
            if (options_.symfs.empty() && (marked_deleted || changed_since)) {
                // Only the inode changed, maybe (perf's build-id cache hard-links every binary
                // it saw into ~/.debug, which moves ctime): a live process mapping the file
                // at this path shows, through /proc/PID/map_files, whether it is this one.
                if (!marked_deleted) {
                    std::unique_ptr<ElfImage> mapped = open_map_files(dso, mappings);
                    if (mapped != nullptr && !image->build_id().empty() &&
                        mapped->build_id() == image->build_id()) {
                        dso.build_id = image->build_id();
                        return share(std::move(image));
                    }
                }
                mark_deleted(dso);
                return nullptr;
            }
            dso.build_id = image->build_id();
        }
        return share(std::move(image));
    }

    std::shared_ptr<ElfImage> open_vdso(Dso& dso) {
        // The running kernel's vDSO is the recorded one only on the recording's kernel.
        if (!profile_.meta.kernel_release.empty() &&
            profile_.meta.kernel_release != kernel_release())
            return nullptr;
        if (vdso_ == nullptr) {
            std::unique_ptr<ElfImage> image = ElfImage::open_vdso(options_.debug_info);
            if (image == nullptr) return nullptr;
            ++stats_.binaries;
            vdso_ = std::move(image);
        }
        if (!dso.build_id.empty() && dso.build_id != vdso_->build_id()) return nullptr;
        dso.build_id = vdso_->build_id();
        return vdso_;
    }

    // A deleted file is still reachable through a live process's mapping of it.
    std::unique_ptr<ElfImage> open_map_files(const Dso& dso,
                                             const std::vector<const Mapping*>& mappings) {
        for (const Mapping* m : mappings) {
            char link[96];
            std::snprintf(link, sizeof link, "/proc/%u/map_files/%llx-%llx", m->pid,
                          static_cast<unsigned long long>(m->start),
                          static_cast<unsigned long long>(m->start + m->len));
            char target[4096];
            const ssize_t n = ::readlink(link, target, sizeof target - 1);
            if (n <= 0 || std::string_view(target, static_cast<size_t>(n)) != dso.path) continue;
            const int fd = ::open(link, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            auto image = ElfImage::open_fd(fd, dso.path, options_.debug_info);
            if (image == nullptr) continue;
            ++stats_.binaries;
            return image;
        }
        return nullptr;
    }

    std::unique_ptr<ElfImage> open_elf(const std::string& file) {
        auto image = ElfImage::open_file(file, options_.debug_info);
        if (image != nullptr) ++stats_.binaries;
        return image;
    }

    // The image of the same build-id opened lately (the same file under another path, as
    // /lib and /usr/lib on a merged-/usr system), with its symbol table already built.
    // Only a few stay open: a system-wide recording hits thousands of binaries, and each
    // open image holds its symbol table and whatever DWARF was read.
    std::shared_ptr<ElfImage> share(std::unique_ptr<ElfImage> image) {
        if (image->build_id().empty()) return image;
        auto it = std::find_if(recent_.begin(), recent_.end(),
                               [&](const auto& r) { return r->build_id() == image->build_id(); });
        std::shared_ptr<ElfImage> found = it != recent_.end() ? *it : std::move(image);
        if (it != recent_.end()) recent_.erase(it);
        recent_.insert(recent_.begin(), found);
        if (recent_.size() > kRecentImages) recent_.pop_back();
        return found;
    }

    void mark_deleted(Dso& dso) {
        dso.deleted = true;
        dso.symbolized = false;
        dso.symbols.clear();
        dso.sources.clear();
        ++stats_.deleted;
    }

    Profile& profile_;
    const SymbolizeOptions& options_;
    SymbolizeStats& stats_;
    std::shared_ptr<ElfImage> vdso_;
    static constexpr size_t kRecentImages = 4;
    std::vector<std::shared_ptr<ElfImage>> recent_;  // most recently used first
};

}  // namespace

SymbolizeStats symbolize_profile(Profile& profile, const SymbolizeOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    SymbolizeStats stats;
    UserAddresses addresses = gather_addresses(profile);
    Symbolizer(profile, options, stats).run(addresses);
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return stats;
}

SymbolizeStats symbolize_addresses(Profile& profile, UserAddresses& addresses,
                                   const SymbolizeOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    SymbolizeStats stats;
    Symbolizer(profile, options, stats).run(addresses);
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return stats;
}

std::vector<Dso> symbolize_dsos_under(const Profile& profile, const std::string& symfs,
                                      bool debug_info) {
    Profile copy;
    copy.meta = profile.meta;
    copy.dsos = profile.dsos;
    copy.mappings = profile.mappings;
    copy.stacks = profile.stacks;
    SymbolizeOptions options;
    options.debug_info = debug_info;
    options.symfs = symfs;
    options.only_unsymbolized = true;
    symbolize_profile(copy, options);
    return std::move(copy.dsos);
}

}  // namespace kprof

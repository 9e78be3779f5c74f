// The sample sink: each round, the records of every CPU's ring are copied out, put in time
// order and fed to the ProfileBuilder; the new stacks and samples then go to the trace
// file, synced at least once a second. A write that fails stops the target and says
// where the part already written is.
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "collector/recorder_internal.hpp"

namespace kprof::collector::detail {
namespace {

bool looks_like_no_space(const std::string& message, const std::string& path) {
    if (message.find(std::strerror(ENOSPC)) != std::string::npos ||
        message.find("ENOSPC") != std::string::npos ||
        message.find("no space") != std::string::npos)
        return true;
    std::string dir = path;
    const size_t slash = dir.rfind('/');
    dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
    struct statvfs st {};
    return ::statvfs(dir.c_str(), &st) == 0 && st.f_bavail == 0;
}

}  // namespace

void Recording::drain(ProfileBuilder& builder) {
    arena_.clear();
    pending_.clear();
    for (RingBuffer& ring : events_->rings()) {
        ring.read([&](std::span<const uint8_t> rec) {
            pending_.push_back(Pending{0, arena_.size(), rec.size(), ring.cpu()});
            arena_.insert(arena_.end(), rec.begin(), rec.end());
        });
    }
    if (pending_.empty()) return;
    for (Pending& p : pending_)
        p.time = record_time(decode_record({arena_.data() + p.offset, p.size}, layout_));
    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const Pending& a, const Pending& b) { return a.time < b.time; });
    for (const Pending& p : pending_)
        builder.add(decode_record({arena_.data() + p.offset, p.size}, layout_), p.cpu);
    flush(builder);
}

void Recording::flush(ProfileBuilder& builder) {
    if (profile_.samples.empty()) return;
    try {
        writer_->add_stacks(profile_.stacks);
        writer_->add_new_stacks(builder.fresh_stacks());
        builder.clear_fresh_stacks();
        writer_->add_samples(profile_.samples);
        // At most a second of samples sits in memory only: a killed recording loses no
        // more than that (kprof info --recover reads the rest).
        const uint64_t now = clock_ns(CLOCK_MONOTONIC);
        if (now - last_sync_ns_ >= 1000000000ULL) {
            writer_->sync();
            last_sync_ns_ = now;
        }
    } catch (const Error& e) {
        fail_writing(e);
    }
    profile_.samples.clear();
}

void Recording::fail_writing(const Error& e) {
    // Stop the target first: a recorder that cannot write must not leave it running
    // unobserved (nor hang waiting for it).
    signal_children(SIGTERM);
    const uint64_t give_up = clock_ns(CLOCK_MONOTONIC) + 2'000'000'000ULL;
    while (!children_done() && clock_ns(CLOCK_MONOTONIC) < give_up) ::usleep(20'000);
    signal_children(SIGKILL);
    for (ChildProcess& c : children_) c.reap(true);
    const std::string tmp = writer_ ? writer_->temp_path() : options_.output + ".tmp";
    std::string msg = e.what();
    if (looks_like_no_space(msg, options_.output) && msg.find("no space") == std::string::npos)
        msg = "no space left on device: " + msg;
    else if (msg.find("no space") == std::string::npos)
        msg = "writing the trace failed: " + msg;
    if (msg.find("--recover") == std::string::npos)
        msg += "; the part already written is in " + tmp + " ('kprof info --recover " + tmp + "')";
    throw Error(msg);
}

}  // namespace kprof::collector::detail

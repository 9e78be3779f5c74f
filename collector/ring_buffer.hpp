// One per-CPU perf ring buffer: the metadata page plus a power-of-two data area. The
// kernel advances data_head; we read records up to it and hand the space back by
// advancing data_tail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "collector/perf_system.hpp"
#include "collector/records.hpp"

namespace kprof::collector {

class RingBuffer {
  public:
    // Maps 1 + data_pages pages of `fd` (data_pages a power of two). Throws Error with
    // advice (smaller -m, perf_event_mlock_kb) when the kernel refuses.
    RingBuffer(PerfSystem& sys, int fd, uint32_t cpu, size_t data_pages, size_t page_size);
    ~RingBuffer();
    RingBuffer(RingBuffer&&) noexcept;
    RingBuffer& operator=(RingBuffer&&) = delete;
    RingBuffer(const RingBuffer&) = delete;
    RingBuffer& operator=(const RingBuffer&) = delete;

    int fd() const { return fd_; }
    uint32_t cpu() const { return cpu_; }
    size_t data_size() const { return data_size_; }

    // Calls fn(span) for every complete record available now, then releases the space.
    // Returns the number of bytes consumed.
    template <typename Fn>
    uint64_t read(Fn&& fn) {
        // Acquire pairs with the kernel's store of data_head after it wrote the records:
        // the record bytes we read below are at least as new as the head we saw.
        const uint64_t head = __atomic_load_n(&meta()->data_head, __ATOMIC_ACQUIRE);
        const uint64_t tail = meta()->data_tail;
        if (head == tail) return 0;
        const uint64_t new_tail = walk_ring(data(), tail, head, scratch_, fn, &corrupt_bytes_);
        // Release: our reads of the records complete before the kernel may overwrite them.
        __atomic_store_n(&meta()->data_tail, new_tail, __ATOMIC_RELEASE);
        return new_tail - tail;
    }
    uint64_t corrupt_bytes() const { return corrupt_bytes_; }

  private:
    perf_event_mmap_page* meta() const { return static_cast<perf_event_mmap_page*>(base_); }
    std::span<const uint8_t> data() const {
        return {static_cast<const uint8_t*>(base_) + page_size_, data_size_};
    }

    PerfSystem* sys_;
    int fd_;
    uint32_t cpu_;
    size_t page_size_;
    size_t data_size_;
    void* base_ = nullptr;
    std::vector<uint8_t> scratch_;
    uint64_t corrupt_bytes_ = 0;
};

}  // namespace kprof::collector

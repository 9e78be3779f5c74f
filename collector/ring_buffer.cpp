#include "collector/ring_buffer.hpp"

#include "collector/perf_errors.hpp"
#include "trace/error.hpp"

namespace kprof::collector {

RingBuffer::RingBuffer(PerfSystem& sys, int fd, uint32_t cpu, size_t data_pages, size_t page_size)
    : sys_(&sys), fd_(fd), cpu_(cpu), page_size_(page_size), data_size_(data_pages * page_size) {
    int err = 0;
    base_ = sys.map(fd, page_size + data_size_, &err);
    if (!base_) throw Error(mmap_failure_message(sys, err, data_pages, page_size, cpu));
}

RingBuffer::~RingBuffer() {
    if (base_) sys_->unmap(base_, page_size_ + data_size_);
}

RingBuffer::RingBuffer(RingBuffer&& o) noexcept
    : sys_(o.sys_),
      fd_(o.fd_),
      cpu_(o.cpu_),
      page_size_(o.page_size_),
      data_size_(o.data_size_),
      base_(o.base_),
      scratch_(std::move(o.scratch_)),
      corrupt_bytes_(o.corrupt_bytes_) {
    o.base_ = nullptr;
}

}  // namespace kprof::collector

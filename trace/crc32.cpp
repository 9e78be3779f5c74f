#include "trace/crc32.hpp"

#include <zlib.h>

#include <algorithm>

namespace kprof {

// zlib's, which computes several bytes per step: a trace load checks every compressed
// byte, and a table-per-byte loop was a twentieth of `kprof tui`'s first screen.
uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc) {
    uLong c = crc;
    const uint8_t* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {  // zlib takes a 32-bit length
        const auto n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
        c = ::crc32(c, p, n);
        p += n;
        left -= n;
    }
    return static_cast<uint32_t>(c);
}

}  // namespace kprof

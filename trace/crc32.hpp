#pragma once

#include <cstdint>
#include <span>

namespace kprof {

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32): chunk checksums of the trace format.
// `crc` continues a previous result (0 to start).
uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace kprof

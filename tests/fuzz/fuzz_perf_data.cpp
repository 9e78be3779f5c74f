// libFuzzer target: the native perf.data importer (file and pipe mode, zstd records,
// either byte order). Kernel symbols come from a small fixture instead of the live
// /proc/kallsyms and user frames are neither symbolized nor unwound (both read local
// binaries), so a run depends on the input only.
#include <algorithm>
#include <cstdint>
#include <span>

#include "import/imports.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace kprof;
    const std::span<const uint8_t> bytes(data, size);
    detect_format(bytes.first(std::min<size_t>(size, 4096)));
    const ImportOptions options{
        .kallsyms_path = KPROF_FUZZ_KALLSYMS, .symbolize_user = false, .unwind_user = false};
    try {
        fuzz::check_profile(import_perf_data_bytes(bytes, options));
    } catch (const Error&) {
    }
    return 0;
}

// libFuzzer target: the `perf script` text importer.
#include <cstdint>
#include <string_view>

#include "import/imports.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace kprof;
    detect_format({data, size});
    try {
        fuzz::check_profile(
            import_perf_script_text(std::string_view(reinterpret_cast<const char*>(data), size)));
    } catch (const Error&) {
    }
    return 0;
}

// libFuzzer target: the folded-stacks importer ("comm;a;b;c 42").
#include <cstdint>
#include <string_view>

#include "import/imports.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace kprof;
    try {
        fuzz::check_profile(
            import_folded_text(std::string_view(reinterpret_cast<const char*>(data), size)));
    } catch (const Error&) {
    }
    return 0;
}

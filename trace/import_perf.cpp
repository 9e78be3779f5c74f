#include "trace/error.hpp"
#include "trace/imports.hpp"

namespace kprof {

// Placeholder until the perf.data reader lands.
Profile import_perf_data(const std::string&, const ImportOptions&) {
    throw Error("perf.data import is not implemented yet");
}
Profile import_perf_data_bytes(std::span<const uint8_t>, const ImportOptions&) {
    throw Error("perf.data import is not implemented yet");
}
Profile import_perf_script(const std::string&, const ImportOptions&) {
    throw Error("perf script import is not implemented yet");
}
Profile import_perf_script_text(std::string_view) {
    throw Error("perf script import is not implemented yet");
}

}  // namespace kprof

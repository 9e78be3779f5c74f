#include "trace/error.hpp"
#include "trace/imports.hpp"

namespace kprof {

// Placeholder until the folded importer lands.
Profile import_folded(const std::string&) { throw Error("folded import is not implemented yet"); }
Profile import_folded_text(std::string_view) {
    throw Error("folded import is not implemented yet");
}

}  // namespace kprof

// Text that came from outside (process names, symbol names, file paths) is shown only
// through escape_text: comm is settable by any user, and a raw escape sequence in it would
// be interpreted by the terminal that displays a report.
#pragma once

#include <string>
#include <string_view>

namespace kprof {

// Printable ASCII and valid UTF-8 pass through. Control characters (C0, DEL, the C1 range
// U+0080..U+009F, which some terminals take as CSI), bidirectional overrides and bytes of
// invalid UTF-8 become "\xNN" (bytes) or "\u{NNNN}" (code points); a backslash becomes
// "\\" so that escaped output is unambiguous.
std::string escape_text(std::string_view text);

// True when escape_text would return `text` unchanged (lets callers skip the copy).
bool text_is_safe(std::string_view text);

}  // namespace kprof

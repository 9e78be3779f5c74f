// Keeps every layer library non-empty while its sources are being written.
namespace kprof {}

// Replays a corpus through a fuzz target without libFuzzer, so the normal (gcc) and
// sanitizer builds run every committed input in ctest:
//   kprof_fuzz_replay_<name> DIR|FILE...
// Exits non-zero when an argument is missing or holds no input; a crash of the target
// (abort, sanitizer report, uncaught exception) fails the run with the input's name printed.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<uint8_t> slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
        return 2;
    }
    size_t inputs = 0;
    for (int a = 1; a < argc; ++a) {
        std::vector<fs::path> files;
        const fs::path arg = argv[a];
        if (fs::is_directory(arg)) {
            for (const auto& entry : fs::directory_iterator(arg))
                if (entry.is_regular_file()) files.push_back(entry.path());
            std::sort(files.begin(), files.end());  // same order every run
        } else if (fs::is_regular_file(arg)) {
            files.push_back(arg);
        } else {
            std::fprintf(stderr, "%s: no such corpus file or directory\n", arg.c_str());
            return 2;
        }
        if (files.empty()) {
            std::fprintf(stderr, "%s: empty corpus; run tests/fuzz/make_corpus.sh\n", arg.c_str());
            return 2;
        }
        for (const fs::path& f : files) {
            // Named before running, so a crash report says which input caused it.
            std::fprintf(stderr, "replay %s\n", f.c_str());
            const std::vector<uint8_t> bytes = slurp(f);
            // A copy of exactly the input's size, as libFuzzer passes it, so ASan sees
            // reads one byte past the end.
            const auto copy = std::make_unique<uint8_t[]>(bytes.size() + (bytes.empty() ? 1 : 0));
            std::copy(bytes.begin(), bytes.end(), copy.get());
            LLVMFuzzerTestOneInput(copy.get(), bytes.size());
            ++inputs;
        }
    }
    std::printf("replayed %zu inputs without a crash\n", inputs);
    return 0;
}

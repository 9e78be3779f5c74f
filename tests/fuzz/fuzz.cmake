# Fuzz targets (tests/fuzz/README.md). Included from the root CMakeLists.txt.
# Always: one replay program per target, run over its committed corpus by ctest, so the
# normal and the sanitizer builds check every input that ever crashed a parser.
# With -DKPROF_FUZZ=ON (clang): the libFuzzer binaries kprof_fuzz_<name> that
# scripts/fuzz.sh runs, and coverage instrumentation of the parser libraries.
set(KPROF_FUZZ_DIR ${PROJECT_SOURCE_DIR}/tests/fuzz)
set(KPROF_FUZZ_TARGETS trace perf_data perf_script folded kallsyms ring)

if(KPROF_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "KPROF_FUZZ needs clang (libFuzzer): CC=clang CXX=clang++ cmake ...")
  endif()
  foreach(lib kprof_trace kprof_symbols kprof_import kprof_collector)
    target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link)
  endforeach()
endif()

function(kprof_fuzz_target target name)
  target_link_libraries(${target} PRIVATE kprof_collector kprof_import)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${target} PRIVATE
    KPROF_FUZZ_KALLSYMS="${KPROF_FUZZ_DIR}/kallsyms.fixture")
  # Designated initializers leave the other members at their defaults on purpose.
  target_compile_options(${target} PRIVATE -Wno-missing-field-initializers)
endfunction()

foreach(name ${KPROF_FUZZ_TARGETS})
  set(replay kprof_fuzz_replay_${name})
  add_executable(${replay} ${KPROF_FUZZ_DIR}/fuzz_${name}.cpp ${KPROF_FUZZ_DIR}/replay_main.cpp)
  kprof_fuzz_target(${replay} ${name})
  add_test(NAME fuzz_replay_${name} COMMAND ${replay} ${KPROF_FUZZ_DIR}/corpus/${name})
  set_tests_properties(fuzz_replay_${name} PROPERTIES TIMEOUT 300 LABELS fuzz)
  if(KPROF_FUZZ)
    add_executable(kprof_fuzz_${name} ${KPROF_FUZZ_DIR}/fuzz_${name}.cpp)
    kprof_fuzz_target(kprof_fuzz_${name} ${name})
    target_compile_options(kprof_fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(kprof_fuzz_${name} PRIVATE -fsanitize=fuzzer)
  endif()
endforeach()

# Writes the generated part of the seed corpus (tests/fuzz/make_corpus.sh runs it).
add_executable(kprof_fuzz_make_corpus ${KPROF_FUZZ_DIR}/make_corpus.cpp)
target_link_libraries(kprof_fuzz_make_corpus PRIVATE kprof_collector kprof_import)
target_include_directories(kprof_fuzz_make_corpus PRIVATE ${PROJECT_SOURCE_DIR}
                                                          ${PROJECT_SOURCE_DIR}/tests)
target_compile_options(kprof_fuzz_make_corpus PRIVATE -Wno-missing-field-initializers)

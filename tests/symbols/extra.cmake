# Test programs of the symbolizer tests (see symbols_target.c): the call-chain program as
# PIE and fixed-address, and a dlopen()ed library with a stripped copy (.dynsym only).
# Plain -O0 C with frame pointers and DWARF, never sanitized: their stacks and symbols
# are the fixtures.
set(symbols_flags -O0 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer
                  -fno-sanitize=all -fno-inline)
add_executable(kprof_symbols_target ${dir}/symbols_target.c)
target_compile_options(kprof_symbols_target PRIVATE ${symbols_flags} -fPIE)
target_link_options(kprof_symbols_target PRIVATE -fno-sanitize=all -pie)

add_executable(kprof_symbols_target_nopie ${dir}/symbols_target.c)
target_compile_options(kprof_symbols_target_nopie PRIVATE ${symbols_flags} -fno-pie)
target_link_options(kprof_symbols_target_nopie PRIVATE -fno-sanitize=all -no-pie)

add_library(kprof_symbols_lib MODULE ${dir}/symbols_lib.c)
target_compile_options(kprof_symbols_lib PRIVATE ${symbols_flags})
target_link_options(kprof_symbols_lib PRIVATE -fno-sanitize=all)
set(symbols_stripped_lib ${CMAKE_CURRENT_BINARY_DIR}/kprof_symbols_lib_stripped.so)
add_custom_command(TARGET kprof_symbols_lib POST_BUILD
  COMMAND strip --strip-all -o ${symbols_stripped_lib} $<TARGET_FILE:kprof_symbols_lib>
  VERBATIM)

add_dependencies(${target} kprof_symbols_target kprof_symbols_target_nopie kprof_symbols_lib)
target_link_libraries(${target} PRIVATE ${CMAKE_DL_LIBS})
target_compile_definitions(${target} PRIVATE
  KPROF_SYMBOLS_TARGET="$<TARGET_FILE:kprof_symbols_target>"
  KPROF_SYMBOLS_TARGET_NOPIE="$<TARGET_FILE:kprof_symbols_target_nopie>"
  KPROF_SYMBOLS_LIB="$<TARGET_FILE:kprof_symbols_lib>"
  KPROF_SYMBOLS_LIB_STRIPPED="${symbols_stripped_lib}")

# Test profiles are spelled with designated initializers that name only the fields a test
# cares about (STYLE.md); GCC would flag every member left to its default.
target_compile_options(${target} PRIVATE -Wno-missing-field-initializers)

# The DWARF unwinding tests' programs: built like distribution binaries (-O2, no frame
# pointers, no -g), so only .eh_frame leads from a frame to its caller.
set(unwind_flags -O2 -fomit-frame-pointer -g0 -fno-sanitize=all)
add_executable(kprof_unwind_target ${dir}/unwind_target.c)
target_compile_options(kprof_unwind_target PRIVATE ${unwind_flags})
target_link_options(kprof_unwind_target PRIVATE -fno-sanitize=all)
add_library(kprof_unwind_lib MODULE ${dir}/unwind_lib.c)
target_compile_options(kprof_unwind_lib PRIVATE ${unwind_flags})
target_link_options(kprof_unwind_lib PRIVATE -fno-sanitize=all)
add_dependencies(${target} kprof_unwind_target kprof_unwind_lib)
target_compile_definitions(${target} PRIVATE
  KPROF_UNWIND_TARGET="$<TARGET_FILE:kprof_unwind_target>"
  KPROF_UNWIND_LIB="$<TARGET_FILE:kprof_unwind_lib>")

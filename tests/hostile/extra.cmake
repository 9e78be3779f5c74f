# A program that names itself with an escape sequence, for the live recording test.
add_executable(kprof_hostile_evil_comm ${dir}/evil_comm.c)
add_dependencies(${target} kprof_hostile_evil_comm)
target_compile_definitions(${target} PRIVATE
  KPROF_HOSTILE_EVIL_COMM="$<TARGET_FILE:kprof_hostile_evil_comm>")
# Designated initializers leave the other members at their defaults on purpose.
target_compile_options(${target} PRIVATE -Wno-missing-field-initializers)

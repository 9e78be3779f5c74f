# The byte builders use designated initializers that leave the other fields at their
# defaults on purpose; GCC 12 warns about that.
target_compile_options(${target} PRIVATE -Wno-missing-field-initializers)

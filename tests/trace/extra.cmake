# Test profiles are spelled with designated initializers that name only the fields a test
# cares about (STYLE.md); GCC would flag every member left to its default.
target_compile_options(${target} PRIVATE -Wno-missing-field-initializers)

// Shared library of tests/symbols, loaded with dlopen at a random base to test load bias;
// a stripped copy (only .dynsym left) tests the .dynsym fallback, where the static function
// must stay unresolved instead of taking a neighbour's name.
__attribute__((noinline)) static int symlib_hidden(int x) {
    return x * 3 + 1;
}

__attribute__((noinline)) int symlib_leaf(int x) {
    return symlib_hidden(x) + 2;
}

__attribute__((noinline)) int symlib_caller(int x) {
    return symlib_leaf(x) * 2;
}

void* symlib_hidden_address(void) {
    return (void*)&symlib_hidden;
}

// A small open-addressing hash map (linear probing, power-of-two capacity, no erase) for
// the analyzer's hot lookups — frames, arcs, (shape, comm) pairs — where std::unordered_map's
// node per entry costs a cache miss per lookup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace kprof {

template <class Key, class Value, class Hash>
class FlatMap {
  public:
    explicit FlatMap(size_t expected = 16) { rehash(capacity_for(expected)); }

    // Returns the value of key, inserting `value` first when the key is new.
    std::pair<Value*, bool> try_emplace(const Key& key, Value value) {
        if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.size() * 2);
        size_t i = Hash{}(key)&mask_;
        while (slots_[i].used) {
            if (slots_[i].key == key) return {&slots_[i].value, false};
            i = (i + 1) & mask_;
        }
        slots_[i] = {key, std::move(value), true};
        ++size_;
        return {&slots_[i].value, true};
    }

    const Value* find(const Key& key) const {
        size_t i = Hash{}(key)&mask_;
        while (slots_[i].used) {
            if (slots_[i].key == key) return &slots_[i].value;
            i = (i + 1) & mask_;
        }
        return nullptr;
    }

    size_t size() const { return size_; }

  private:
    // The flag beside the key: a probe touches one cache line, not two arrays.
    struct Slot {
        Key key{};
        Value value{};
        bool used = false;
    };
    std::vector<Slot> slots_;
    size_t size_ = 0;
    size_t mask_ = 0;

    static size_t capacity_for(size_t n) {
        size_t c = 16;
        while (c * 3 < n * 4) c *= 2;
        return c;
    }

    void rehash(size_t capacity) {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(capacity, Slot{});
        mask_ = capacity - 1;
        size_ = 0;
        for (Slot& s : old)
            if (s.used) try_emplace(s.key, std::move(s.value));
    }
};

// Mixes all 64 bits into the low ones, which pick the slot.
struct U64Hash {
    size_t operator()(uint64_t k) const {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdULL;
        k ^= k >> 33;
        return static_cast<size_t>(k);
    }
};

}  // namespace kprof

// The fingerprint of a run's tables (core/engine.h, docs/engine.md
// "Determinism and the fingerprint").
// May not touch: anything; a pure function of the tables.
#include <algorithm>
#include <type_traits>
#include <variant>

#include "core/engine.h"
#include "core/random.h"

namespace adsim {

uint64_t Fingerprint(const Results& results) {
  uint64_t h = 0x243f6a8885a308d3ULL;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  };
  // Tables in name order, so a file read back (listed by name) has the same fingerprint.
  std::vector<const Table*> tables;
  for (const auto& t : results.tables) tables.push_back(&t);
  std::sort(tables.begin(), tables.end(), [](const Table* a, const Table* b) { return a->name() < b->name(); });
  for (const Table* tp : tables) {
    const Table& t = *tp;
    mix(t.name().data(), t.name().size());
    for (const auto& c : t.columns()) {
      mix(c.name.data(), c.name.size());
      std::visit(
          [&mix](const auto& v) {
            using T = typename std::decay_t<decltype(v)>::value_type;
            if constexpr (std::is_same_v<T, std::string>) {
              for (const auto& text : v) mix(text.data(), text.size() + 1);
            } else {
              mix(v.data(), v.size() * sizeof(T));
            }
          },
          c.data);
    }
  }
  return Mix64(h);
}

}  // namespace adsim

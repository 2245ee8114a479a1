// Random streams. Every component draws from its own stream, seeded from a hash
// of (run seed, component path), never from seed + offset (neighbouring runs
// would share streams). Engines and distributions are Boost.Random's: their
// algorithms are fixed by the Boost version, not by the standard library.
#pragma once

#include <boost/random/exponential_distribution.hpp>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace adsim {

// 64-bit FNV-1a of a path, mixed with the seed by SplitMix64 finalisers.
uint64_t StreamSeed(uint64_t run_seed, std::string_view path);

// A component's own stream seed (strategies, monitors, analyses). The engine
// derives it one way from (run seed, component path) with SHA-1, because
// StreamSeed is invertible: from StreamSeed(seed, path) and the known path a
// component could compute the run seed, then every market stream and each
// user's click draw. From a ComponentSeed it can only learn its own stream.
struct ComponentSeed {
  uint64_t value = 0;
};
ComponentSeed MakeComponentSeed(uint64_t run_seed, std::string_view path);

// SplitMix64 finaliser: a bijective 64-bit mix.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One component's random stream.
class Stream {
 public:
  Stream() : engine_(0) {}
  Stream(uint64_t run_seed, std::string_view path) : engine_(StreamSeed(run_seed, path)) {}
  // A component's stream, from the seed the engine handed it (BuildContext).
  explicit Stream(ComponentSeed seed) : engine_(seed.value) {}

  // Uniform on (0, 1): 53 random bits, never exactly 0 (safe for log).
  double Uniform() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1.0p-53; }
  // Uniform integer in [0, n), n > 0 (multiply-shift; bias below 2^-32 for n < 2^32).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((engine_() >> 32) * static_cast<uint64_t>(n)) >> 32); }
  double Exponential() { return exp_(engine_); }  // mean 1
  double Normal() { return norm_(engine_); }      // N(0, 1)

  boost::random::mt19937_64& engine() { return engine_; }

 private:
  boost::random::mt19937_64 engine_;
  boost::random::exponential_distribution<double> exp_{1.0};
  boost::random::normal_distribution<double> norm_{0.0, 1.0};
};

// A counter-based engine for the draws that belong to one opportunity (the
// user's click and conversion, per slot). Its 64-bit key comes from the
// market's Boost stream, one draw per opportunity, so every response draw is
// fixed by the market whatever the strategies do: two strategies on one seed
// face the same user reactions (common random numbers), while the engine
// draws only for the slots it actually wins. SplitMix64 steps on (key, slot);
// it satisfies Boost.Random's engine concept, so Boost's distributions run on it.
class ResponseRng {
 public:
  using result_type = uint64_t;
  ResponseRng(uint64_t key, int slot)
      : state_(Mix64(key ^ (0x632be59bd9b4e019ULL * (static_cast<uint64_t>(slot) + 1)))) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~static_cast<result_type>(0); }
  result_type operator()() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Mix64(state_);
  }
  double Uniform() { return (static_cast<double>((*this)() >> 11) + 0.5) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// Inverse of the standard normal CDF by Acklam's rational approximation
// (relative error below 1.15e-9 over (0, 1)). Used on the hot path to draw
// competitor order statistics by inversion, where a Newton refinement would
// double the cost for no visible effect on any simulated quantity.
double InvNormalCdf(double p);

// Standard normal CDF.
inline double NormalCdf(double x) { return 0.5 * std::erfc(-x * M_SQRT1_2); }

}  // namespace adsim

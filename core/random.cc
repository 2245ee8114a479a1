#include "core/random.h"

#include <boost/uuid/detail/sha1.hpp>
#include <cmath>
#include <type_traits>

namespace adsim {

uint64_t StreamSeed(uint64_t run_seed, std::string_view path) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : path) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return Mix64(Mix64(run_seed + 0x9e3779b97f4a7c15ULL) ^ Mix64(h));
}

ComponentSeed MakeComponentSeed(uint64_t run_seed, std::string_view path) {
  // SHA-1 of a domain tag, the seed's 8 bytes (little-endian, so the result
  // does not depend on the host) and the path; the first 64 bits of the
  // digest. Preimages of SHA-1 are out of reach (only its collisions are not),
  // so the run seed cannot be computed back, only guessed and checked.
  boost::uuids::detail::sha1 hash;
  static constexpr char kTag[] = "adsim component stream v1";
  hash.process_bytes(kTag, sizeof kTag - 1);
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(run_seed >> (8 * i));
  hash.process_bytes(bytes, sizeof bytes);
  hash.process_bytes(path.data(), path.size());
  boost::uuids::detail::sha1::digest_type digest;
  hash.get_digest(digest);
  uint64_t value = 0;
  // Boost 1.74 gives five 32-bit words; later versions twenty bytes.
  using Word = std::remove_reference_t<decltype(digest[0])>;
  constexpr int kBitsPerWord = 8 * sizeof(Word);
  for (int i = 0; i < 64 / kBitsPerWord; ++i) value = (value << kBitsPerWord) | static_cast<uint64_t>(digest[i]);
  return {value};
}

double InvNormalCdf(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  if (p <= 0.0) return -INFINITY;
  if (p >= 1.0) return INFINITY;
  constexpr double kLow = 0.02425;
  if (p < kLow) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - kLow) {
    const double q = std::sqrt(-2 * std::log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

}  // namespace adsim

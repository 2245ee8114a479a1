// The standard normal distribution for the whole project: the CDF, its upper
// tail and the quantile, each defined once. Strategies and the engine use
// these; nothing else defines its own. May include only core/ headers, the
// standard library and Boost.Math.
//
// The CDF itself is NormalCdf in core/random.h (the engine's headers already
// include that file; this one adds the rest): 0.5 erfc(-x / sqrt 2), within an
// ulp or two of the correctly rounded value wherever that is a normal double,
// with full relative accuracy far into the lower tail. Boost.Math's cdf is no
// more accurate and differs from it in the last bits, so the project keeps
// this one. For the quantile, accuracy matters (test boundaries, confidence
// bounds): Boost.Math. The fast approximation InvNormalCdf (core/random.h) is
// for sampling on the hot path only.
#pragma once

#include <boost/math/distributions/normal.hpp>

#include "core/argument_checks.h"
#include "core/random.h"

namespace adsim {

// 1 - Phi(x), without cancellation: full relative accuracy far into the upper
// tail (1 - Phi(8) is 6e-16, not 0). Bit for bit NormalCdf(-x).
inline double NormalUpperTail(double x) { return NormalCdf(-x); }

// Phi^{-1}(p) for p in (0, 1), by Boost.Math (accurate to a few ulps).
// Throws ConfigError (core/argument_checks.h) naming a value outside (0, 1).
inline double NormalQuantile(double p) {
  static constexpr ArgumentChecks kArgs("adsim::NormalQuantile");
  kArgs.Probability(p, "p");
  return boost::math::quantile(boost::math::normal(), p);
}

}  // namespace adsim

// The win curve of a first-price bidder and the shade that maximises its
// expected surplus; registers nothing (used by bidders/bid_shading.cc).
//
// FitWinCurve fits P(win | b) = 1 / (1 + exp(-(alpha + beta (log b - m))))
// to (log bid, bids, wins) observations, m the bid-weighted mean log bid, by
// maximum a posteriori with the priors alpha ~ N(0, 10^2), beta ~ N(3, 3^2),
// which keep the fit defined when every bid won or lost. It reuses the
// project's logistic regression (estimators::LogisticModel, one L2 precision
// for every coefficient) by scaling the features: with x = (10, 3 (log b - m))
// and w = (alpha / 10, beta / 3), the prior N(w0, 1) with w0 = (0, 1) is the
// one above, so the fit is the same posterior mode.
//
// BestShade maximises (1 - s) P(win | s V) over s in [lo, hi] with Boost.Math's
// Brent minimiser: the expected surplus (V - b) P(win | b) over V. For
// beta >= 0 its logarithm has a decreasing derivative in s (unimodal), so
// Brent finds the maximum; for beta < 0 the surplus decreases and the maximum
// is lo.
#pragma once

#include <Eigen/Dense>
#include <boost/math/tools/minima.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "strategies/bidders/lib/logistic_model.h"

namespace adsim::bidders {

struct WinObservation {
  double log_bid = 0, bids = 0, wins = 0;  // bids and wins may be fractional
};

struct WinCurve {
  double alpha = 0, beta = 3, mean_log_bid = 0;
  double WinProbability(double bid) const {
    return estimators::LogisticModel::Sigmoid(alpha + beta * (std::log(bid) - mean_log_bid));
  }
};

inline constexpr double kWinCurveAlphaSd = 10.0, kWinCurveBetaMean = 3.0, kWinCurveBetaSd = 3.0;

// Requires at least one observation with bids > 0.
inline WinCurve FitWinCurve(const std::vector<WinObservation>& observations) {
  double total = 0, mean = 0;
  for (const WinObservation& o : observations) {
    total += o.bids;
    mean += o.bids * o.log_bid;
  }
  mean /= total;
  const Eigen::Index rows = static_cast<Eigen::Index>(observations.size());
  Eigen::MatrixXd x(rows, 2);
  Eigen::VectorXd trials(rows), successes(rows);
  for (Eigen::Index j = 0; j < rows; ++j) {
    const WinObservation& o = observations[static_cast<size_t>(j)];
    x(j, 0) = kWinCurveAlphaSd;
    x(j, 1) = kWinCurveBetaSd * (o.log_bid - mean);
    trials[j] = o.bids;
    successes[j] = o.wins;
  }
  estimators::LogisticModel model(2, /*l2=*/1.0);
  model.SetPrior(Eigen::Vector2d(0.0, kWinCurveBetaMean / kWinCurveBetaSd));
  model.Fit(x, trials, successes);
  const Eigen::VectorXd& w = model.coefficients();
  return {w[0] * kWinCurveAlphaSd, w[1] * kWinCurveBetaSd, mean};
}

// The share s of the value V to bid that maximises (1 - s) P(win | s V). Brent
// stops within about 2^-26 of the maximum; where it lies at an end of
// [lo, hi], that end is returned exactly.
inline double BestShade(const WinCurve& curve, double value, double lo, double hi) {
  const auto negative_surplus = [&](double s) { return -(1.0 - s) * curve.WinProbability(s * value); };
  std::uintmax_t iterations = 200;
  const std::pair<double, double> inside = boost::math::tools::brent_find_minima(
      negative_surplus, lo, hi, std::numeric_limits<double>::digits / 2, iterations);
  double best = inside.first, best_value = inside.second;
  for (double end : {lo, hi})
    if (negative_surplus(end) < best_value) {
      best = end;
      best_value = negative_surplus(end);
    }
  return best;
}

}  // namespace adsim::bidders

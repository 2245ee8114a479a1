// The win curve fit and shade choice of bid_shading (strategies/bidders/lib/
// win_curve.h) against known answers: a logistic win curve is recovered from
// the win counts it implies, the chosen shade satisfies the first-order
// condition of the surplus and beats every point of a fine grid, and the
// priors keep the fit defined when every bid won.
#include "strategies/bidders/lib/win_curve.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace adsim::bidders {
namespace {

// Observations of `bids` bids at each of `levels`, winning exactly their
// expected share under the curve (fractional wins: no sampling noise).
std::vector<WinObservation> ObservationsOf(const WinCurve& truth, const std::vector<double>& levels, double bids) {
  std::vector<WinObservation> out;
  out.reserve(levels.size());
  for (double level : levels) out.push_back({std::log(level), bids, bids * truth.WinProbability(level)});
  return out;
}

double Surplus(const WinCurve& curve, double value, double shade) {
  return (1.0 - shade) * curve.WinProbability(shade * value);
}

TEST(WinCurve, RecoversAKnownLogisticCurve) {
  const std::vector<double> levels = {0.5, 0.7, 1.0, 1.4, 2.0};
  double mean = 0;
  for (double level : levels) mean += std::log(level) / levels.size();  // equal bids per level
  const WinCurve truth{0.4, 2.5, mean};
  const WinCurve fit = FitWinCurve(ObservationsOf(truth, levels, 1e6));
  EXPECT_NEAR(fit.mean_log_bid, mean, 1e-12);
  // A million bids per level: the priors (sd 10 and 3) move the estimate by
  // about 1e-6; the tolerance leaves room for Newton's stopping rule.
  EXPECT_NEAR(fit.alpha, 0.4, 1e-4);
  EXPECT_NEAR(fit.beta, 2.5, 1e-4);
  for (double bid : {0.3, 1.0, 3.0}) EXPECT_NEAR(fit.WinProbability(bid), truth.WinProbability(bid), 1e-5) << bid;
}

TEST(WinCurve, FewBidsArePulledTowardsThePrior) {
  const std::vector<double> levels = {0.8, 1.25};
  const WinCurve truth{0.0, 8.0, 0.0};  // a steep curve seen through 20 bids per level
  const WinCurve fit = FitWinCurve(ObservationsOf(truth, levels, 20));
  EXPECT_GT(fit.beta, kWinCurveBetaMean);  // the data say steeper than the prior...
  EXPECT_LT(fit.beta, 8.0);                // ...and the prior holds it back
}

TEST(WinCurve, EveryBidWonAtOneLevelStillGivesAFiniteCurve) {
  const WinCurve fit = FitWinCurve({{std::log(0.9), 500, 500}});
  EXPECT_TRUE(std::isfinite(fit.alpha));
  EXPECT_GT(fit.alpha, 3.0);  // wins nearly always at the level bid
  // One bid level says nothing about the slope: it stays the prior mean.
  EXPECT_NEAR(fit.beta, kWinCurveBetaMean, 1e-9);
}

TEST(WinCurve, BestShadeMaximisesTheExpectedSurplus) {
  const double value = 2.0;
  for (const WinCurve& curve : {WinCurve{0.4, 2.5, 0.0}, WinCurve{-1.0, 6.0, std::log(1.5)}, WinCurve{2.0, 1.0, 0.0}}) {
    const double s = BestShade(curve, value, 0.02, 0.99);
    ASSERT_GT(s, 0.02);
    ASSERT_LT(s, 0.99);
    // First-order condition of (1 - s) P(win | s V) with a logistic P:
    // (1 - s) (1 - P) beta = s.
    const double p = curve.WinProbability(s * value);
    EXPECT_NEAR((1.0 - s) * (1.0 - p) * curve.beta, s, 1e-6) << curve.alpha << " " << curve.beta;
    for (double grid = 0.02; grid <= 0.99; grid += 0.001)
      EXPECT_GE(Surplus(curve, value, s), Surplus(curve, value, grid) - 1e-12) << grid;
  }
}

TEST(WinCurve, AFallingCurveShadesToTheLowestShare) {
  const WinCurve falling{0.0, -1.0, 0.0};  // higher bids win less: bid as little as allowed
  EXPECT_EQ(BestShade(falling, 1.0, 0.02, 0.99), 0.02);
}

}  // namespace
}  // namespace adsim::bidders

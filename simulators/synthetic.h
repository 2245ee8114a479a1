// The synthetic market: per channel, a non-homogeneous Poisson stream of
// opportunities whose rate follows the hour-of-day and day-of-week profiles;
// each opportunity carries a segment, a user drawn from the segment's finite
// population, and the top order statistics of K iid lognormal competitor bids.
#pragma once

#include <memory>
#include <vector>

#include "core/market.h"
#include "core/random.h"

namespace adsim {

// Walker's alias table over a few weights: O(1) draws from one uniform.
class AliasTable {
 public:
  void Build(const std::vector<double>& weights);
  int Draw(double u) const {
    const double x = u * static_cast<double>(prob_.size());
    int i = static_cast<int>(x);
    if (i >= static_cast<int>(prob_.size())) i = static_cast<int>(prob_.size()) - 1;
    return (x - i) < prob_[i] ? i : alias_[i];
  }

 private:
  std::vector<double> prob_;
  std::vector<int> alias_;
};

// Quantile function of the largest of K iid standard normals,
// z = InvNormalCdf(u^(1/K)), tabulated on a uniform grid of u with linear
// interpolation (absolute error below 1.5e-5 in z, so relative error of a
// lognormal bid below 1.5e-5 x sigma; checked by a test) and
// computed exactly in the two tails where the curve bends too fast for a table.
// It replaces three transcendental calls per opportunity by one lookup.
// Copies share the table (64 KiB, read at random): the market builds one per
// distinct K, so channels with the same K compete for no extra cache.
class MaxNormalQuantile {
 public:
  explicit MaxNormalQuantile(int k = 1);
  double operator()(double u) const {
    if (u < lo_ || u > hi_) return Exact(u);
    const double x = u * kCells;
    const int i = static_cast<int>(x);
    const double f = x - i;
    return table_[i] + f * (table_[i + 1] - table_[i]);
  }
  double Exact(double u) const;
  int k() const { return k_; }

 private:
  static constexpr int kCells = 8192;
  int k_;
  double lo_, hi_;
  std::shared_ptr<const std::vector<double>> storage_;
  const double* table_ = nullptr;  // storage_->data()
};

class SyntheticMarket : public Market {
 public:
  SyntheticMarket(const Scenario& scenario, uint64_t seed);
  size_t Generate(SimTime until, Opportunity* out, size_t max) override;
  void OnConditionsChanged(SimTime now, const MarketConditions& conditions) override;

  // The expected rate (opportunities per hour) of channel c in the hour that
  // contains simulated time t, with the current conditions. Exposed for tests.
  double RatePerHour(int channel, SimTime t) const;

 private:
  struct ChannelState {
    const ChannelSpec* spec = nullptr;
    Stream arrivals, competition, response;
    double next_time = 0.0;  // continuous time of the pending arrival, microseconds
    SimTime next_int = 0;    // the same as an integer
    double piece_end = 0.0;  // end of the current constant-rate piece
    double rate_per_us = 0.0;
    double mean_gap_us = 0.0;   // 1 / rate_per_us (a multiply is cheaper than a divide)
    double traffic_mult = 1.0;  // share-weighted traffic multiplier from shocks
    AliasTable segments;
    std::vector<double> mu, sigma;  // competitor bid distribution per segment
    MaxNormalQuantile top;          // for this channel's K
  };
  void StartPiece(ChannelState& ch, int index, double t);
  void DrawNext(ChannelState& ch, int index, double from);
  void Fill(ChannelState& ch, int index, Opportunity& o);

  const Scenario& scenario_;
  std::vector<ChannelState> channels_;
  MarketConditions conditions_;
  bool started_ = false;                        // the first call draws every channel's first arrival
  std::vector<std::vector<float>> propensity_;  // per segment, per user (empty when sigma is 0)
};

}  // namespace adsim

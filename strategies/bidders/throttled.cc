// throttled: probabilistic budget throttling. Each bid request is entered,
// at the campaign's base bid, with probability phi, and skipped otherwise;
// phi is set each control cycle so that the daily budget is spent along the
// pacing curve ("traffic": the expected traffic share; "even": time).
//
// Each cycle (times of day t_prev -> t, next cycle end t_next):
//   r     <- spend rate at phi = 1, per unit of the day's traffic share:
//            the last cycle's spend / (phi_last * traffic share of the last
//            cycle), smoothed: r = (1 - smoothing) r + smoothing * sample
//   B     =  budget_share * daily_budget - spend_today   (left to spend)
//   g     =  (G(t_next) - G(t)) / (1 - G(t))            (the target curve G's share
//            of what is left of the day that the next cycle should spend)
//   phi   =  clamp(B * g / (r * (C(t_next) - C(t))), min_fraction, 1)
// with C the traffic curve. Without a daily budget it paces the total budget
// over the run by time, and without any budget phi = 1. Until a spend rate
// has been seen phi = initial_fraction.
//
// Draws: one Uniform per request from the component's own stream (the seed
// the engine hands it, BuildContext::stream_seed), so the decisions are fixed
// by the run seed; Bid() does nothing else (no allocation).
#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "core/registry.h"
#include "strategies/bidders/lib/value_estimates.h"

namespace adsim::bidders {
namespace {

class Throttled final : public Bidder {
 public:
  explicit Throttled(const BuildContext& ctx)
      : scenario_(*ctx.scenario),
        even_(ctx.params.String("curve") == "even"),
        budget_share_(ctx.params.Number("budget_share")),
        min_fraction_(ctx.params.Number("min_fraction")),
        smoothing_(ctx.params.Number("smoothing")),
        fraction_(ctx.params.Number("initial_fraction")),
        stream_(ctx.stream_seed) {}

  double Bid(const BidRequest&, const CampaignState& state) override {
    return stream_.Uniform() < fraction_ ? state.bid : 0.0;
  }

  void OnCycle(const Snapshot& snap, int campaign) override {
    const CampaignState& st = snap.campaigns[campaign];
    const SimTime cycle = snap.control_cycle;
    const double tod = HourOfDay(scenario_, snap.time);
    const double tod_next = std::min(24.0, tod + static_cast<double>(cycle) / kMicrosPerHour);
    const bool daily = std::isfinite(st.daily_budget);
    if (!daily && !std::isfinite(st.total_budget)) {
      fraction_ = 1.0;
      return;
    }
    // Learn the unthrottled spend rate per unit of traffic share from the last cycle.
    if (snap.time > 0 && fraction_ > 0) {
      const double tod_prev = HourOfDay(scenario_, snap.time - cycle);
      double share = Curve(campaign, tod) - Curve(campaign, tod_prev);
      if (tod < tod_prev) share += 1.0;  // the cycle crossed midnight
      const double spend = snap.CampaignTotal(snap.last_cycle, campaign).spend;
      if (share > 1e-9) {
        const double sample = spend / (fraction_ * share);
        rate_ = rate_ < 0 ? sample : (1 - smoothing_) * rate_ + smoothing_ * sample;
      }
    }
    if (rate_ <= 0) {
      if (rate_ == 0) fraction_ = 1.0;  // bidding bought nothing: bid on everything
      return;
    }
    double left, target_share, traffic_share;
    if (daily) {
      left = budget_share_ * st.daily_budget - st.spend_today;
      const double g_now = Target(campaign, tod), g_next = Target(campaign, tod_next);
      target_share = g_now < 1 ? (g_next - g_now) / (1 - g_now) : 1.0;
      traffic_share = Curve(campaign, tod_next) - Curve(campaign, tod);
    } else {
      left = budget_share_ * st.total_budget - st.spend_total;
      const double remaining = static_cast<double>(scenario_.duration - snap.time);
      target_share = remaining > 0 ? std::min(1.0, static_cast<double>(cycle) / remaining) : 1.0;
      traffic_share = Curve(campaign, tod_next) - Curve(campaign, tod);
    }
    if (left <= 0) {
      fraction_ = min_fraction_;
      return;
    }
    fraction_ =
        traffic_share > 1e-12 ? std::clamp(left * target_share / (rate_ * traffic_share), min_fraction_, 1.0) : 1.0;
  }

 private:
  double Curve(int campaign, double x) const { return ElapsedTrafficShare(scenario_, campaign, x); }
  double Target(int campaign, double x) const { return ElapsedTrafficShare(scenario_, campaign, x, even_); }

  const PublicScenario& scenario_;
  bool even_;
  double budget_share_, min_fraction_, smoothing_;
  double fraction_;
  double rate_ = -1;  // unknown
  Stream stream_;
};

ADSIM_REGISTER_BIDDER(
    Throttled, "throttled",
    "Probabilistic throttling: bids the base bid on a fraction of requests, adapted to pace the budget.",
    StringParam("curve", "traffic", "target curve: 'traffic' (expected traffic share) or 'even' (time)",
                {"traffic", "even"}),
    NumberParam("budget_share", 0.97, "share of the daily budget to aim for", 0.01, 1),
    NumberParam("initial_fraction", 0.5, "share of requests bid on before a spend rate is seen", 0, 1),
    NumberParam("min_fraction", 0.0, "lowest share of requests bid on", 0, 1),
    NumberParam("smoothing", 0.3, "weight of the last cycle in the smoothed spend rate", 0.001, 1));

}  // namespace
}  // namespace adsim::bidders

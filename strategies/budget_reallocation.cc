// budget_reallocation: moves daily budget between campaigns towards the ones
// that convert more cheaply, keeping the total of their daily budgets fixed
// and a floor per campaign so nothing starves while it is still being learned.
// Every `interval_hours` (at a control cycle), over the campaigns with a
// finite daily budget, from each campaign's own totals since the start:
//   efficiency e_i = conversions_i / spend_i        (goal "cpa")
//                  = conversion value_i / spend_i   (goal "roas");
//   method "rule":     shares proportional to e_i^power;
//   method "thompson": shares = the probability that each campaign is the
//                      most efficient, estimated from `draws` joint draws of
//                      Gamma(conversions_i + 1, spend_i + prior_spend)
//                      posteriors of conversions per unit spend (cpa only;
//                      roas uses the same posterior scaled by the observed
//                      value per conversion);
// then each share is raised to at least `floor_share` (renormalised) and the
// targets are share x pool. Each campaign moves towards its target by at most
// its own max_change, and increases are scaled down to what the decreases
// free, so the total of the daily budgets never grows (it can shrink a
// little when the 1% dead band skips a move).
#include <boost/random/gamma_distribution.hpp>
#include <cmath>

#include "core/random.h"
#include "core/registry.h"

namespace adsim {
namespace {

class BudgetReallocation final : public Controller {
 public:
  explicit BudgetReallocation(const BuildContext& ctx)
      : scenario_(*ctx.scenario),
        thompson_(ctx.params.String("method") == "thompson"),
        roas_(ctx.params.String("goal") == "roas"),
        interval_(static_cast<SimTime>(ctx.params.Number("interval_hours") * kMicrosPerHour)),
        floor_(ctx.params.Number("floor_share")),
        power_(ctx.params.Number("power")),
        prior_spend_(ctx.params.Number("prior_spend")),
        min_spend_(ctx.params.Number("min_spend")),
        draws_(static_cast<int>(ctx.params.Number("draws"))),
        stream_(ctx.seed, "strategies/budget_reallocation") {}

  void OnCycle(const Snapshot& snap, int, std::vector<Action>* actions) override {
    if (snap.time < next_) return;
    next_ = snap.time + interval_;
    std::vector<int> ids;
    double pool = 0;
    for (size_t c = 0; c < snap.campaigns.size(); ++c) {
      const CampaignState& st = snap.campaigns[c];
      if (!std::isfinite(st.daily_budget) || st.paused) continue;
      ids.push_back(static_cast<int>(c));
      pool += st.daily_budget;
    }
    const int n = static_cast<int>(ids.size());
    if (n < 2 || pool <= 0) return;
    std::vector<ObservedStats> tot(n);
    for (int i = 0; i < n; ++i) {
      tot[i] = snap.CampaignTotal(snap.total, ids[i]);
      if (tot[i].spend < min_spend_) return;  // not enough evidence anywhere yet
    }
    std::vector<double> share(n, 0.0);
    if (thompson_) {
      for (int d = 0; d < draws_; ++d) {
        int best = 0;
        double best_v = -1;
        for (int i = 0; i < n; ++i) {
          boost::random::gamma_distribution<double> g(static_cast<double>(tot[i].conversions) + 1.0, 1.0);
          double v = g(stream_.engine()) / (tot[i].spend + prior_spend_);  // conversions per unit spend
          if (roas_ && tot[i].conversions > 0) v *= tot[i].conversion_value / static_cast<double>(tot[i].conversions);
          if (v > best_v) {
            best_v = v;
            best = i;
          }
        }
        share[best] += 1.0 / draws_;
      }
    } else {
      double sum = 0;
      for (int i = 0; i < n; ++i) {
        const double e = (roas_ ? tot[i].conversion_value : static_cast<double>(tot[i].conversions)) / tot[i].spend;
        share[i] = std::pow(std::max(e, 1e-12), power_);
        sum += share[i];
      }
      for (auto& s : share) s /= sum;
    }
    // Floors: every campaign keeps at least floor_share of the pool.
    const double fl = std::min(floor_, 1.0 / n);  // n floors cannot exceed the pool
    double above = 0;
    const double spare = 1.0 - fl * n;
    for (auto& s : share) above += std::max(0.0, s - fl);
    for (auto& s : share) s = above > 0 ? fl + spare * std::max(0.0, s - fl) / above : 1.0 / n;
    // Move towards the targets within each campaign's max_change, and fund the
    // increases only with what the decreases free: the total never grows,
    // and the guardrails need not clamp anything.
    std::vector<double> next(n);
    double freed = 0, wanted = 0;
    for (int i = 0; i < n; ++i) {
      const double cur = snap.campaigns[ids[i]].daily_budget;
      const double mc = scenario_.campaigns[ids[i]].guardrails.max_change;
      next[i] = std::clamp(share[i] * pool, cur * (1 - mc), cur * (1 + mc));
      if (next[i] < cur) freed += cur - next[i];
      if (next[i] > cur) wanted += next[i] - cur;
    }
    const double scale = wanted > freed ? freed / wanted : 1.0;
    for (int i = 0; i < n; ++i) {
      const double cur = snap.campaigns[ids[i]].daily_budget;
      if (next[i] > cur) next[i] = cur + scale * (next[i] - cur);
      if (std::fabs(next[i] - cur) <= 0.01 * cur) continue;
      Action a;
      a.kind = ActionKind::kSetDailyBudget;
      a.campaign = ids[i];
      a.value = next[i];
      a.reason = "target share " + std::to_string(share[i]) + " of pool " + std::to_string(pool);
      actions->push_back(a);
    }
  }

 private:
  const PublicScenario& scenario_;
  bool thompson_, roas_;
  SimTime interval_;
  double floor_, power_, prior_spend_, min_spend_;
  int draws_;
  Stream stream_;
  SimTime next_ = 0;
};

const Registration kBudgetReallocation({
    .name = "budget_reallocation",
    .kind = ComponentKind::kController,
    .description = "Moves daily budget between campaigns towards the most efficient (CPA or ROAS), with floors.",
    .params = {StringParam("method", "rule", "rule (shares by efficiency^power) or thompson (P(best))",
                           {"rule", "thompson"}),
               StringParam("goal", "cpa", "efficiency: conversions per spend (cpa) or value per spend (roas)",
                           {"cpa", "roas"}),
               NumberParam("interval_hours", 6, "time between reallocations", 0.01, 10000),
               NumberParam("floor_share", 0.1, "smallest share of the pool a campaign keeps", 0, 0.5),
               NumberParam("power", 1.0, "rule: shares proportional to efficiency^power", 0, 20),
               NumberParam("prior_spend", 10, "thompson: prior spend in the Gamma posterior", 0, 1e12),
               NumberParam("min_spend", 50, "spend every campaign needs before the first reallocation", 0, 1e15),
               NumberParam("draws", 2000, "thompson: posterior draws per reallocation", 10, 1e6)},
    .campaign_scoped = false,
    .origin = "C++",
    .make_bidder = nullptr,
    .make_controller = [](const BuildContext& ctx) -> std::unique_ptr<Controller> {
      return std::make_unique<BudgetReallocation>(ctx);
    },
});

}  // namespace
}  // namespace adsim

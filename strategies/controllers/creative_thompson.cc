// creative_thompson: Thompson sampling for creative testing, in batches. Each
// unpaused creative i has a Beta-Binomial posterior on its click rate,
//   p_i ~ Beta(prior_alpha + s_i, prior_beta + n_i - s_i),
// from discounted clicks s_i and impressions n_i (evidence half_life_hours old
// weighs 1/2). Each control cycle it estimates P(i is best) by `draws` joint
// draws from the posteriors and sets the rotation weights
//   w_i = min_share + (1 - K * min_share) * P(i is best)
// (probability matching: each bid request then shows creative i with the
// probability that i is the best one). Draws come from the component's own
// stream, Stream(ctx.stream_seed).
#include <cmath>

#include "core/registry.h"
#include "strategies/lib/estimators.h"

namespace adsim::controllers {
namespace {

class CreativeThompson final : public Controller {
 public:
  explicit CreativeThompson(const BuildContext& ctx)
      : draws_(static_cast<int>(ctx.params.Number("draws"))),
        min_share_(ctx.params.Number("min_share")),
        rates_(ctx.params.Number("prior_alpha"), ctx.params.Number("prior_beta"),
               estimators::DiscountPerCycle(ctx.scenario->control_cycle, ctx.params.Number("half_life_hours"))),
        stream_(ctx.stream_seed) {}

  void OnCycle(const Snapshot& snap, int campaign, std::vector<Action>* actions) override {
    rates_.Update(snap, campaign);
    const CampaignState& st = snap.campaigns[campaign];
    const std::vector<int> arms = estimators::UnpausedCreatives(st);
    if (arms.empty()) return;
    const int k = static_cast<int>(arms.size());
    std::vector<double> wins(k, 0.0);
    for (int d = 0; d < draws_; ++d) {
      int best = 0;
      double best_p = -1;
      for (int i = 0; i < k; ++i) {
        const double p = rates_[arms[i]].Sample(stream_.engine());
        if (p > best_p) {
          best_p = p;
          best = i;
        }
      }
      wins[best] += 1.0;
    }
    const double floor = std::min(min_share_, 1.0 / k);
    std::vector<double> w = st.creative_weight;  // paused creatives keep theirs
    for (int i = 0; i < k; ++i) w[arms[i]] = floor + (1.0 - k * floor) * wins[i] / draws_;
    int top = 0;
    for (int i = 1; i < k; ++i)
      if (wins[i] > wins[top]) top = i;
    // Each creative's estimated probability of having the best click rate,
    // against the most probable one's.
    estimators::WeightEvidence evidence{"p_best", std::vector<double>(st.creative_weight.size(), std::nan("")),
                                        wins[top] / draws_};
    for (int i = 0; i < k; ++i) evidence.observed[arms[i]] = wins[i] / draws_;
    estimators::SetCreativeWeights(
        st, campaign, w,
        "P(best) of " + snap.creative_names[campaign][arms[top]] + " " + std::to_string(wins[top] / draws_), evidence,
        actions);
  }

 private:
  int draws_;
  double min_share_;
  estimators::CreativeClickRates rates_;
  Stream stream_;
};

ADSIM_REGISTER_CONTROLLER(
    CreativeThompson, "creative_thompson",
    "Thompson sampling creative testing: each creative's share is its posterior probability of the best CTR.",
    NumberParam("prior_alpha", 1.0, "Beta prior pseudo-clicks", 1e-6, 1e9),
    NumberParam("prior_beta", 1.0, "Beta prior pseudo-non-clicks", 1e-6, 1e9),
    NumberParam("half_life_hours", 12.0, "memory: evidence this many hours old weighs 1/2 (0 = no discounting)", 0,
                1e6),
    NumberParam("draws", 1000, "joint posterior draws per cycle to estimate P(best)", 1, 1e6),
    NumberParam("min_share", 0.0, "smallest share of any unpaused creative (capped at 1/K)", 0, 1));

}  // namespace
}  // namespace adsim::controllers

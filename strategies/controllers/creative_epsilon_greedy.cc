// creative_epsilon_greedy: epsilon-greedy creative testing. Each control cycle
// it estimates every unpaused creative's click rate from discounted counts
// (evidence half_life_hours old weighs 1/2) and sets the rotation weights
//   w_best = 1 - epsilon + epsilon / K,   w_other = epsilon / K,
// over the K unpaused creatives, where best = argmax of clicks / impressions
// (lowest index on ties). Creatives without impressions yet come first: while
// any exists, they share the traffic evenly with each other.
#include <cmath>

#include "core/registry.h"
#include "strategies/lib/estimators.h"

namespace adsim::controllers {
namespace {

class CreativeEpsilonGreedy final : public Controller {
 public:
  explicit CreativeEpsilonGreedy(const BuildContext& ctx)
      : epsilon_(ctx.params.Number("epsilon")),
        rates_(0.0, 0.0,
               estimators::DiscountPerCycle(ctx.scenario->control_cycle, ctx.params.Number("half_life_hours"))) {}

  void OnCycle(const Snapshot& snap, int campaign, std::vector<Action>* actions) override {
    rates_.Update(snap, campaign);
    const CampaignState& st = snap.campaigns[campaign];
    const std::vector<int> arms = estimators::UnpausedCreatives(st);
    if (arms.empty()) return;
    std::vector<double> w = st.creative_weight;  // paused creatives keep theirs
    const int k = static_cast<int>(arms.size());
    int untried = 0;
    for (int cr : arms) untried += rates_[cr].trials < kMinTrials ? 1 : 0;
    if (untried > 0) {
      for (int cr : arms) w[cr] = rates_[cr].trials < kMinTrials ? 1.0 : 0.0;
      estimators::SetCreativeWeights(st, campaign, w, "exploring untried creatives", Trials(st), actions);
      return;
    }
    int best = arms[0];
    for (int cr : arms)
      if (rates_[cr].Rate() > rates_[best].Rate()) best = cr;
    for (int cr : arms) w[cr] = epsilon_ / k + (cr == best ? 1.0 - epsilon_ : 0.0);
    // Each creative's recent click rate against the best one's.
    estimators::WeightEvidence evidence{"ctr", std::vector<double>(st.creative_weight.size(), std::nan("")),
                                        rates_[best].Rate()};
    for (int cr : arms) evidence.observed[cr] = rates_[cr].Rate();
    estimators::SetCreativeWeights(
        st, campaign, w,
        "best creative " + snap.creative_names[campaign][best] + " ctr " + std::to_string(rates_[best].Rate()),
        evidence, actions);
  }

 private:
  // While exploring: each creative's discounted impressions against the
  // minimum that counts as tried.
  estimators::WeightEvidence Trials(const CampaignState& st) const {
    estimators::WeightEvidence evidence{"trials", std::vector<double>(st.creative_weight.size(), std::nan("")),
                                        kMinTrials};
    for (int cr = 0; cr < rates_.size() && cr < static_cast<int>(evidence.observed.size()); ++cr)
      evidence.observed[cr] = rates_[cr].trials;
    return evidence;
  }

  static constexpr double kMinTrials = 1.0;  // discounted impressions below which a creative counts as untried
  double epsilon_;
  estimators::CreativeClickRates rates_;
};

ADSIM_REGISTER_CONTROLLER(
    CreativeEpsilonGreedy, "creative_epsilon_greedy",
    "Epsilon-greedy creative testing: 1 - epsilon of the traffic to the creative with the best recent CTR.",
    NumberParam("epsilon", 0.1, "share of traffic spread evenly over all creatives (exploration)", 0, 1),
    NumberParam("half_life_hours", 12.0, "memory: evidence this many hours old weighs 1/2 (0 = no discounting)", 0,
                1e6));

}  // namespace
}  // namespace adsim::controllers

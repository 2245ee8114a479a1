// creative_ucb1: UCB1 creative testing on discounted counts (discounted UCB,
// Garivier and Moulines 2008). Each control cycle, over the unpaused
// creatives, with discounted clicks s_i and impressions n_i (evidence
// half_life_hours old weighs 1/2) and N = sum of n_i:
//   index_i = s_i / n_i + c * sqrt(2 ln(N) / n_i),
// and the whole next cycle's traffic goes to the creative with the largest
// index (weight 1, others 0; lowest index on ties). Creatives with fewer than
// one (discounted) impression come first, sharing the traffic evenly.
//
// Variant "tuned" (UCB1-Tuned, Auer, Cesa-Bianchi and Fischer 2002) scales the
// bonus by the click variance, which matters at click rates of a few percent,
// where the UCB1 bonus dwarfs the differences between creatives:
//   index_i = p_i + c * sqrt(ln(N) / n_i * min(1/4, p_i (1 - p_i) + sqrt(2 ln(N) / n_i))),
// with p_i = s_i / n_i.
#include <cmath>

#include "core/registry.h"
#include "strategies/lib/estimators.h"

namespace adsim::controllers {
namespace {

class CreativeUcb1 final : public Controller {
 public:
  explicit CreativeUcb1(const BuildContext& ctx)
      : c_(ctx.params.Number("c")),
        tuned_(ctx.params.String("variant") == "tuned"),
        rates_(0.0, 0.0,
               estimators::DiscountPerCycle(ctx.scenario->control_cycle, ctx.params.Number("half_life_hours"))) {}

  void OnCycle(const Snapshot& snap, int campaign, std::vector<Action>* actions) override {
    rates_.Update(snap, campaign);
    const CampaignState& st = snap.campaigns[campaign];
    const std::vector<int> arms = estimators::UnpausedCreatives(st);
    if (arms.empty()) return;
    std::vector<double> w = st.creative_weight;  // paused creatives keep theirs
    int untried = 0;
    double total = 0;
    for (int cr : arms) {
      untried += rates_[cr].trials < 1.0 ? 1 : 0;
      total += rates_[cr].trials;
    }
    if (untried > 0) {
      for (int cr : arms) w[cr] = rates_[cr].trials < 1.0 ? 1.0 : 0.0;
      // Each creative's discounted impressions against the minimum that counts as tried.
      estimators::WeightEvidence evidence{"trials", std::vector<double>(st.creative_weight.size(), std::nan("")), 1.0};
      for (int cr : arms) evidence.observed[cr] = rates_[cr].trials;
      estimators::SetCreativeWeights(st, campaign, w, "exploring untried creatives", evidence, actions);
      return;
    }
    const double log_n = std::log(std::max(total, 1.0));
    int best = arms[0];
    double best_index = -1;
    // Each creative's upper confidence index, against the best one's.
    estimators::WeightEvidence evidence{"ucb_index", std::vector<double>(st.creative_weight.size(), std::nan("")),
                                        std::nan("")};
    for (int cr : arms) {
      const double n = rates_[cr].trials;
      const double p = rates_[cr].Rate();
      const double bonus = tuned_ ? std::sqrt(log_n / n * std::min(0.25, p * (1 - p) + std::sqrt(2.0 * log_n / n)))
                                  : std::sqrt(2.0 * log_n / n);
      const double index = p + c_ * bonus;
      evidence.observed[cr] = index;
      if (index > best_index) {
        best_index = index;
        best = cr;
      }
    }
    for (int cr : arms) w[cr] = cr == best ? 1.0 : 0.0;
    evidence.threshold = best_index;
    estimators::SetCreativeWeights(
        st, campaign, w, "ucb index of " + snap.creative_names[campaign][best] + " " + std::to_string(best_index),
        evidence, actions);
  }

 private:
  double c_;
  bool tuned_;
  estimators::CreativeClickRates rates_;
};

ADSIM_REGISTER_CONTROLLER(
    CreativeUcb1, "creative_ucb1",
    "UCB1 creative testing on discounted counts: each cycle's traffic to the creative with the highest "
    "upper confidence bound.",
    NumberParam("c", 1.0, "scale of the exploration bonus c*sqrt(2 ln N / n)", 0, 100),
    StringParam("variant", "ucb1",
                "'ucb1' (bonus for rewards in [0, 1]) or 'tuned' (UCB1-Tuned: bonus scaled by the click variance)",
                {"ucb1", "tuned"}),
    NumberParam("half_life_hours", 12.0, "memory: evidence this many hours old weighs 1/2 (0 = no discounting)", 0,
                1e6));

}  // namespace
}  // namespace adsim::controllers

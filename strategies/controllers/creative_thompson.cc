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
//
// With `fatigue: exposure` (docs/strategies/bidders/fatigue.md) a creative's
// posterior is on its *fresh* click rate instead, from its clicks and its
// fatigue-adjusted impressions over the whole run on impression-billed
// channels (strategies/bidders/lib/fatigue_model.h, no discounting: the
// fatigue law explains the change), and each draw is multiplied by the
// creative's fatigue expected in the next cycle, so that a tired creative
// rests until it has recovered. A campaign without impression-billed
// channels has no clicks to fit the law on and keeps the discounted rates.
#include <algorithm>
#include <cmath>

#include "core/registry.h"
#include "strategies/bidders/lib/fatigue_model.h"
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
        stream_(ctx.stream_seed),
        prior_alpha_(ctx.params.Number("prior_alpha")),
        prior_beta_(ctx.params.Number("prior_beta")),
        fatigue_(ctx.params.String("fatigue") == "exposure"),
        click_billed_(valuation::ClickBilledChannels(*ctx.scenario)),
        impression_billed_(std::find(click_billed_.begin(), click_billed_.end(), false) != click_billed_.end()) {}

  void OnCycle(const Snapshot& snap, int campaign, std::vector<Action>* actions) override {
    rates_.Update(snap, campaign);
    const bool fatigue = fatigue_ && impression_billed_;
    if (fatigue) fatigue_model_.Update(snap, campaign, click_billed_);
    const CampaignState& st = snap.campaigns[campaign];
    const std::vector<int> arms = estimators::UnpausedCreatives(st);
    if (arms.empty()) return;
    const int k = static_cast<int>(arms.size());
    std::vector<double> wins(k, 0.0);
    for (int d = 0; d < draws_; ++d) {
      int best = 0;
      double best_p = -1;
      for (int i = 0; i < k; ++i) {
        const double p =
            fatigue ? estimators::BetaBinomial{prior_alpha_, prior_beta_, fatigue_model_.CreativeClicks(arms[i]),
                                               fatigue_model_.CreativeAdjustedImpressions(arms[i])}
                              .Sample(stream_.engine()) *
                          fatigue_model_.CreativeNextFatigue(arms[i])
                    : rates_[arms[i]].Sample(stream_.engine());
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
  double prior_alpha_, prior_beta_;
  bool fatigue_;
  std::vector<bool> click_billed_;  // per channel
  bool impression_billed_;          // some channel bills per impression
  valuation::ExposureFatigue fatigue_model_;
};

ADSIM_REGISTER_CONTROLLER(
    CreativeThompson, "creative_thompson",
    "Thompson sampling creative testing: each creative's share is its posterior probability of the best CTR.",
    NumberParam("prior_alpha", 1.0, "Beta prior pseudo-clicks", 1e-6, 1e9),
    NumberParam("prior_beta", 1.0, "Beta prior pseudo-non-clicks", 1e-6, 1e9),
    NumberParam("half_life_hours", 12.0, "memory: evidence this many hours old weighs 1/2 (0 = no discounting)", 0,
                1e6),
    NumberParam("draws", 1000, "joint posterior draws per cycle to estimate P(best)", 1, 1e6),
    NumberParam("min_share", 0.0, "smallest share of any unpaused creative (capped at 1/K)", 0, 1),
    StringParam("fatigue", "none",
                "exposure: each creative's posterior on its fresh click rate (clicks over fatigue-adjusted "
                "impressions, strategies/bidders/lib/fatigue_model.h) times its expected fatigue, so a tired "
                "creative rests; none: discounted click rates",
                {"none", "exposure"}));

}  // namespace
}  // namespace adsim::controllers

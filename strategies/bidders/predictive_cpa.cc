// predictive_cpa: bids on each user's predicted conversion probability, from
// a fitted model over the users' public features (docs/audiences.md):
//   pCVR(user) = sigmoid(intercept + coefficients . features(user))
//   impression-billed channel: bid = T * pCTR * pCVR(user)
//   click-billed channel:      bid = T * pCVR(user)
// The model is one of the scenario's `audiences` (param `model`): a lookalike
// fit (adsim.lookalike) gives exactly these coefficients, on the logit of the
// conversion probability after a click. T = the `target_cpa` parameter if > 0,
// else the campaign's goal value when its goal is a CPA. pCTR per channel x
// segment is the campaign's observed click rate with a Beta(ctr_alpha,
// ctr_beta) prior; a cell bids the base bid until it has min_impressions
// impressions. Without T, or for a request without features, it bids the base
// bid (like `fixed`). The model is given, not learned during the run: a bidder
// sees no per-user outcome.
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/registry.h"

namespace adsim::bidders {
namespace {

class PredictiveCpa final : public Bidder {
 public:
  explicit PredictiveCpa(const BuildContext& ctx)
      : target_(ctx.params.Number("target_cpa")),
        ctr_alpha_(ctx.params.Number("ctr_alpha")),
        ctr_beta_(ctx.params.Number("ctr_beta")),
        min_impressions_(ctx.params.Number("min_impressions")),
        num_segments_(static_cast<int>(ctx.scenario->segments.size())),
        ctr_(ctx.scenario->channels.size() * ctx.scenario->segments.size(), -1.0) {
    for (const auto& channel : ctx.scenario->channels) click_billed_.push_back(channel.billing == Billing::kClick);
    const std::string& model = ctx.params.String("model");
    if (model.empty()) return;
    std::vector<std::string> names;
    for (const AudienceSpec& audience : ctx.scenario->audiences) {
      names.push_back(audience.name);
      if (audience.name == model) {
        intercept_ = audience.intercept;
        coefficients_ = audience.coefficients;
      }
    }
    if (coefficients_.empty()) {
      std::string valid;
      for (const auto& name : names) valid += (valid.empty() ? "'" : ", '") + name + "'";
      throw ConfigError({{ctx.scenario->source_name, ctx.where + ".params.model", 0,
                          "the name of one of the scenario's audiences (its intercept and coefficients are the model)" +
                              (valid.empty() ? std::string(": the scenario has none") : ", one of " + valid),
                          "'" + model + "'"}});
    }
  }

  double Bid(const BidRequest& request, const CampaignState& state) override {
    const double target = target_ > 0 ? target_ : (state.goal == GoalKind::kCpa ? state.goal_value : 0.0);
    if (!(target > 0) || coefficients_.empty() || request.features == nullptr) return state.bid;
    double score = intercept_;
    for (size_t k = 0; k < coefficients_.size(); ++k) score += coefficients_[k] * request.features[k];
    const double conversion_probability =
        score >= 0 ? 1.0 / (1.0 + std::exp(-score)) : std::exp(score) / (1.0 + std::exp(score));
    if (click_billed_[request.channel]) return target * conversion_probability;
    const double ctr = ctr_[request.channel * num_segments_ + request.segment];
    if (ctr < 0) return state.bid;  // too few impressions yet
    return target * ctr * conversion_probability;
  }

  void OnCycle(const Snapshot& snap, int campaign) override {
    for (int channel = 0; channel < snap.num_channels; ++channel)
      for (int segment = 0; segment < snap.num_segments; ++segment) {
        double impressions = 0, clicks = 0;
        for (int creative = 0; creative < snap.num_creatives[campaign]; ++creative) {
          const ObservedStats& cell = snap.total[snap.Cell(campaign, channel, segment, creative)];
          impressions += static_cast<double>(cell.impressions);
          clicks += static_cast<double>(cell.clicks);
        }
        ctr_[channel * num_segments_ + segment] =
            impressions < min_impressions_ ? -1.0 : (ctr_alpha_ + clicks) / (ctr_alpha_ + ctr_beta_ + impressions);
      }
  }

 private:
  double target_, ctr_alpha_, ctr_beta_, min_impressions_;
  int num_segments_;
  double intercept_ = 0.0;
  std::vector<double> coefficients_;
  std::vector<double> ctr_;  // per channel x segment; -1 = not enough impressions
  std::vector<bool> click_billed_;
};

ADSIM_REGISTER_BIDDER(PredictiveCpa, "predictive_cpa",
                      "Bids target CPA x pCTR x the user's predicted conversion probability from a feature model.",
                      StringParam("model", "",
                                  "name of a scenario audience whose intercept and coefficients predict the logit of "
                                  "the user's conversion probability after a click; empty = bid the base bid"),
                      NumberParam("target_cpa", 0.0,
                                  "target cost per conversion, currency; 0 = the campaign's CPA goal", 0, 1e9),
                      NumberParam("ctr_alpha", 1.0, "Beta prior on the click rate: pseudo-clicks", 0, 1e9),
                      NumberParam("ctr_beta", 99.0, "Beta prior on the click rate: pseudo-non-clicks", 0, 1e9),
                      NumberParam("min_impressions", 100.0, "impressions a cell needs before it bids on pCTR", 0,
                                  1e12));

}  // namespace
}  // namespace adsim::bidders

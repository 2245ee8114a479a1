// value_rtb: the concave optimal real-time bid of Zhang, Yuan and Wang (2014,
// "Optimal real-time bidding for display advertising", ORTB1):
//   bid_per_impression = sqrt(c / lambda * theta + c^2) - c
// where theta is the expected KPI of the impression: its expected conversion
// value pCTR * pCVR * v (kpi "value") or its click probability pCTR (kpi
// "clicks"), c the market scale of the winning-price model w(b) = b / (c + b)
// (0 = the campaign's initial base bid) and lambda the Lagrange multiplier of
// the budget constraint (KPI per unit of spend). On click-billed channels the
// per-impression bid is divided by pCTR to bid per click.
//
// lambda may be adapted each cycle from pacing (pacing "even" or "traffic"):
//   e = target spend fraction of the daily budget so far - spend_today / daily
//   lambda <- clamp(lambda * exp(-lambda_gain * e), lambda / 1000, lambda * 1000 of the initial)
// (underspending lowers lambda and raises the bids); with no daily budget, or
// pacing "none", lambda stays at its parameter.
#include <algorithm>
#include <cmath>

#include "core/registry.h"
#include "strategies/bidders/lib/value_estimates.h"

namespace adsim::bidders {
namespace {

class ValueRtb final : public Bidder {
 public:
  explicit ValueRtb(const BuildContext& ctx)
      : model_(ctx),
        table_(ctx, ctx.params.Bool("follow_base_bid")),
        c_(ctx.params.Number("c") > 0 ? ctx.params.Number("c") : ctx.scenario->campaigns[ctx.campaign].bid),
        lambda0_(ctx.params.Number("lambda")),
        lambda_(lambda0_),
        gain_(ctx.params.Number("lambda_gain")),
        clicks_(ctx.params.String("kpi") == "clicks"),
        pacing_(ctx.params.String("pacing")) {
    valuation::ValueModel::RejectFatigue(ctx, "value_rtb");
  }

  double Bid(const BidRequest& request, const CampaignState& state) override {
    return table_.Get(request.channel, request.segment, state.bid);
  }

  void OnCycle(const Snapshot& snap, int campaign) override {
    model_.Update(snap, campaign);
    const CampaignState& st = snap.campaigns[campaign];
    if (pacing_ != "none" && std::isfinite(st.daily_budget) && st.daily_budget > 0 && snap.time > 0) {
      const double target = TargetSpendFraction(snap, model_.scenario(), campaign, pacing_ == "even");
      const double e = target - st.spend_today / st.daily_budget;
      lambda_ = std::clamp(lambda_ * std::exp(-gain_ * e), lambda0_ * 1e-3, lambda0_ * 1e3);
    }
    for (int ch = 0; ch < model_.num_channels(); ++ch)
      for (int s = 0; s < model_.num_segments(); ++s) {
        const valuation::CellEstimate& e = model_.at(ch, s);
        if (!e.ready || c_ <= 0) {
          table_.SetBaseBid(ch, s);
          continue;
        }
        const double theta = clicks_ ? e.ctr : e.ValuePerImpression();
        double b = std::sqrt(c_ / lambda_ * theta + c_ * c_) - c_;
        if (model_.ClickBilled(ch)) b = e.ctr > 0 ? b / e.ctr : 0.0;
        table_.SetValue(ch, s, b, model_.ExploreFloorShare(ch, s));
      }
  }

  double lambda() const { return lambda_; }

 private:
  valuation::ValueModel model_;
  valuation::BidTable table_;
  double c_, lambda0_, lambda_, gain_;
  bool clicks_;
  std::string pacing_;
};

ADSIM_REGISTER_BIDDER(
    ValueRtb, "value_rtb", "Concave optimal RTB bid sqrt(c/lambda x theta + c^2) - c (Zhang et al. 2014, ORTB1).",
    valuation::ValueParamSpecs(
        {NumberParam("c", 0.0, "market scale of the win curve b / (c + b), currency; 0 = the initial base bid", 0, 1e6),
         NumberParam("lambda", 1.0, "budget multiplier: KPI per unit of spend (value / currency, or clicks / currency)",
                     1e-12, 1e12),
         StringParam("kpi", "value", "theta: expected conversion 'value' per impression, or pCTR ('clicks')",
                     {"value", "clicks"}),
         StringParam("pacing", "none", "adapt lambda each cycle to pace the daily budget: 'none', 'even', 'traffic'",
                     {"none", "even", "traffic"}),
         NumberParam("lambda_gain", 2.0, "lambda *= exp(-gain x pacing error) per cycle", 0, 100)}));

}  // namespace
}  // namespace adsim::bidders

// target_cpa: bids so that the expected cost per conversion is the target:
//   impression-billed channel: bid = T * pCTR * pCVR   (pCVR per click)
//   click-billed channel:      bid = T * pCVR
// T = the `target_cpa` parameter if > 0, else the campaign's goal value when
// its goal is a CPA. Without either it bids the base bid (like `fixed`).
// Estimates as in value_linear (strategies/bidders/lib/value_estimates.h); a cell bids the
// base bid until it has min_impressions impressions and the campaign has at
// least one reported conversion.
#include "core/registry.h"
#include "strategies/bidders/lib/value_estimates.h"

namespace adsim::bidders {
namespace {

class TargetCpa final : public Bidder {
 public:
  explicit TargetCpa(const BuildContext& ctx)
      : model_(ctx), table_(ctx, ctx.params.Bool("follow_base_bid")), target_(ctx.params.Number("target_cpa")) {}

  double Bid(const BidRequest& request, const CampaignState& state) override {
    return table_.Get(request.channel, request.segment, state.bid) *
           model_.CreativeFactor(request.channel, request.segment, request.creative);
  }

  void OnCycle(const Snapshot& snap, int campaign) override {
    model_.Update(snap, campaign);
    const CampaignState& st = snap.campaigns[campaign];
    const double t = target_ > 0 ? target_ : (st.goal == GoalKind::kCpa ? st.goal_value : 0.0);
    for (int ch = 0; ch < model_.num_channels(); ++ch)
      for (int s = 0; s < model_.num_segments(); ++s) {
        if (t > 0 && model_.at(ch, s).ready)
          table_.SetValue(ch, s, t * model_.ConversionsPerBillingUnit(ch, s), model_.ExploreFloorShare(ch, s));
        else
          table_.SetBaseBid(ch, s);
      }
  }

 private:
  valuation::ValueModel model_;
  valuation::BidTable table_;
  double target_;
};

ADSIM_REGISTER_BIDDER(TargetCpa, "target_cpa",
                      "Bids target CPA x expected conversions per impression (per click on click-billed channels).",
                      valuation::ValueParamSpecs(
                          {NumberParam("target_cpa", 0.0,
                                       "target cost per conversion, currency; 0 = the campaign's CPA goal", 0, 1e9)}));

}  // namespace
}  // namespace adsim::bidders

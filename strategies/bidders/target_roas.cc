// target_roas: bids so that the expected return on ad spend is the target:
//   bid = expected conversion value per billing unit / R
// (pCTR * pCVR * v per impression, pCVR * v per click on click-billed
// channels). R = the `target_roas` parameter if > 0, else the campaign's goal
// value when its goal is a ROAS. Without either it bids the base bid (like
// `fixed`). Estimates as in value_linear (strategies/bidders/lib/value_estimates.h).
#include "core/registry.h"
#include "strategies/bidders/lib/value_estimates.h"

namespace adsim::bidders {
namespace {

class TargetRoas final : public Bidder {
 public:
  explicit TargetRoas(const BuildContext& ctx)
      : model_(ctx), table_(ctx, ctx.params.Bool("follow_base_bid")), target_(ctx.params.Number("target_roas")) {}

  double Bid(const BidRequest& request, const CampaignState& state) override {
    return table_.Get(request.channel, request.segment, state.bid) *
           model_.CreativeFactor(request.channel, request.segment, request.creative);
  }

  void OnCycle(const Snapshot& snap, int campaign) override {
    model_.Update(snap, campaign);
    const CampaignState& st = snap.campaigns[campaign];
    const double r = target_ > 0 ? target_ : (st.goal == GoalKind::kRoas ? st.goal_value : 0.0);
    for (int ch = 0; ch < model_.num_channels(); ++ch)
      for (int s = 0; s < model_.num_segments(); ++s) {
        if (r > 0 && model_.at(ch, s).ready)
          table_.SetValue(ch, s, model_.ValuePerBillingUnit(ch, s) / r, model_.ExploreFloorShare(ch, s));
        else
          table_.SetBaseBid(ch, s);
      }
  }

 private:
  valuation::ValueModel model_;
  valuation::BidTable table_;
  double target_;
};

ADSIM_REGISTER_BIDDER(
    TargetRoas, "target_roas",
    "Bids expected conversion value per impression (per click on click-billed channels) / target ROAS.",
    valuation::ValueParamSpecs({NumberParam(
        "target_roas", 0.0, "target conversion value per unit of spend; 0 = the campaign's ROAS goal", 0, 1e9)}));

}  // namespace
}  // namespace adsim::bidders

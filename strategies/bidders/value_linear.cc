// value_linear: bids the expected conversion value of an opportunity, per
// billing unit, times `scale`:
//   impression-billed channel: bid = pCTR * pCVR * v * scale
//   click-billed channel:      bid = pCVR * v * scale
// with pCTR, pCVR (corrected for conversions not yet reported) and the mean
// conversion value v estimated per (channel, segment) from the snapshot's
// observed counters (strategies/bidders/lib/value_estimates.h), refreshed each cycle.
// A cell bids the campaign's base bid until it has min_impressions
// impressions and the campaign has at least one reported conversion.
#include "core/registry.h"
#include "strategies/bidders/lib/value_estimates.h"

namespace adsim::bidders {
namespace {

class ValueLinear final : public Bidder {
 public:
  explicit ValueLinear(const BuildContext& ctx)
      : model_(ctx), table_(ctx, ctx.params.Bool("follow_base_bid")), scale_(ctx.params.Number("scale")) {}

  double Bid(const BidRequest& request, const CampaignState& state) override {
    return table_.Get(request.channel, request.segment, state.bid) *
           model_.CreativeFactor(request.channel, request.segment, request.creative);
  }

  void OnCycle(const Snapshot& snap, int campaign) override {
    model_.Update(snap, campaign);
    for (int ch = 0; ch < model_.num_channels(); ++ch)
      for (int s = 0; s < model_.num_segments(); ++s) {
        if (model_.at(ch, s).ready)
          table_.SetValue(ch, s, scale_ * model_.ValuePerBillingUnit(ch, s), model_.ExploreFloorShare(ch, s));
        else
          table_.SetBaseBid(ch, s);
      }
  }

 private:
  valuation::ValueModel model_;
  valuation::BidTable table_;
  double scale_;
};

ADSIM_REGISTER_BIDDER(ValueLinear, "value_linear",
                      "Bids scale x expected conversion value per impression (per click on click-billed channels).",
                      valuation::ValueParamSpecs({NumberParam("scale", 1.0, "multiplier on the expected value", 0,
                                                              1e6)}));

}  // namespace
}  // namespace adsim::bidders

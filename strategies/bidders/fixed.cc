// fixed: bids the campaign's base bid (times the segment modifier, which the
// engine applies). The static baseline every other bidder is compared with.
#include "core/registry.h"

namespace adsim::bidders {
namespace {

class FixedBidder final : public Bidder {
 public:
  double Bid(const BidRequest&, const CampaignState& state) override { return state.bid; }
};

ADSIM_REGISTER_BIDDER(FixedBidder, "fixed", "Bids the campaign's base bid on every eligible opportunity.");

}  // namespace
}  // namespace adsim::bidders

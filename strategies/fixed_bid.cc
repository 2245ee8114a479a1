// fixed: bids the campaign's base bid (times the segment modifier, which the
// engine applies). The static baseline every other bidder is compared with.
#include "core/registry.h"

namespace adsim {
namespace {

class FixedBidder final : public Bidder {
 public:
  double Bid(const BidRequest&, const CampaignState& state) override { return state.bid; }
};

const Registration kFixed({
    .name = "fixed",
    .kind = ComponentKind::kBidder,
    .description = "Bids the campaign's base bid on every eligible opportunity.",
    .params = {},
    .campaign_scoped = true,
    .origin = "C++",
    .make_bidder = [](const BuildContext&) -> std::unique_ptr<Bidder> { return std::make_unique<FixedBidder>(); },
    .make_controller = nullptr,
});

}  // namespace
}  // namespace adsim

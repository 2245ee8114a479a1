// bid_shading: on first-price channels, bids a shaded share of the expected
// value of the opportunity, the share learned from the win rates observed at
// the bids it placed; on second-price and GSP channels it bids the value.
//
// Value per billing unit V = scale * pCTR * pCVR * v (per click on
// click-billed channels: scale * pCVR * v), as in value_linear
// (strategies/bidders/lib/value_estimates.h). Per first-price (channel, segment) cell it
// keeps, for the last `window_cycles` cycles, the bid it placed b_k (its bid
// times the segment modifier in force), the bids n_k and the wins w_k, and fits
//   P(win | b) = 1 / (1 + exp(-(alpha + beta * (log b - mean log b))))
// by maximum a posteriori with weak normal priors alpha ~ N(0, 10^2),
// beta ~ N(3, 3^2) that keep the fit defined when every bid won or lost (the
// project's Eigen logistic regression, strategies/bidders/lib/win_curve.h).
// The shade is then
//   s* = argmax over s in [0.02, 0.99] of (1 - s) * P(win | s * V)
// (the expected surplus (V - b) P(win | b) divided by V), found by Boost.Math's
// Brent minimiser. So that the fit sees
// more than one bid level, the bid of cycle i is multiplied by
// exp(explore * z_i), z_i cycling through 0, +1, -1, and capped at V. Before
// the cell has min_bids bids in the window, s = initial_shade.
#include <algorithm>
#include <cmath>

#include "core/registry.h"
#include "strategies/bidders/lib/value_estimates.h"
#include "strategies/bidders/lib/win_curve.h"

namespace adsim::bidders {
namespace {

class BidShading final : public Bidder {
 public:
  explicit BidShading(const BuildContext& ctx)
      : model_(ctx),
        table_(ctx, ctx.params.Bool("follow_base_bid")),
        scale_(ctx.params.Number("scale")),
        initial_shade_(ctx.params.Number("initial_shade")),
        explore_(ctx.params.Number("explore")),
        min_bids_(ctx.params.Number("min_bids")),
        window_(static_cast<int>(ctx.params.Number("window_cycles"))),
        ns_(model_.num_segments()),
        history_(static_cast<size_t>(model_.num_channels() * ns_)),
        next_(history_.size(), 0),
        shade_(history_.size(), initial_shade_) {
    valuation::ValueModel::RejectFatigue(ctx, "bid_shading");
    for (auto& h : history_) h.reserve(window_);
  }

  double Bid(const BidRequest& request, const CampaignState& state) override {
    return table_.Get(request.channel, request.segment, state.bid);
  }

  void OnCycle(const Snapshot& snap, int campaign) override {
    model_.Update(snap, campaign);
    const CampaignState& st = snap.campaigns[campaign];
    const int nk = snap.num_creatives[campaign];
    static constexpr double kZ[3] = {0.0, 1.0, -1.0};
    const double explore = std::exp(explore_ * kZ[cycle_ % 3]);
    ++cycle_;
    for (int ch = 0; ch < model_.num_channels(); ++ch)
      for (int s = 0; s < ns_; ++s) {
        const int k = ch * ns_ + s;
        const valuation::CellEstimate& e = model_.at(ch, s);
        if (!e.ready) {
          table_.SetBaseBid(ch, s);
          continue;
        }
        const double value = scale_ * model_.ValuePerBillingUnit(ch, s);
        if (!model_.FirstPrice(ch)) {
          table_.SetValue(ch, s, value);
          continue;
        }
        // What the last cycle bid in this cell and won with it.
        double bids = 0, wins = 0;
        for (int cr = 0; cr < nk; ++cr) {
          const ObservedStats& o = snap.last_cycle[snap.Cell(campaign, ch, s, cr)];
          bids += static_cast<double>(o.bids);
          wins += static_cast<double>(o.impressions);
        }
        const double modifier = s < static_cast<int>(st.segment_modifier.size()) ? st.segment_modifier[s] : 1.0;
        const double placed = table_.Get(ch, s, st.bid) * modifier;
        if (bids > 0 && placed > 0) Record(k, {std::log(placed), bids, wins});
        if (modifier > 0) shade_[k] = FitShade(k, value * modifier);
        table_.SetValue(ch, s, std::min(value, shade_[k] * value * explore));
      }
  }

 private:
  void Record(int k, WinObservation o) {
    auto& h = history_[k];
    if (static_cast<int>(h.size()) < window_) {
      h.push_back(o);
    } else {
      h[next_[k]] = o;
      next_[k] = (next_[k] + 1) % window_;
    }
  }

  // The surplus-maximising shade for value `value` (in placed-bid units),
  // or initial_shade while the window holds fewer than min_bids bids.
  double FitShade(int k, double value) const {
    const auto& h = history_[k];
    double n_total = 0;
    for (const auto& o : h) n_total += o.bids;
    if (n_total < min_bids_ || n_total <= 0) return initial_shade_;
    return BestShade(FitWinCurve(h), value, kLowestShade, kHighestShade);
  }

  static constexpr double kLowestShade = 0.02, kHighestShade = 0.99;
  valuation::ValueModel model_;
  valuation::BidTable table_;
  double scale_, initial_shade_, explore_, min_bids_;
  int window_, ns_;
  std::vector<std::vector<WinObservation>> history_;
  std::vector<int> next_;
  std::vector<double> shade_;
  int cycle_ = 0;
};

ADSIM_REGISTER_BIDDER(
    BidShading, "bid_shading",
    "First-price bid shading: bids the share of the value that maximises (value - bid) x P(win | bid).",
    valuation::ValueParamSpecs(
        {NumberParam("scale", 1.0, "multiplier on the expected value", 0, 1e6),
         NumberParam("initial_shade", 0.7, "share of the value bid before the win curve is fitted", 0.01, 1),
         NumberParam("explore", 0.15, "log-amplitude of the per-cycle bid perturbation (0, +x, -x)", 0, 2),
         NumberParam("min_bids", 200, "bids in the window before the win curve is fitted", 1, 1e12),
         NumberParam("window_cycles", 24, "cycles of (bid, bids, wins) kept per cell for the fit", 3, 10000)}));

}  // namespace
}  // namespace adsim::bidders

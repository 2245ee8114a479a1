// The budget rule: spend never exceeds a campaign's daily or total budget,
// whatever the strategy bids. Unit checks of the ledger, then a property test
// over many randomized scenarios with an adversarial bidder.
#include "core/ledger.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "core/registry.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

TEST(Ledger, RemainingIsTheTighterBudget) {
  Ledger l;
  EXPECT_EQ(l.Remaining(), Ledger::kUnlimited);
  l.SetDailyBudget(100);
  l.SetTotalBudget(250);
  EXPECT_EQ(l.Remaining(), 100);
  l.Charge(100);
  EXPECT_EQ(l.Remaining(), 0);
  EXPECT_THROW(l.Charge(1), InvariantError);
  l.StartDay();
  l.Charge(100);
  l.StartDay();
  EXPECT_EQ(l.Remaining(), 50);  // the total binds now
  l.Charge(50);
  EXPECT_EQ(l.spend_total(), 250);
  EXPECT_EQ(l.Remaining(), 0);
}

TEST(Ledger, LoweringABudgetBelowSpendLeavesNothingRemaining) {
  Ledger l;
  l.SetDailyBudget(100);
  l.Charge(80);
  l.SetDailyBudget(50);
  EXPECT_EQ(l.Remaining(), 0);
  EXPECT_THROW(l.Charge(1), InvariantError);
  EXPECT_THROW(l.Charge(-1), InvariantError);
}

// Bids anything: zero, negative, NaN, infinite, tiny and enormous values.
class Adversarial final : public Bidder {
 public:
  explicit Adversarial(int campaign) : rng_(static_cast<uint64_t>(campaign) * 7919 + 1) {}
  double Bid(const BidRequest&, const CampaignState& state) override {
    switch (rng_() % 8) {
      case 0:
        return 0.0;
      case 1:
        return -1.0;
      case 2:
        return std::nan("");
      case 3:
        return INFINITY;
      case 4:
        return 1e9;
      case 5:
        return state.bid * 1000;
      default:
        return state.bid * std::exp(std::normal_distribution<double>(0, 1)(rng_));
    }
  }

 private:
  std::mt19937_64 rng_;
};
const Registration kAdversarial({.name = "test_adversarial",
                                 .kind = ComponentKind::kBidder,
                                 .description = "test: bids anything",
                                 .params = {},
                                 .campaign_scoped = true,
                                 .origin = "C++",
                                 .make_bidder = [](const BuildContext& ctx) -> std::unique_ptr<Bidder> {
                                   return std::make_unique<Adversarial>(ctx.campaign);
                                 },
                                 .make_controller = nullptr});

std::string RandomScenario(std::mt19937_64& rng, int index) {
  auto pick = [&rng](std::initializer_list<const char*> xs) { return *(xs.begin() + rng() % xs.size()); };
  auto unif = [&rng](double lo, double hi) { return lo + (hi - lo) * std::uniform_real_distribution<double>()(rng); };
  std::ostringstream os;
  os << "name: random" << index << "\nseed: " << rng() % 1000000 << "\nduration: " << pick({"1d", "2d", "36h"})
     << "\nstart: '2026-03-0" << 1 + rng() % 7 << "T" << (rng() % 2 ? "00" : "09") << ":00:00'"
     << "\nbucket: 1h\ncontrol_cycle: " << pick({"15m", "1h"}) << "\nchannels:\n";
  const int nch = 1 + static_cast<int>(rng() % 2);
  for (int c = 0; c < nch; ++c) {
    const std::string auction = pick({"second_price", "first_price", "gsp"});
    os << "  - name: ch" << c
       << "\n    auction: " << (auction == std::string("gsp") ? "{type: gsp, slots: 2}" : auction)
       << "\n    billing: " << pick({"impression", "click"}) << "\n    floor: " << unif(0, 0.01)
       << "\n    traffic: {per_hour: " << unif(500, 3000) << "}\n    competition: {competitors: " << 1 + rng() % 6
       << ", median: " << unif(0.001, 0.05) << ", sigma: " << unif(0.1, 1.0) << "}\n";
  }
  os << "segments:\n";
  for (int s = 0; s < 2; ++s)
    os << "  - {name: s" << s << ", users: 500, ctr: " << unif(0.01, 0.2) << ", cvr: 0.1, "
       << "conversion_delay: {distribution: exponential, mean: 1h}}\n";
  os << "guardrails: {max_bid: 1e9}\ncampaigns:\n";
  const int ncamp = 1 + static_cast<int>(rng() % 3);
  for (int c = 0; c < ncamp; ++c) {
    os << "  - name: k" << c << "\n    bid: " << unif(0.001, 0.2)
       << "\n    bidder: " << pick({"test_adversarial", "test_adversarial", "fixed"}) << "\n    budget: {";
    const int kind = static_cast<int>(rng() % 3);
    if (kind != 1) os << "daily: " << unif(0.5, 20);
    if (kind == 2) os << ", ";
    if (kind != 0) os << "total: " << unif(1, 30);
    os << "}\n";
    if (rng() % 2) os << "    controllers: [pid_pacing]\n";
  }
  return os.str();
}

TEST(LedgerProperty, NoScenarioAndNoBidderCanOverspend) {
  std::mt19937_64 rng(20261124);
  int days_at_budget = 0, totals_at_budget = 0, day_rows = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string text = RandomScenario(rng, i);
    SCOPED_TRACE(text);
    Results r;
    ASSERT_NO_THROW(r = RunScenario(ParseScenario(text, "random.yaml")));  // InvariantError would be an overspend
    const auto& daily = test::Col<double>(r, "daily", "daily_budget");
    const auto& max_daily = test::Col<double>(r, "daily", "max_daily_budget");
    const auto& total = test::Col<double>(r, "daily", "total_budget");
    const auto& spend = test::Col<double>(r, "daily", "spend");
    const auto& spend_total = test::Col<double>(r, "daily", "spend_total");
    for (size_t d = 0; d < spend.size(); ++d) {
      ++day_rows;
      if (max_daily[d] > 0) {
        EXPECT_LE(spend[d], max_daily[d]);
        days_at_budget += spend[d] >= 0.99 * daily[d];
      }
      if (total[d] > 0) {
        EXPECT_LE(spend_total[d], total[d]);
        totals_at_budget += spend_total[d] >= 0.99 * total[d];
      }
    }
  }
  // The property is only meaningful if budgets actually bind often.
  EXPECT_GT(days_at_budget, day_rows / 10);
  EXPECT_GT(totals_at_budget, 10);
}

}  // namespace
}  // namespace adsim

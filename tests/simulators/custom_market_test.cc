// The engine runs on any Market: a replay of fixed opportunities (what a
// log-replay market will do) plugs in through RunOptions::make_market.
#include <gtest/gtest.h>

#include "simulators/market.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

class VectorMarket final : public Market {
 public:
  explicit VectorMarket(std::vector<Opportunity> opps) : opps_(std::move(opps)) {}
  size_t Generate(SimTime until, Opportunity* out, size_t max) override {
    size_t n = 0;
    while (n < max && next_ < opps_.size() && opps_[next_].time < until) out[n++] = opps_[next_++];
    return n;
  }
  void OnConditionsChanged(SimTime, const MarketConditions&) override {}

 private:
  std::vector<Opportunity> opps_;
  size_t next_ = 0;
};

TEST(CustomMarket, EngineReplaysGivenOpportunitiesExactly) {
  // One display campaign bidding 0.003 in second price; competing bids
  // alternate 0.001 (we win, pay 0.001) and 0.005 (we lose). The segment's
  // true click rate is 1 and its conversion rate 0: every impression is
  // clicked and none converts.
  std::vector<Opportunity> opps;
  for (int i = 0; i < 1000; ++i) {
    Opportunity o{};
    o.time = static_cast<SimTime>(i) * 10 * kMicrosPerSecond;
    o.channel = 0;
    o.segment = 0;
    o.user = i % 7;
    o.response_key = static_cast<uint64_t>(i);
    o.competing[0] = i % 2 == 0 ? 0.001 : 0.005;
    opps.push_back(o);
  }
  std::string text = test::SmallScenario();
  text.replace(text.find("creatives: [x, y]"), 17, "channels: [display]\n    segments: [a]");
  text.replace(text.find("propensity_sigma: 0.4, ctr: 0.02, cvr: 0.2"), 42, "ctr: 1, cvr: 0");
  const Scenario sc = test::Parse(text);
  RunOptions opt;
  opt.make_market = [&opps](const Scenario&, uint64_t) { return std::make_unique<VectorMarket>(opps); };
  const Results r = RunScenario(sc, opt);
  EXPECT_EQ(r.int_attrs.at("opportunities"), 1000);
  int64_t opp = 0, wins = 0, clicks = 0;
  double spend = 0;
  const auto& camp = test::Col<int64_t>(r, "aggregates", "campaign");
  for (size_t i = 0; i < camp.size(); ++i) {
    if (camp[i] != 0) continue;
    opp += test::Col<int64_t>(r, "aggregates", "opportunities")[i];
    wins += test::Col<int64_t>(r, "aggregates", "wins")[i];
    clicks += test::Col<int64_t>(r, "aggregates", "clicks")[i];
    spend += test::Col<double>(r, "aggregates", "spend")[i];
  }
  EXPECT_EQ(opp, 1000);
  EXPECT_EQ(wins, 500);
  EXPECT_EQ(clicks, 500);
  EXPECT_NEAR(spend, 500 * 0.001, 1e-9);
}

}  // namespace
}  // namespace adsim

// The engine runs on any registered market: this test binary registers a
// replay of fixed opportunities (what a log-replay market will do) under its
// own name, and a scenario selects it with `market:`; an unknown name is an
// error naming the field and the registered markets.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/market.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

// 1000 opportunities, one every 10 s on channel 0, segment 0; the highest
// competing bid alternates 0.001 (a bid of 0.003 wins, pays 0.001) and 0.005
// (it loses).
class AlternatingReplayMarket final : public Market {
 public:
  AlternatingReplayMarket(const Scenario&, uint64_t) {
    for (int i = 0; i < 1000; ++i) {
      Opportunity o{};
      o.time = static_cast<SimTime>(i) * 10 * kMicrosPerSecond;
      o.channel = 0;
      o.segment = 0;
      o.user = i % 7;
      o.response_key = static_cast<uint64_t>(i);
      o.competing[0] = i % 2 == 0 ? 0.001 : 0.005;
      opportunities_.push_back(o);
    }
  }
  size_t Generate(SimTime until, Opportunity* out, size_t max) override {
    size_t n = 0;
    while (n < max && next_ < opportunities_.size() && opportunities_[next_].time < until)
      out[n++] = opportunities_[next_++];
    return n;
  }
  void OnConditionsChanged(SimTime, const MarketConditions&) override {}

 private:
  std::vector<Opportunity> opportunities_;
  size_t next_ = 0;
};

ADSIM_REGISTER_MARKET("alternating_replay", "test: 1000 fixed opportunities, competing bids 0.001 and 0.005",
                      AlternatingReplayMarket);

// The small scenario, reduced to one display campaign on segment a, whose
// true click rate is 1 and conversion rate 0, plus `extra` top-level lines.
std::string ReplayScenario(const std::string& extra) {
  std::string text = extra + test::SmallScenario();
  text.replace(text.find("creatives: [x, y]"), 17, "channels: [display]\n    segments: [a]");
  text.replace(text.find("propensity_sigma: 0.4, ctr: 0.02, cvr: 0.2"), 42, "ctr: 1, cvr: 0");
  return text;
}

TEST(CustomMarket, EngineReplaysGivenOpportunitiesExactly) {
  // Every impression is clicked and none converts.
  const Scenario sc = test::Parse(ReplayScenario("market: alternating_replay\n"));
  EXPECT_EQ(sc.market, "alternating_replay");
  const Results r = RunScenario(sc);
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

TEST(CustomMarket, SyntheticIsRegisteredAndTheDefault) {
  const std::vector<std::string> names = MarketNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "synthetic"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "alternating_replay"), names.end());
  const Scenario implicit = test::Parse(ReplayScenario(""));
  EXPECT_EQ(implicit.market, "synthetic");
  // Naming the default explicitly changes nothing in the results.
  const Scenario explicit_synthetic = test::Parse(ReplayScenario("market: synthetic\n"));
  EXPECT_EQ(Fingerprint(RunScenario(implicit)), Fingerprint(RunScenario(explicit_synthetic)));
}

TEST(CustomMarket, UnknownMarketNamesTheFieldAndTheValidNames) {
  const auto issues = test::IssuesOf(ReplayScenario("market: log_replay\n"));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].file, "bad.yaml");
  EXPECT_EQ(issues[0].path, "market");
  EXPECT_EQ(issues[0].line, 1);
  EXPECT_NE(issues[0].expected.find("synthetic"), std::string::npos) << issues[0].expected;
  EXPECT_NE(issues[0].expected.find("alternating_replay"), std::string::npos) << issues[0].expected;
  EXPECT_NE(issues[0].found.find("log_replay"), std::string::npos) << issues[0].found;
}

TEST(CustomMarket, AScenarioBuiltInCodeWithAnUnknownMarketFailsToRun) {
  Scenario sc = test::Parse(ReplayScenario(""));
  sc.market = "nowhere";
  try {
    RunScenario(sc);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("market"), std::string::npos) << message;
    EXPECT_NE(message.find("'synthetic'"), std::string::npos) << message;
    EXPECT_NE(message.find("nowhere"), std::string::npos) << message;
  }
}

TEST(CustomMarket, ANameCanBeRegisteredOnlyOnce) {
  EXPECT_THROW(RegisterMarket({"synthetic", "again",
                               [](const Scenario& sc, uint64_t seed) {
                                 return std::unique_ptr<Market>(std::make_unique<AlternatingReplayMarket>(sc, seed));
                               }}),
               ConfigError);
  EXPECT_THROW(RegisterMarket({"", "no name", nullptr}), ConfigError);
}

}  // namespace
}  // namespace adsim

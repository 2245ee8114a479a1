// Funnel (docs/funnel.md): the `funnel:` block's validation, the stage rates
// the `funnel` table measures against the configured ones (within standard
// errors, fixed seeds), a funnel stage shock lowering its stage and no other,
// and the funnel_bottleneck monitor naming the shocked stage. That scenarios
// without the block are unchanged is pinned by the golden digests (Golden.*).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include "tests/core/test_util.h"

namespace adsim {
namespace {

// Two channels, two segments, one campaign with two creatives that wins most
// auctions (bid far above the competitors), no budget; `extra` is appended at
// the top level (funnel, shocks, monitors).
std::string FunnelScenario(const std::string& extra, const std::string& duration = "1d") {
  return "name: funnel\nseed: 5\nduration: " + duration +
         "\nbucket: 1h\ncontrol_cycle: 15m\n"
         "channels:\n"
         "  - name: display\n    traffic: {per_hour: 40000}\n"
         "    competition: {competitors: 3, median: 0.001, sigma: 0.3}\n"
         "  - name: search\n    traffic: {per_hour: 20000}\n"
         "    competition: {competitors: 3, median: 0.001, sigma: 0.3}\n"
         "segments:\n"
         "  - {name: s, users: 100000, ctr: 0.05, cvr: 0.5, "
         "conversion_delay: {distribution: exponential, mean: 20m}}\n"
         "  - {name: t, users: 100000, ctr: 0.03, cvr: 0.5, "
         "conversion_delay: {distribution: exponential, mean: 20m}}\n"
         "campaigns:\n  - name: k\n    bid: 0.02\n    creatives: [a, b]\n" +
         extra;
}

const std::string kFunnel =
    "funnel:\n"
    "  rates:\n"
    "    s: {visit: 0.8, cart: 0.3, purchase: 0.5}\n"
    "    t: {visit: 0.6, cart: 0.2, purchase: 0.4}\n"
    "  channels:\n    search: {visit: 0.5}\n"
    "  creatives:\n    k/b: {cart: 1.5}\n";

// Stage counts summed over the funnel table's rows that pass `keep`.
struct Counts {
  double impressions = 0, clicks = 0, visits = 0, carts = 0, purchases = 0;
};
template <class Keep>
Counts Sum(const Results& r, Keep keep) {
  const auto& bucket = test::Col<int64_t>(r, "funnel", "bucket_start");
  const auto& channel = test::Col<int64_t>(r, "funnel", "channel");
  const auto& segment = test::Col<int64_t>(r, "funnel", "segment");
  const auto& creative = test::Col<int64_t>(r, "funnel", "creative");
  const auto& impressions = test::Col<int64_t>(r, "funnel", "impressions");
  const auto& clicks = test::Col<int64_t>(r, "funnel", "clicks");
  const auto& visits = test::Col<int64_t>(r, "funnel", "visits");
  const auto& carts = test::Col<int64_t>(r, "funnel", "carts");
  const auto& purchases = test::Col<int64_t>(r, "funnel", "purchases");
  Counts counts;
  for (size_t i = 0; i < bucket.size(); ++i) {
    if (!keep(bucket[i], channel[i], segment[i], creative[i])) continue;
    counts.impressions += static_cast<double>(impressions[i]);
    counts.clicks += static_cast<double>(clicks[i]);
    counts.visits += static_cast<double>(visits[i]);
    counts.carts += static_cast<double>(carts[i]);
    counts.purchases += static_cast<double>(purchases[i]);
  }
  return counts;
}

// A binomial proportion k/n against p: within 4 standard errors sqrt(p(1-p)/n)
// (n >= 150 trials, so that the normal approximation holds for these p).
void ExpectRate(double k, double n, double p, const std::string& what) {
  ASSERT_GE(n, 150) << what << ": too few trials to test";
  EXPECT_NEAR(k / n, p, 4 * std::sqrt(p * (1 - p) / n)) << what << " (" << k << " of " << n << ")";
}

TEST(Funnel, ValidationNamesTheField) {
  const auto issues = test::IssuesOf(FunnelScenario(
      "funnel:\n  rates:\n    s: {visit: 1.5, cart: 0.3}\n    nobody: {visit: 0.5, cart: 0.5, purchase: 0.5}\n"
      "  channels:\n    tv: {visit: 0.5}\n    display: {checkout: 2}\n"
      "  creatives:\n    k/c: {cart: 2}\n"));
  std::map<std::string, std::string> by_path;
  for (const ConfigIssue& issue : issues) by_path[issue.path] = issue.expected + " / " + issue.found;
  EXPECT_TRUE(by_path.count("funnel.rates.s.visit")) << "a probability above 1";
  EXPECT_TRUE(by_path.count("funnel.rates.s.purchase")) << "a required stage missing";
  EXPECT_TRUE(by_path.count("funnel.rates.nobody")) << "unknown segment";
  EXPECT_TRUE(by_path.count("funnel.rates.t")) << "a segment without rates";
  EXPECT_TRUE(by_path.count("funnel.channels.tv")) << "unknown channel";
  EXPECT_TRUE(by_path.count("funnel.channels.display.checkout")) << "unknown stage";
  EXPECT_TRUE(by_path.count("funnel.creatives.k/c")) << "unknown campaign/creative";
  EXPECT_NE(by_path["funnel.channels.tv"].find("display"), std::string::npos) << "lists the valid channels";
  EXPECT_NE(by_path["funnel.creatives.k/c"].find("k/a"), std::string::npos) << "lists the valid creatives";
  // A stage shock needs a funnel; a funnel goes with journeys (journeys_test.cc, JourneysWithAFunnel).
  const auto shock_issues =
      test::IssuesOf(FunnelScenario("shocks: [{start: 1h, end: 2h, multiply: {cart: 0.5}}]\n"
                                    "journeys: {baseline: {s: 0.01}}\n"));
  bool named_shock = false;
  for (const ConfigIssue& issue : shock_issues) named_shock |= issue.path == "shocks[0].multiply.cart";
  EXPECT_TRUE(named_shock) << "a cart shock without a funnel names shocks[0].multiply.cart";
  EXPECT_NO_THROW(test::Parse(FunnelScenario(kFunnel + "journeys: {baseline: {s: 0.01}}\n")))
      << "a funnel with journeys is valid";
}

TEST(Funnel, WithoutTheBlockThereIsNoFunnelTableOrColumn) {
  const Results r = RunScenario(test::Parse(FunnelScenario("", "2h")));
  EXPECT_EQ(r.Find("funnel"), nullptr);
  EXPECT_EQ(r.Find("truth_rates")->Find("cart_rate"), nullptr);
  EXPECT_EQ(r.Find("truth_shocks")->Find("cart"), nullptr);
}

// Each stage is a Bernoulli draw with the configured rate given the stage
// before: rate = segment rate x channel multiplier x creative multiplier
// (search halves visit; creative b multiplies cart by 1.5), so per (channel,
// segment, creative) the funnel table's ratios are binomial proportions of
// those rates. The truth table's cvr is their product.
TEST(Funnel, StageRatesMatchTheConfiguredOnes) {
  const Results r = RunScenario(test::Parse(FunnelScenario(kFunnel)));
  const std::array<std::array<double, 3>, 2> rates = {{{0.8, 0.3, 0.5}, {0.6, 0.2, 0.4}}};
  for (int channel = 0; channel < 2; ++channel)
    for (int segment = 0; segment < 2; ++segment)
      for (int creative = 0; creative < 2; ++creative) {
        const Counts c = Sum(r, [&](int64_t, int64_t ch, int64_t sg, int64_t cr) {
          return ch == channel && sg == segment && cr == creative;
        });
        const std::string where = "channel " + std::to_string(channel) + " segment " + std::to_string(segment) +
                                  " creative " + std::to_string(creative);
        const double visit = rates[segment][0] * (channel == 1 ? 0.5 : 1.0);
        const double cart = rates[segment][1] * (creative == 1 ? 1.5 : 1.0);
        const double purchase = rates[segment][2];
        ExpectRate(c.visits, c.clicks, visit, where + " visit");
        ExpectRate(c.carts, c.visits, cart, where + " cart");
        ExpectRate(c.purchases, c.carts, purchase, where + " purchase");
      }
  // truth_rates: the stage rates and cvr = their product, per cell.
  const auto& channel = test::Col<int64_t>(r, "truth_rates", "channel");
  const auto& segment = test::Col<int64_t>(r, "truth_rates", "segment");
  const auto& creative = test::Col<int64_t>(r, "truth_rates", "creative");
  const auto& cvr = test::Col<double>(r, "truth_rates", "cvr");
  const auto& cart_rate = test::Col<double>(r, "truth_rates", "cart_rate");
  for (size_t i = 0; i < cvr.size(); ++i) {
    const double visit = rates[segment[i]][0] * (channel[i] == 1 ? 0.5 : 1.0);
    const double cart = rates[segment[i]][1] * (creative[i] == 1 ? 1.5 : 1.0);
    EXPECT_DOUBLE_EQ(cart_rate[i], cart);
    EXPECT_DOUBLE_EQ(cvr[i], visit * cart * rates[segment[i]][2]);
  }
  // The purchases are the conversions (truth), reported or not.
  const Counts all = Sum(r, [](int64_t, int64_t, int64_t, int64_t) { return true; });
  EXPECT_EQ(static_cast<size_t>(all.purchases), test::Col<int64_t>(r, "conversions", "campaign").size());
}

// A cart shock of 0.5 on display from 8h to 16h: there, cart/visit is half
// its rate; visit/click and purchase/cart keep theirs (a stage shock moves
// its stage only); search and the hours outside keep every rate.
TEST(Funnel, StageShockLowersItsStageOnly) {
  const Results r = RunScenario(test::Parse(FunnelScenario(
      kFunnel + "shocks: [{name: cart_drop, start: 8h, end: 16h, channels: [display], multiply: {cart: 0.5}}]\n")));
  const auto in_shock = [](int64_t bucket) { return bucket >= 8 * kMicrosPerHour && bucket < 16 * kMicrosPerHour; };
  // Segment s, creative a: visit 0.8, cart 0.3, purchase 0.5.
  const Counts shocked = Sum(
      r, [&](int64_t b, int64_t ch, int64_t sg, int64_t cr) { return in_shock(b) && ch == 0 && sg == 0 && cr == 0; });
  ExpectRate(shocked.carts, shocked.visits, 0.3 * 0.5, "cart during the shock");
  ExpectRate(shocked.visits, shocked.clicks, 0.8, "visit during the shock");
  ExpectRate(shocked.purchases, shocked.carts, 0.5, "purchase during the shock");
  const Counts outside = Sum(
      r, [&](int64_t b, int64_t ch, int64_t sg, int64_t cr) { return !in_shock(b) && ch == 0 && sg == 0 && cr == 0; });
  ExpectRate(outside.carts, outside.visits, 0.3, "cart outside the shock");
  const Counts search = Sum(
      r, [&](int64_t b, int64_t ch, int64_t sg, int64_t cr) { return in_shock(b) && ch == 1 && sg == 0 && cr == 0; });
  ExpectRate(search.carts, search.visits, 0.3, "cart on search during the shock");
  // Recorded like the other shocks, with its stage multipliers.
  EXPECT_EQ(test::Col<double>(r, "truth_shocks", "cart")[0], 0.5);
  EXPECT_EQ(test::Col<double>(r, "truth_shocks", "visit")[0], 1.0);
}

// funnel_bottleneck on three shocks of different stages, channels and times:
// each is detected by an alert naming its stage and channel, within its
// window plus the grace; alerts naming another stage inside a shock's window
// on its channel do not come first.
TEST(Funnel, BottleneckMonitorNamesTheShockedStage) {
  const Results r =
      RunScenario(test::Parse(FunnelScenario(kFunnel + "shocks:\n"
                                                       "  - {name: visit_drop, start: 1d, end: 1d8h, "
                                                       "channels: [search], multiply: {visit: 0.6}}\n"
                                                       "  - {name: cart_drop, start: 1d12h, end: 1d20h, "
                                                       "channels: [display], multiply: {cart: 0.5}}\n"
                                                       "  - {name: purchase_drop, start: 2d4h, end: 2d12h, "
                                                       "channels: [display], multiply: {purchase: 0.5}}\n"
                                                       "monitors: [funnel_bottleneck]\n",
                                             "3d")));
  const auto& time = test::Col<int64_t>(r, "alerts", "time");
  const auto& channel = test::Col<int64_t>(r, "alerts", "channel");
  const auto& metric = test::Col<std::string>(r, "alerts", "metric");
  const auto& message = test::Col<std::string>(r, "alerts", "message");
  struct Shock {
    SimTime start, end;
    int channel;
    std::string metric;
  };
  const Shock shocks[] = {
      {kMicrosPerDay, kMicrosPerDay + 8 * kMicrosPerHour, 1, "funnel_visit"},
      {kMicrosPerDay + 12 * kMicrosPerHour, kMicrosPerDay + 20 * kMicrosPerHour, 0, "funnel_cart"},
      {2 * kMicrosPerDay + 4 * kMicrosPerHour, 2 * kMicrosPerDay + 12 * kMicrosPerHour, 0, "funnel_purchase"}};
  const SimTime grace = 4 * kMicrosPerHour;
  for (const Shock& shock : shocks) {
    int first = -1;
    for (size_t i = 0; i < time.size() && first < 0; ++i)
      if (time[i] >= shock.start && time[i] < shock.end + grace && channel[i] == shock.channel)
        first = static_cast<int>(i);
    ASSERT_GE(first, 0) << shock.metric << " not detected";
    EXPECT_EQ(metric[first], shock.metric) << message[first];
    EXPECT_NE(message[first].find(shock.metric.substr(7) + " rate"), std::string::npos) << message[first];
  }
  // Outside every shock window (plus grace), at most a rare false alarm.
  int false_alarms = 0;
  for (size_t i = 0; i < time.size(); ++i) {
    bool explained = false;
    for (const Shock& shock : shocks) explained |= time[i] >= shock.start && time[i] < shock.end + grace;
    false_alarms += explained ? 0 : 1;
  }
  EXPECT_LE(false_alarms, 1);
}

}  // namespace
}  // namespace adsim

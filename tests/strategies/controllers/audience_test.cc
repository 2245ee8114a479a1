// audience_modifiers against its purpose: with a budget that binds, moving bids
// from a poor segment to a good one buys more conversions for the same money.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;

std::string AudienceScenario(const std::string& controllers) {
  return "name: audience\nseed: 12\nduration: 3d\ncontrol_cycle: 15m\n"
         "channels:\n  - name: display\n    traffic: {per_hour: 40000}\n"
         "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
         "segments:\n"
         "  - {name: good, ctr: 0.01, cvr: 0.12, conversion_delay: {distribution: exponential, mean: 1h}}\n"
         "  - {name: mid, ctr: 0.01, cvr: 0.05, conversion_delay: {distribution: exponential, mean: 1h}}\n"
         "  - {name: bad, ctr: 0.01, cvr: 0.005, conversion_delay: {distribution: exponential, mean: 1h}}\n"
         "campaigns:\n  - name: k\n    bid: 0.003\n    budget: {daily: 300}\n"
         "    guardrails: {max_bid: 0.02}\n" +
         controllers;
}

TEST(AudienceModifiers, ExcludesThePoorSegmentAndBuysMoreConversions) {
  const Results base = RunScenario(test::Parse(AudienceScenario("")));
  // min_clicks 100: the modifiers move bids off the poor segment so fast that
  // it collects under 200 clicks in three days. With 100 clicks and no
  // conversion, P(cvr < 0.5 x 0.1) under Beta(1, 101) is 1 - 0.95^101 = 0.994.
  const Results tuned = RunScenario(
      test::Parse(AudienceScenario("    controllers: [{type: audience_modifiers, params: {min_clicks: 100}}]\n")));
  const auto& seg = Col<int64_t>(tuned, "actions", "segment");
  const auto& val = Col<double>(tuned, "actions", "new");
  const auto& status = Col<std::string>(tuned, "actions", "status");
  // The bad segment (cvr per click 0.005 against a campaign average near
  // 0.058) is excluded: its last modifier is 0, applied.
  double last[3] = {1, 1, 1};
  for (size_t i = 0; i < seg.size(); ++i)
    if (status[i] != "rejected" && status[i] != "held") last[seg[i]] = val[i];
  EXPECT_EQ(last[2], 0.0);
  EXPECT_GT(last[0], last[1]);  // good above mid
  EXPECT_GT(last[0], 1.0);
  // Same seed, same binding budget: more conversions after the first day.
  // Poisson counts: the difference must exceed 4 sqrt(n1 + n2).
  const double n_tuned = static_cast<double>(test::ConversionsReportedAfter(kMicrosPerDay, tuned));
  const double n_base = static_cast<double>(test::ConversionsReportedAfter(kMicrosPerDay, base));
  EXPECT_GT(n_tuned - n_base, 4 * std::sqrt(n_tuned + n_base)) << n_tuned << " vs " << n_base;
  // Both spend their budgets: the gain is not bought with more money.
  const auto& sb = Col<double>(base, "daily", "spend");
  const auto& st = Col<double>(tuned, "daily", "spend");
  for (size_t d = 1; d < st.size(); ++d) EXPECT_NEAR(st[d], sb[d], 0.05 * sb[d]);
}

}  // namespace
}  // namespace adsim

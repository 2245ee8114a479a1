// Closed forms the model must satisfy, checked on whole runs: what a
// click-billed channel charges per click, common random numbers across
// winners, the conversion delay and value distributions as documented in
// docs/scenario.md, and the bucket a conversion is counted in. Each test
// catches one of the broken models listed in docs/testing.md
// (scripts/mutants.sh applies them). Statistical checks fix the seed and
// derive their tolerance from the standard error of the estimate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <vector>

#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;
using test::Parse;

// How many standard errors an estimate may stray from its closed form. The
// seeds are fixed, so a pass is reproducible; 4.5 SE keeps the chance that a
// correct model fails on some other seed below 1e-5 per check.
constexpr double kZ = 4.5;

struct MeanAndError {
  double mean = 0, standard_error = 0;
  size_t n = 0;
};

MeanAndError Estimate(const std::vector<double>& x) {
  MeanAndError m;
  m.n = x.size();
  if (x.empty()) return m;
  double sum = 0;
  for (double v : x) sum += v;
  m.mean = sum / static_cast<double>(x.size());
  double ss = 0;
  for (double v : x) ss += (v - m.mean) * (v - m.mean);
  m.standard_error = std::sqrt(ss / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()));
  return m;
}

// One channel, one segment, one campaign that outbids the competition almost
// always (competitors' median 0.002 per impression).
std::string OneChannel(const std::string& channel_extra, const std::string& segment, const std::string& campaigns,
                       const std::string& duration = "6h", double per_hour = 20000) {
  return "name: closed_forms\nseed: 11\nstart: '2026-03-02T00:00:00'\nduration: " + duration +
         "\nbucket: 1h\ncontrol_cycle: 15m\n"
         "recording: {events: true}\n"
         "channels:\n"
         "  - name: web\n    auction: second_price\n    traffic: {per_hour: " +
         test::Num(per_hour) + "}\n    competition: {competitors: 5, median: 0.002, sigma: 0.5}\n" + channel_extra +
         "segments:\n" + segment + "campaigns:\n" + campaigns;
}

TEST(ModelClosedForms, ClickBilledChargePerClickIsTheSecondScoreOverTheClickRate) {
  // Click billing, second price, one slot: our score is bid x q with q the
  // click rate (0.05 here: no propensity spread, no shock, ctr_factor 1), and
  // the winner pays per click the score below it divided by q:
  //   price per click = top competing score / q,
  // charged with probability q, so E[spend per impression] = E[top score].
  const double q = 0.05;
  const Scenario sc = Parse(OneChannel("    billing: click\n", "  - {name: all, ctr: 0.05, cvr: 0}\n",
                                       "  - {name: ours, bid: 1.0, budget: {daily: 1000000}}\n"));
  const Results r = RunScenario(sc);
  const auto& winner = Col<int64_t>(r, "events", "winner");
  const auto& click = Col<int64_t>(r, "events", "click");
  const auto& top = Col<double>(r, "events", "top_competing_bid");
  const auto& price = Col<double>(r, "events", "price");
  std::vector<double> spend_minus_score, clicked;
  double max_error = 0;
  for (size_t i = 0; i < winner.size(); ++i) {
    if (winner[i] != 0) continue;
    // Exact per win: the charge per click, rounded to whole micros.
    max_error = std::max(max_error, std::abs(price[i] - top[i] / q));
    spend_minus_score.push_back(static_cast<double>(click[i]) * price[i] - top[i]);
    clicked.push_back(static_cast<double>(click[i]));
  }
  ASSERT_GT(spend_minus_score.size(), 50000u) << "the campaign must win most of the 120,000 opportunities";
  EXPECT_LE(max_error, 0.5e-6 + 1e-12) << "price per click must be the second score / click rate, to the micro";
  // Clicks come with probability q: SE = sqrt(q(1-q)/n).
  const MeanAndError ctr = Estimate(clicked);
  EXPECT_NEAR(ctr.mean, q, kZ * std::sqrt(q * (1 - q) / static_cast<double>(ctr.n)));
  // The platform earns per impression what second price on scores promises:
  // E[click x price per click - top score] = q x E[top]/q - E[top] = 0.
  const MeanAndError d = Estimate(spend_minus_score);
  EXPECT_NEAR(d.mean, 0.0, kZ * d.standard_error) << "mean spend per impression minus the second score";
  // The aggregates charge the same: total spend = sum over clicked wins of the price.
  double spend = 0, charged = 0;
  for (double s : Col<double>(r, "aggregates", "spend")) spend += s;
  for (size_t i = 0; i < winner.size(); ++i)
    if (winner[i] == 0 && click[i]) charged += price[i];
  EXPECT_NEAR(spend, charged, 1e-6 * charged);
}

TEST(ModelClosedForms, SameUserSameDrawsWhicheverCampaignWins) {
  // Common random numbers: the user's response to an opportunity is fixed by
  // the market before the auction, so when campaign "b" instead of "a" wins
  // every opportunity (same click and conversion rates), every click,
  // conversion, delay, value and reporting draw is the same.
  const std::string segment =
      "  - {name: all, users: 2000, propensity_sigma: 0.5, ctr: 0.05, cvr: 0.3, "
      "conversion_value: {distribution: lognormal, mean: 40, sigma: 0.6}, "
      "conversion_delay: {distribution: exponential, mean: 30m}}\n";
  auto campaigns = [](double a, double b) {
    return "  - {name: a, bid: " + test::Num(a) + "}\n  - {name: b, bid: " + test::Num(b) + "}\n";
  };
  const Results ra = RunScenario(Parse(OneChannel("", segment, campaigns(0.05, 0.01), "3h")));
  const Results rb = RunScenario(Parse(OneChannel("", segment, campaigns(0.01, 0.05), "3h")));
  const auto& winner_a = Col<int64_t>(ra, "events", "winner");
  const auto& winner_b = Col<int64_t>(rb, "events", "winner");
  ASSERT_EQ(winner_a.size(), winner_b.size());
  int64_t a_won = 0, b_won = 0;
  for (size_t i = 0; i < winner_a.size(); ++i) {
    a_won += winner_a[i] == 0;
    b_won += winner_b[i] == 1;
  }
  ASSERT_GT(a_won, 50000);
  ASSERT_GT(b_won, 50000);
  EXPECT_EQ(Col<int64_t>(ra, "events", "click"), Col<int64_t>(rb, "events", "click"));
  // The conversions, in click order: same clicks, same delays, same values.
  auto conversions = [](const Results& r) {
    std::vector<std::tuple<int64_t, int64_t, double, int64_t>> rows;
    const auto& click_time = Col<int64_t>(r, "conversions", "click_time");
    const auto& time = Col<int64_t>(r, "conversions", "time");
    const auto& value = Col<double>(r, "conversions", "value");
    const auto& reported = Col<int64_t>(r, "conversions", "reported");
    for (size_t i = 0; i < time.size(); ++i) rows.emplace_back(click_time[i], time[i], value[i], reported[i]);
    std::sort(rows.begin(), rows.end());
    return rows;
  };
  const auto conv_a = conversions(ra), conv_b = conversions(rb);
  ASSERT_GT(conv_a.size(), 500u);
  EXPECT_TRUE(conv_a == conv_b) << conv_a.size() << " vs " << conv_b.size() << " conversions";
}

// Delays (time - click_time, in us) and values of the conversions of segment s.
struct SegmentConversions {
  std::vector<double> delay, value;
};
std::vector<SegmentConversions> BySegment(const Results& r, int segments) {
  std::vector<SegmentConversions> out(static_cast<size_t>(segments));
  const auto& click_time = Col<int64_t>(r, "conversions", "click_time");
  const auto& time = Col<int64_t>(r, "conversions", "time");
  const auto& segment = Col<int64_t>(r, "conversions", "segment");
  const auto& value = Col<double>(r, "conversions", "value");
  for (size_t i = 0; i < time.size(); ++i) {
    out[static_cast<size_t>(segment[i])].delay.push_back(static_cast<double>(time[i] - click_time[i]));
    out[static_cast<size_t>(segment[i])].value.push_back(value[i]);
  }
  return out;
}

// Three segments, one per delay distribution and value form. Conversions
// after the end of the run are in the table too (with the time they would
// have arrived), so the delays are not censored.
Results DelayAndValueRun() {
  const std::string segments =
      "  - {name: logn, ctr: 0.2, cvr: 0.5, conversion_delay: {distribution: lognormal, median: 2h, sigma: 0.8}, "
      "conversion_value: {distribution: lognormal, mean: 40, sigma: 0.8}}\n"
      "  - {name: expo, ctr: 0.2, cvr: 0.5, conversion_delay: {distribution: exponential, mean: 90m}, "
      "conversion_value: 25}\n"
      "  - {name: fixd, ctr: 0.2, cvr: 0.5, conversion_delay: {distribution: fixed, value: 10m}}\n";
  return RunScenario(Parse(OneChannel("", segments, "  - {name: ours, bid: 0.05}\n", "6h", 30000)));
}

TEST(ModelClosedForms, ConversionDelaysFollowTheirDocumentedParameters) {
  const auto seg = BySegment(DelayAndValueRun(), 3);
  const double hour = 3.6e9;
  // lognormal {median: m, sigma: s}: delay = m exp(s Z), so
  //   E[log delay] = log m                (SE = sd(log delay) / sqrt(n)),
  //   E[delay] = m exp(s^2 / 2)           (SE = sd(delay) / sqrt(n)).
  // A delay off by exp(s^2/2) = 1.38 shifts the log mean by 0.32, about 30 SE.
  const double median = 2 * hour, sigma = 0.8;
  ASSERT_GT(seg[0].delay.size(), 3000u);
  std::vector<double> log_delay;
  for (double d : seg[0].delay) log_delay.push_back(std::log(d));
  const MeanAndError lm = Estimate(log_delay);
  EXPECT_NEAR(lm.mean, std::log(median), kZ * lm.standard_error) << "lognormal delay: median";
  const MeanAndError dm = Estimate(seg[0].delay);
  EXPECT_NEAR(dm.mean, median * std::exp(sigma * sigma / 2), kZ * dm.standard_error) << "lognormal delay: mean";
  // exponential {mean: 90m}: E[delay] = 90m, SD = 90m, so SE = 90m / sqrt(n).
  ASSERT_GT(seg[1].delay.size(), 3000u);
  const MeanAndError em = Estimate(seg[1].delay);
  EXPECT_NEAR(em.mean, 1.5 * hour, kZ * 1.5 * hour / std::sqrt(static_cast<double>(em.n))) << "exponential delay";
  // fixed {value: 10m}: every delay is exactly 10 minutes (click times are whole us).
  ASSERT_GT(seg[2].delay.size(), 3000u);
  for (double d : seg[2].delay) ASSERT_EQ(d, 6.0e8);
}

TEST(ModelClosedForms, ConversionValuesKeepTheirConfiguredMean) {
  const auto seg = BySegment(DelayAndValueRun(), 3);
  // lognormal {mean: 40, sigma: 0.8}: value = 40 exp(0.8 Z - 0.32), mean 40,
  // SD = 40 sqrt(exp(0.64) - 1) = 37.6; SE = SD / sqrt(n). Without the
  // -sigma^2/2 the mean is 40 x 1.38, about 25 SE away.
  ASSERT_GT(seg[0].value.size(), 3000u);
  const MeanAndError vm = Estimate(seg[0].value);
  const double sd = 40 * std::sqrt(std::exp(0.64) - 1);
  EXPECT_NEAR(vm.mean, 40.0, kZ * sd / std::sqrt(static_cast<double>(vm.n))) << "lognormal value";
  // ... and its log has mean log 40 - 0.32 (SE = 0.8 / sqrt(n)).
  std::vector<double> log_value;
  for (double v : seg[0].value) log_value.push_back(std::log(v));
  EXPECT_NEAR(Estimate(log_value).mean, std::log(40.0) - 0.32, kZ * 0.8 / std::sqrt(static_cast<double>(vm.n)));
  // A fixed value is that value; the default is 50.
  for (double v : seg[1].value) ASSERT_EQ(v, 25.0);
  for (double v : seg[2].value) ASSERT_EQ(v, 50.0);
}

TEST(ModelClosedForms, ConversionsCountInTheBucketOfTheirArrival) {
  // A conversion whose delay is shorter than the time to the next sparse
  // event must still be handled at its arrival, in the aggregates' bucket
  // that contains its arrival time (`conversions.time`): the per-bucket
  // counts agree exactly. That needs sparse conversions (about 3 an hour,
  // so often none is pending) with a fixed 10-minute delay and 15-minute
  // control cycles: a click in the first 5 minutes of the last cycle of an
  // hour converts before the hour's bucket is written.
  const std::string segment =
      "  - {name: all, ctr: 0.03, cvr: 0.1, conversion_delay: {distribution: fixed, value: 10m}}\n";
  const Scenario sc = Parse(OneChannel("", segment, "  - {name: ours, bid: 0.05}\n", "7d", 1000));
  const Results r = RunScenario(sc);
  std::map<int64_t, int64_t> by_arrival, in_aggregates;
  const auto& time = Col<int64_t>(r, "conversions", "time");
  const auto& reported = Col<int64_t>(r, "conversions", "reported");
  int64_t crossing = 0;  // conversions whose click and arrival fall in different buckets
  const auto& click_time = Col<int64_t>(r, "conversions", "click_time");
  for (size_t i = 0; i < time.size(); ++i) {
    if (!reported[i]) continue;
    by_arrival[time[i] / sc.bucket * sc.bucket] += 1;
    crossing += time[i] / sc.bucket != click_time[i] / sc.bucket;
  }
  const auto& bucket = Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& conversions = Col<int64_t>(r, "aggregates", "conversions");
  for (size_t i = 0; i < bucket.size(); ++i)
    if (conversions[i] > 0) in_aggregates[bucket[i]] += conversions[i];
  // 10 minutes of every hour's clicks convert in the next hour: about 1/6 of
  // the ~500 conversions (before the fix, 24 were counted an hour late).
  ASSERT_GT(crossing, 50);
  EXPECT_EQ(by_arrival, in_aggregates);
}

}  // namespace
}  // namespace adsim

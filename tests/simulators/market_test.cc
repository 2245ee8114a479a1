// The synthetic market against its specification: arrival counts follow the
// profiles, segment shares and competitor order statistics follow their
// distributions, shocks apply in their windows. Tolerances are derived from
// standard errors (Poisson: sqrt(mean); proportions: sqrt(p(1-p)/n)).
#include <gtest/gtest.h>

#include <boost/math/special_functions/erf.hpp>
#include <cmath>
#include <random>

#include "simulators/synthetic.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

const char* kProfile =
    "name: p\nseed: 3\nstart: '2026-03-04T00:00:00'\nduration: 28d\n"  // starts on a Wednesday
    "channels:\n  - name: c\n    auction: {type: gsp, slots: 2}\n    traffic:\n      per_hour: 3000\n"
    "      hour_of_day: [1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 4, 3, 2, 1, 1]\n"
    "      day_of_week: [1, 1, 1, 1, 1.5, 2, 2]\n"
    "    competition: {competitors: 5, mu: -6, sigma: 0.7}\n"
    "segments:\n  - {name: a, users: 100, share: 1, ctr: 0.01, cvr: 0.1}\n"
    "  - {name: b, users: 1000000, share: 3, ctr: 0.01, cvr: 0.1, propensity_sigma: 0.5}\n"
    "campaigns: [{name: k, bid: 1}]\n";

std::vector<Opportunity> Drain(SyntheticMarket& m, SimTime until, size_t batch = 64) {
  std::vector<Opportunity> all, buf(batch);
  for (;;) {
    const size_t n = m.Generate(until, buf.data(), buf.size());
    all.insert(all.end(), buf.begin(), buf.begin() + static_cast<long>(n));
    if (n < buf.size()) break;
  }
  return all;
}

TEST(Market, ArrivalCountsPerHourFollowTheProfiles) {
  const Scenario sc = ParseScenario(kProfile, "p.yaml");
  SyntheticMarket m(sc, 3);
  const auto opps = Drain(m, sc.duration);
  std::vector<double> count(24 * 7, 0.0);
  SimTime prev = 0;
  for (const auto& o : opps) {
    ASSERT_GE(o.time, prev);  // non-decreasing time
    prev = o.time;
    const int day = static_cast<int>(o.time / kMicrosPerDay);
    const int weekday = (sc.start_weekday + day) % 7;
    count[weekday * 24 + static_cast<int>((o.time / kMicrosPerHour) % 24)] += 1;
  }
  // Expected count in (weekday, hour) over 4 weeks: 4 x per_hour x hod[h] x dow[d]
  // (profiles normalised to mean 1). Poisson: SE = sqrt(expected). 168 cells:
  // a 4.5 SE bound keeps the chance of a false failure below 0.1%.
  const auto& ch = sc.channels[0];
  double chi2 = 0;
  for (int d = 0; d < 7; ++d)
    for (int h = 0; h < 24; ++h) {
      const double expected = 4 * ch.per_hour * ch.hour_of_day[h] * ch.day_of_week[d];
      const double z = (count[d * 24 + h] - expected) / std::sqrt(expected);
      EXPECT_LT(std::fabs(z), 4.5) << "weekday " << d << " hour " << h;
      chi2 += z * z;
    }
  // Chi-square with 168 degrees of freedom: mean 168, sd sqrt(336) = 18.3.
  EXPECT_LT(chi2, 168 + 4 * 18.4);
}

TEST(Market, SegmentSharesUsersAndPropensities) {
  const Scenario sc = ParseScenario(kProfile, "p.yaml");
  SyntheticMarket m(sc, 3);
  const auto opps = Drain(m, 3 * kMicrosPerDay);
  double in_b = 0, prop_sum = 0;
  std::vector<int> users_a(100, 0);
  for (const auto& o : opps) {
    if (o.segment == 1) {
      in_b += 1;
      prop_sum += o.Propensity();
      ASSERT_LT(o.user, 1000000);
    } else {
      ASSERT_LT(o.user, 100);
      ++users_a[o.user];
      EXPECT_EQ(o.Propensity(), 1.0);
    }
  }
  const double n = static_cast<double>(opps.size());
  // Share 3 of 4: p = 0.75, SE = sqrt(p (1-p) / n).
  EXPECT_NEAR(in_b / n, 0.75, 4 * std::sqrt(0.75 * 0.25 / n));
  // Mean-one lognormal propensities (sigma 0.5): Var = e^{0.25} - 1 per user.
  EXPECT_NEAR(prop_sum / in_b, 1.0, 4 * std::sqrt((std::exp(0.25) - 1) / in_b) + 0.01);
  for (int c : users_a) EXPECT_GT(c, 0);  // every user of a small population shows up
}

TEST(Market, TopCompetitorBidsFollowTheirOrderStatistics) {
  const Scenario sc = ParseScenario(kProfile, "p.yaml");
  SyntheticMarket m(sc, 4);
  const auto opps = Drain(m, 4 * kMicrosPerDay);
  const double mu = -6, sigma = 0.7, k = 5;
  const double n = static_cast<double>(opps.size());
  for (double x : {0.001, 0.0025, 0.004, 0.008}) {
    const double f = NormalCdf((std::log(x) - mu) / sigma);
    // Highest of K: F^K. Second highest: F^K + K F^(K-1) (1 - F).
    const double p1 = std::pow(f, k), p2 = p1 + k * std::pow(f, k - 1) * (1 - f);
    double below1 = 0, below2 = 0;
    for (const auto& o : opps) {
      below1 += o.CompetingBid(0) <= x;
      below2 += o.CompetingBid(1) <= x;
      ASSERT_GE(o.CompetingBid(0), o.CompetingBid(1));
    }
    EXPECT_NEAR(below1 / n, p1, 4 * std::sqrt(p1 * (1 - p1) / n) + 1e-12) << "x=" << x;
    EXPECT_NEAR(below2 / n, p2, 4 * std::sqrt(p2 * (1 - p2) / n) + 1e-12) << "x=" << x;
  }
}

TEST(Market, TabulatedMaxQuantileMatchesTheExactOne) {
  for (int k : {1, 2, 5, 50}) {
    const MaxNormalQuantile q(k);
    std::mt19937_64 rng(k);
    std::uniform_real_distribution<double> u(0, 1);
    double worst = 0;
    for (int i = 0; i < 200000; ++i) {
      const double x = u(rng);
      worst = std::max(worst, std::fabs(q(x) - q.Exact(x)));
    }
    EXPECT_LT(worst, 1.5e-5) << "K=" << k;
  }
  // Exact: P(max of K normals <= z) = Phi(z)^K.
  const MaxNormalQuantile q5(5);
  EXPECT_NEAR(std::pow(NormalCdf(q5.Exact(0.3)), 5), 0.3, 1e-8);
}

TEST(Market, InvNormalCdfIsAccurate) {
  // Acklam's approximation: relative error below 1.15e-9, against Boost.Math's
  // inverse complementary error function: Phi^-1(p) = -sqrt(2) erfc^-1(2p).
  for (double p : {1e-12, 1e-6, 1e-3, 0.02, 0.1, 0.3, 0.5, 0.7, 0.975, 0.99, 0.999999}) {
    const double ref = -std::sqrt(2.0) * boost::math::erfc_inv(2 * p);
    EXPECT_NEAR(InvNormalCdf(p), ref, 1.2e-9 * std::fabs(ref) + 1e-15) << p;
  }
}

TEST(Market, ShocksScaleTrafficAndCompetingBidsInTheirWindow) {
  const Scenario sc = ParseScenario(kProfile, "p.yaml");
  SyntheticMarket base(sc, 5), shocked(sc, 5);
  MarketConditions cond;
  cond.num_segments = 2;
  cond.traffic = {1.0, 3.0};  // segment b traffic x3
  cond.competing_bids = {2.0, 2.0};
  // Same history up to the shock at 12h.
  const auto a0 = Drain(base, 12 * kMicrosPerHour), b0 = Drain(shocked, 12 * kMicrosPerHour);
  ASSERT_EQ(a0.size(), b0.size());
  shocked.OnConditionsChanged(12 * kMicrosPerHour, cond);
  const auto a1 = Drain(base, 36 * kMicrosPerHour), b1 = Drain(shocked, 36 * kMicrosPerHour);
  double na = 0, nb = 0, comp_a = 0, comp_b = 0;
  for (const auto& o : a1) {
    na += o.segment == 1;
    comp_a += std::log(o.CompetingBid(0));
  }
  for (const auto& o : b1) {
    nb += o.segment == 1;
    comp_b += std::log(o.CompetingBid(0));
  }
  // Segment b: Poisson counts, ratio 3 within 4 SE of the shocked count.
  EXPECT_NEAR(nb, 3 * na, 4 * std::sqrt(nb + 9 * na));
  // Competing bids x2: mean log bid shifts by log 2 (sd of log top bid < sigma).
  EXPECT_NEAR(comp_b / b1.size() - comp_a / a1.size(), std::log(2.0),
              4 * 0.7 * std::sqrt(1.0 / a1.size() + 1.0 / b1.size()));
}

TEST(Market, VeryLowTrafficStillArrives) {
  // 0.005 opportunities per hour over 300 days: Poisson with mean 36.
  const std::string text =
      "name: low\nseed: 1\nduration: 300d\nchannels: [{name: c, traffic: {per_hour: 0.005}, "
      "competition: {median: 0.01}}]\nsegments: [{name: s, ctr: 0.1, cvr: 0.1}]\ncampaigns: [{name: k, bid: 1}]\n";
  const Scenario sc = ParseScenario(text, "low.yaml");
  double total = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SyntheticMarket m(sc, seed);
    total += static_cast<double>(Drain(m, sc.duration).size());
  }
  // Six runs: Poisson mean 6 x 36 = 216, SE sqrt(216).
  EXPECT_NEAR(total, 216, 4 * std::sqrt(216.0));
}

TEST(Market, BatchSizeDoesNotChangeTheStream) {
  const Scenario sc = ParseScenario(kProfile, "p.yaml");
  SyntheticMarket a(sc, 9), b(sc, 9);
  const auto x = Drain(a, 6 * kMicrosPerHour, 1), y = Drain(b, 6 * kMicrosPerHour, 1000);
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(x[i].time, y[i].time);
    ASSERT_EQ(x[i].user, y[i].user);
    ASSERT_EQ(x[i].CompetingBid(0), y[i].CompetingBid(0));
    ASSERT_EQ(x[i].response_key, y[i].response_key);
  }
}

TEST(Random, StreamsDependOnSeedAndPathAndNotOnOffsets) {
  // hash(seed, path): neighbouring seeds do not give shifted copies of a stream.
  Stream a(1, "market/x"), b(2, "market/x"), c(1, "market/y");
  const double a0 = a.Uniform(), a1 = a.Uniform();
  const double b0 = b.Uniform();
  EXPECT_NE(a0, b0);
  EXPECT_NE(a1, b0);
  EXPECT_NE(a0, c.Uniform());
  Stream a_again(1, "market/x");
  EXPECT_EQ(a_again.Uniform(), a0);
  EXPECT_NE(StreamSeed(1, "ab"), StreamSeed(1, "ba"));
}

TEST(Market, SlotsBeyondTheCompetitorsHaveNoCompetingBid) {
  // Three GSP slots, two competitors: the third competing bid is exactly 0,
  // whether it is stored or exponentiated when read.
  std::string text = kProfile;
  text.replace(text.find("slots: 2"), 8, "slots: 3");
  text.replace(text.find("competitors: 5"), 14, "competitors: 2");
  const Scenario sc = ParseScenario(text, "p.yaml");
  SyntheticMarket m(sc, 5);
  const auto opps = Drain(m, kMicrosPerDay);
  ASSERT_GT(opps.size(), 1000u);
  for (const auto& o : opps) {
    ASSERT_GT(o.CompetingBid(1), 0.0);
    ASSERT_GE(o.CompetingBid(0), o.CompetingBid(1));
    ASSERT_EQ(o.CompetingBid(2), 0.0);
    ASSERT_FALSE(std::signbit(o.CompetingBid(2)));
  }
}

}  // namespace
}  // namespace adsim

// Users' public features and audiences (core/engine/user_features.h,
// docs/audiences.md): the `users:` and `audiences:` blocks' validation; a
// features-only scenario changes no existing table; the feature-dependent
// conversion model, whose known coefficients the project's logistic fitter
// recovers within their standard errors; an audience's members convert more
// than the average; a campaign's audience modifiers decide whom it buys; and
// the predictive_cpa bidder, offline and learning online; a lookalike
// audience fitted inside the run. That scenarios without `users:` are unchanged is
// pinned by the golden digests (Golden.*).
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/logistic_model.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

// One first-price display channel that our campaign wins every time (bid far
// above the competition), one segment of `users`, a conversion delay of one
// second (so almost every conversion is reported before the end). `users` and
// `extra` are appended at the top level, `campaign_extra` to the campaign.
std::string FeatureScenario(const std::string& users_block, const std::string& extra = "",
                            const std::string& campaign_extra = "", const std::string& bidder = "fixed") {
  return "name: features\nseed: 5\nduration: 1d\nbucket: 6h\n"
         "channels:\n  - name: display\n    auction: first_price\n    traffic: {per_hour: 12000}\n"
         "    competition: {competitors: 3, median: 0.001, sigma: 0.3}\n"
         "segments:\n  - {name: s, users: 20000, ctr: 0.06, cvr: 0.1, "
         "conversion_delay: {distribution: fixed, value: 1s}}\n"
         "campaigns:\n  - name: k\n    bid: 0.05\n    goal: {cpa: 2}\n    bidder: " +
         bidder + "\n" + campaign_extra + users_block + extra;
}

const char* kUsers =
    "users:\n  features: {count: 3, distribution: normal}\n"
    "  conversion: {coefficients: [0.8, -0.5, 0.0]}\n";

bool HasIssue(const std::vector<ConfigIssue>& issues, const std::string& path, const std::string& expected_part) {
  for (const auto& issue : issues)
    if (issue.path == path && issue.expected.find(expected_part) != std::string::npos) return true;
  return false;
}

TEST(UserFeatures, ValidationNamesTheField) {
  auto issues = test::IssuesOf(FeatureScenario("users:\n  features: {distribution: gaussian}\n"));
  EXPECT_TRUE(HasIssue(issues, "users.features.count", "whole number")) << ConfigError(issues).what();
  EXPECT_TRUE(HasIssue(issues, "users.features.distribution", "normal")) << ConfigError(issues).what();
  issues =
      test::IssuesOf(FeatureScenario("users:\n  features: {count: 2}\n  conversion: {coefficients: [1, 2, 3]}\n"
                                     "audiences:\n  - {name: others, coefficients: [1], threshold: 0}\n"));
  EXPECT_TRUE(HasIssue(issues, "users.conversion.coefficients", "a list of 2 numbers")) << ConfigError(issues).what();
  EXPECT_TRUE(HasIssue(issues, "audiences[0].name", "reserved")) << ConfigError(issues).what();
  EXPECT_TRUE(HasIssue(issues, "audiences[0].coefficients", "a list of 2 numbers")) << ConfigError(issues).what();
  issues = test::IssuesOf(FeatureScenario("audiences:\n  - {name: a, coefficients: [1], threshold: 0}\n"));
  EXPECT_TRUE(HasIssue(issues, "audiences", "users.features")) << ConfigError(issues).what();
  issues = test::IssuesOf(FeatureScenario(std::string(kUsers) + "audiences:\n  - {name: la, coefficients: [1, 0, 0]}\n",
                                          "", "    audiences: {nobody: 2, others: -1}\n"));
  EXPECT_TRUE(HasIssue(issues, "audiences[0].threshold", "a number")) << ConfigError(issues).what();
  EXPECT_TRUE(HasIssue(issues, "campaigns[0].audiences.nobody", "'others'")) << ConfigError(issues).what();
  EXPECT_TRUE(HasIssue(issues, "campaigns[0].audiences.others", "[0,")) << ConfigError(issues).what();
  issues = test::IssuesOf(FeatureScenario(kUsers, "journeys:\n  baseline: {s: 0.01}\n"));
  EXPECT_TRUE(HasIssue(issues, "users.conversion", "journeys")) << ConfigError(issues).what();
}

bool SameBits(const ColumnData& a, const ColumnData& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<std::vector<double>>(&a)) {
    const auto& y = std::get<std::vector<double>>(b);
    // Bit for bit (NaN == NaN); memcmp of zero bytes from an empty vector's null data() is undefined.
    return x->size() == y.size() && (x->empty() || std::memcmp(x->data(), y.data(), x->size() * sizeof(double)) == 0);
  }
  return a == b;
}

// Features alone (no conversion model, no audience) draw from their own
// stream and change nothing the run already wrote: only the users table is new.
TEST(UserFeatures, FeaturesAloneChangeNoExistingTable) {
  const Results without = RunScenario(test::Parse(test::SmallScenario()));
  const Results with =
      RunScenario(test::Parse(test::SmallScenario("users:\n  features: {count: 2, distribution: uniform}\n")));
  ASSERT_EQ(with.tables.size(), without.tables.size() + 1);
  for (const Table& table : without.tables) {
    const Table* other = with.Find(table.name());
    ASSERT_NE(other, nullptr) << table.name();
    ASSERT_EQ(other->columns().size(), table.columns().size()) << table.name();
    for (size_t c = 0; c < table.columns().size(); ++c)  // bit for bit (NaN equals NaN)
      EXPECT_TRUE(SameBits(other->columns()[c].data, table.columns()[c].data))
          << table.name() << "." << table.columns()[c].name;
  }
  // 1000 + 5000 users, each with two U(0, 1) features.
  const auto& feature = test::Col<double>(with, "users", "feature_1");
  ASSERT_EQ(feature.size(), 6000u);
  EXPECT_TRUE(std::all_of(feature.begin(), feature.end(), [](double x) { return x > 0 && x < 1; }));
}

// The users table's clicks and conversions fitted with the project's L2
// logistic regression (x = [1, features], trials = clicks, successes =
// conversions) recover the scenario's model: intercept logit(0.1), features
// (0.8, -0.5, 0), each within 3.5 standard errors (the Laplace covariance;
// l2 = 1e-6 so that the prior does not bias the estimate).
TEST(UserFeatures, FitterRecoversTheConversionCoefficients) {
  const Results r = RunScenario(test::Parse(FeatureScenario(kUsers)));
  const auto& clicks = test::Col<int64_t>(r, "users", "clicks");
  const auto& conversions = test::Col<int64_t>(r, "users", "conversions");
  std::vector<size_t> rows;
  for (size_t i = 0; i < clicks.size(); ++i)
    if (clicks[i] > 0) rows.push_back(i);
  ASSERT_GT(rows.size(), 5000u);
  Eigen::MatrixXd x(static_cast<Eigen::Index>(rows.size()), 4);
  Eigen::VectorXd trials(x.rows()), successes(x.rows());
  for (Eigen::Index j = 0; j < x.rows(); ++j) {
    const size_t i = rows[static_cast<size_t>(j)];
    x(j, 0) = 1.0;
    for (int k = 0; k < 3; ++k) x(j, k + 1) = test::Col<double>(r, "users", "feature_" + std::to_string(k))[i];
    trials[j] = static_cast<double>(clicks[i]);
    successes[j] = static_cast<double>(conversions[i]);
  }
  estimators::LogisticModel model(4, 1e-6);
  model.Fit(x, trials, successes);
  const Eigen::VectorXd truth = (Eigen::VectorXd(4) << std::log(0.1 / 0.9), 0.8, -0.5, 0.0).finished();
  const Eigen::MatrixXd covariance = model.Covariance();
  for (int k = 0; k < 4; ++k) {
    const double se = std::sqrt(covariance(k, k));
    EXPECT_LT(se, 0.1) << k;  // enough data for the check to mean something
    EXPECT_NEAR(model.coefficients()[k], truth[k], 3.5 * se) << "coefficient " << k;
  }
}

// An audience of users with 0.8 x0 - 0.5 x1 >= 1 (the true model's shift):
// the conversion rate of its members' clicks exceeds that of all clicks by
// more than 4 standard errors of the difference (binomial SEs of both rates).
// Expected: members' mean shift is about 1.5 against 0 overall, so their
// conversion rate is about 0.3 against about 0.13.
TEST(UserFeatures, AudienceMembersConvertMoreThanTheAverage) {
  const Results r = RunScenario(test::Parse(FeatureScenario(
      std::string(kUsers) + "audiences:\n  - {name: la, intercept: 0, coefficients: [0.8, -0.5, 0], threshold: 1}\n")));
  const auto& clicks = test::Col<int64_t>(r, "users", "clicks");
  const auto& conversions = test::Col<int64_t>(r, "users", "conversions");
  const auto& x0 = test::Col<double>(r, "users", "feature_0");
  const auto& x1 = test::Col<double>(r, "users", "feature_1");
  double member_clicks = 0, member_conversions = 0, all_clicks = 0, all_conversions = 0;
  for (size_t i = 0; i < clicks.size(); ++i) {
    all_clicks += static_cast<double>(clicks[i]);
    all_conversions += static_cast<double>(conversions[i]);
    if (0.8 * x0[i] - 0.5 * x1[i] >= 1.0) {
      member_clicks += static_cast<double>(clicks[i]);
      member_conversions += static_cast<double>(conversions[i]);
    }
  }
  ASSERT_GT(member_clicks, 500);
  const double member_rate = member_conversions / member_clicks, all_rate = all_conversions / all_clicks;
  const double se = std::sqrt(member_rate * (1 - member_rate) / member_clicks + all_rate * (1 - all_rate) / all_clicks);
  EXPECT_GT(member_rate - all_rate, 4 * se) << member_rate << " vs " << all_rate;
}

// `audiences: {la: 1, others: 0}`: the campaign bids only on members, so
// every user it converted is a member (recomputed from the users table with
// the audience's rule), and it still buys.
TEST(UserFeatures, AudienceModifiersDecideWhomACampaignBuys) {
  const Results r = RunScenario(test::Parse(FeatureScenario(
      std::string(kUsers) + "audiences:\n  - {name: la, intercept: 0.5, coefficients: [1, 0, 0], threshold: 1.5}\n", "",
      "    audiences: {la: 1, others: 0}\n")));
  const auto& x0 = test::Col<double>(r, "users", "feature_0");
  const auto& clicks = test::Col<int64_t>(r, "users", "clicks");
  int64_t member_clicks = 0, other_clicks = 0;
  for (size_t i = 0; i < clicks.size(); ++i) (0.5 + x0[i] >= 1.5 ? member_clicks : other_clicks) += clicks[i];
  EXPECT_GT(member_clicks, 100);
  EXPECT_EQ(other_clicks, 0);
  for (const int64_t user : test::Col<int64_t>(r, "conversions", "user"))
    EXPECT_GE(0.5 + x0[static_cast<size_t>(user)], 1.5) << user;
}

// predictive_cpa with the true model bids T x pCTR x p(user); on a first-price
// auction it wins a user only when that bid beats the competition, so it buys
// the users with the higher predicted rate: the conversion rate of its clicks
// is above that of a fixed bidder's clicks (which buys everyone), by more than
// 4 standard errors.
TEST(UserFeatures, PredictiveBidderBuysTheLikelyConverters) {
  const std::string audience = std::string(kUsers) +
                               "audiences:\n  - {name: truth, intercept: -2.197, coefficients: [0.8, -0.5, 0], "
                               "threshold: 1e9}\n";
  const Results fixed = RunScenario(test::Parse(FeatureScenario(audience)));
  const Results predictive = RunScenario(test::Parse(FeatureScenario(
      audience, "", "", "{type: predictive_cpa, params: {model: truth, target_cpa: 0.25, min_impressions: 50}}")));
  auto rate = [](const Results& r, double* clicks_out) {
    double clicks = 0, conversions = 0;
    for (const int64_t c : test::Col<int64_t>(r, "users", "clicks")) clicks += static_cast<double>(c);
    for (const int64_t c : test::Col<int64_t>(r, "users", "conversions")) conversions += static_cast<double>(c);
    *clicks_out = clicks;
    return conversions / clicks;
  };
  double fixed_clicks = 0, predictive_clicks = 0;
  const double fixed_rate = rate(fixed, &fixed_clicks), predictive_rate = rate(predictive, &predictive_clicks);
  ASSERT_GT(predictive_clicks, 500);
  const double se = std::sqrt(fixed_rate * (1 - fixed_rate) / fixed_clicks +
                              predictive_rate * (1 - predictive_rate) / predictive_clicks);
  EXPECT_GT(predictive_rate - fixed_rate, 4 * se) << predictive_rate << " vs " << fixed_rate;
}

TEST(UserFeatures, PredictiveBidderNamesAnUnknownModel) {
  try {
    RunScenario(test::Parse(FeatureScenario(kUsers, "", "", "{type: predictive_cpa, params: {model: nobody}}")));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("campaigns[0].bidder.params.model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("has none"), std::string::npos) << e.what();
  }
}

// ---- predictive_cpa learning online (docs/audiences.md)

// The lookalike scenario's model (bench/scenarios/lookalike.yaml: beta =
// (0.9, -0.6, 0.4, 0), four N(0, 1) features) on a smaller market for test
// speed: one first-price channel our bids win almost always, 20,000 users,
// ctr 0.06, cvr 0.1 at features 0, conversions after an exponential delay of
// mean 3h. The campaign bids with predictive_cpa learning online.
std::string OnlineScenario(const std::string& extra = "", int seed = 5,
                           const std::string& params =
                               "{learning: online, target_cpa: 1, "
                               "conversion_delay_hours: 3}") {
  return "name: online\nseed: " + std::to_string(seed) +
         "\nduration: 1d\nbucket: 6h\ncontrol_cycle: 1h\n"
         "channels:\n  - name: display\n    auction: first_price\n    traffic: {per_hour: 12000}\n"
         "    competition: {competitors: 3, median: 0.0005, sigma: 0.3}\n"
         "segments:\n  - {name: s, users: 20000, ctr: 0.06, cvr: 0.1, "
         "conversion_delay: {distribution: exponential, mean: 3h}}\n"
         "users:\n  features: {count: 4, distribution: normal}\n"
         "  conversion: {coefficients: [0.9, -0.6, 0.4, 0.0]}\n"
         "campaigns:\n  - name: k\n    bid: 0.01\n    goal: {cpa: 1}\n    bidder: {type: predictive_cpa, params: " +
         params + "}\n" + extra;
}

// The model_fits rows of one term, in time order.
struct TermFits {
  std::vector<int64_t> time;
  std::vector<double> coefficient, standard_error;
};
TermFits FitsOf(const Results& r, const std::string& term) {
  const auto& time = test::Col<int64_t>(r, "model_fits", "time");
  const auto& terms = test::Col<std::string>(r, "model_fits", "term");
  const auto& coefficient = test::Col<double>(r, "model_fits", "coefficient");
  const auto& standard_error = test::Col<double>(r, "model_fits", "standard_error");
  TermFits fits;
  for (size_t i = 0; i < time.size(); ++i)
    if (terms[i] == term) {
      fits.time.push_back(time[i]);
      fits.coefficient.push_back(coefficient[i]);
      fits.standard_error.push_back(standard_error[i]);
    }
  return fits;
}

// As reported conversions accumulate, the refitted coefficients move to the
// true beta: at the last cycle (23h, about 2,000 reported conversions) each
// feature's coefficient lies within 4 of its standard errors of beta_k (the
// fit is the penalised MLE, asymptotically normal with the inverse Hessian as
// covariance; l2 = 1 against thousands of clicks biases it by far less than a
// SE), the standard errors have shrunk to under half of those of the first
// fit with a conversion, and the squared distance to beta over the features
// has fallen (the first fits sit near the prior's 0).
TEST(PredictiveOnline, CoefficientsMoveToTheTruthAsEvidenceAccumulates) {
  const Results r = RunScenario(test::Parse(OnlineScenario()));
  const double beta[4] = {0.9, -0.6, 0.4, 0.0};
  const auto& successes = test::Col<double>(r, "model_fits", "successes");
  ASSERT_FALSE(successes.empty());
  EXPECT_GT(successes.back(), 1000.0);  // enough evidence for the check to mean something
  double first_distance = 0, last_distance = 0;
  for (int k = 0; k < 4; ++k) {
    const TermFits fits = FitsOf(r, "feature_" + std::to_string(k));
    ASSERT_GE(fits.time.size(), 20u) << k;  // one fit per hourly cycle once users have clicked
    EXPECT_EQ(fits.time.back(), 23 * kMicrosPerHour);
    const double last = fits.coefficient.back(), se = fits.standard_error.back();
    EXPECT_LT(se, 0.1) << k;
    EXPECT_NEAR(last, beta[k], 4 * se) << "feature " << k;
    EXPECT_LT(se, 0.5 * fits.standard_error.front()) << k;
    first_distance += (fits.coefficient.front() - beta[k]) * (fits.coefficient.front() - beta[k]);
    last_distance += (last - beta[k]) * (last - beta[k]);
  }
  EXPECT_LT(last_distance, first_distance);
  // The intercept is the logit of the rate at features 0, logit(0.1), when the
  // delay correction is right (its mean is the true 3h here).
  const TermFits intercept = FitsOf(r, "intercept");
  EXPECT_NEAR(intercept.coefficient.back(), std::log(0.1 / 0.9), 4 * intercept.standard_error.back());
}

// The bidder learns only from conversions reported by the cycle's time: with
// a tracking outage from 12h on (every conversion arriving after 12h lost),
// every fit before 12h is bit for bit the fit without the outage (nothing
// reported later can reach it), and the fits after differ (the test can fail:
// the outage removes evidence the fit would use).
TEST(PredictiveOnline, NeverReadsAnOutcomeBeforeItIsReported) {
  const Results clean = RunScenario(test::Parse(OnlineScenario()));
  const Results outage = RunScenario(test::Parse(
      OnlineScenario("shocks:\n  - {name: outage, start: 12h, end: 1d, multiply: {conversion_tracking: 0}}\n")));
  const auto& time_clean = test::Col<int64_t>(clean, "model_fits", "time");
  const auto& time_outage = test::Col<int64_t>(outage, "model_fits", "time");
  const auto& coefficient_clean = test::Col<double>(clean, "model_fits", "coefficient");
  const auto& coefficient_outage = test::Col<double>(outage, "model_fits", "coefficient");
  ASSERT_EQ(time_clean.size(), time_outage.size());
  size_t before = 0, differ_after = 0;
  for (size_t i = 0; i < time_clean.size(); ++i) {
    ASSERT_EQ(time_clean[i], time_outage[i]);
    if (time_clean[i] < 12 * kMicrosPerHour) {
      EXPECT_EQ(coefficient_clean[i], coefficient_outage[i]) << "row " << i << " at " << time_clean[i];
      ++before;
    } else if (coefficient_clean[i] != coefficient_outage[i]) {
      ++differ_after;
    }
  }
  EXPECT_GT(before, 40u);
  EXPECT_GT(differ_after, 20u);
}

// The same seed reproduces every fit and the run's fingerprint exactly;
// another seed gives other fits.
TEST(PredictiveOnline, SeedsReproduceExactly) {
  const Results first = RunScenario(test::Parse(OnlineScenario()));
  const Results again = RunScenario(test::Parse(OnlineScenario()));
  const Results other = RunScenario(test::Parse(OnlineScenario("", 6)));
  EXPECT_EQ(test::Col<double>(first, "model_fits", "coefficient"),
            test::Col<double>(again, "model_fits", "coefficient"));
  EXPECT_EQ(first.text_attrs.at("fingerprint"), again.text_attrs.at("fingerprint"));
  EXPECT_NE(test::Col<double>(first, "model_fits", "coefficient"),
            test::Col<double>(other, "model_fits", "coefficient"));
}

// Offline runs (the default) write no model_fits table, and an online bidder
// given a model is a ConfigError naming the field.
TEST(PredictiveOnline, OfflineWritesNoFitsAndOnlineRefusesAModel) {
  const Results offline = RunScenario(test::Parse(OnlineScenario("", 5, "{target_cpa: 1}")));
  EXPECT_EQ(offline.Find("model_fits"), nullptr);
  auto issues = [] {
    try {
      RunScenario(test::Parse(OnlineScenario("audiences:\n  - {name: la, coefficients: [1, 0, 0, 0], threshold: 0}\n",
                                             5, "{learning: online, model: la}")));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_NE(issues.find("campaigns[0].bidder.params.model"), std::string::npos) << issues;
  EXPECT_NE(issues.find("learning: online"), std::string::npos) << issues;
}

// ---- A lookalike audience fitted inside the run (docs/audiences.md)

// FeatureScenario's market (our bids win every auction) with the lookalike
// scenario's model, conversions after an exponential delay of mean 1h, every
// opportunity logged, and an in-run lookalike `la` (top 20 %, fitted at 12h)
// that the campaign buys alone: {la: 1, others: 0}.
std::string InRunLookalikeScenario(int seed = 5) {
  return "name: inrun\nseed: " + std::to_string(seed) +
         "\nduration: 1d\nbucket: 6h\ncontrol_cycle: 1h\n"
         "channels:\n  - name: display\n    auction: first_price\n    traffic: {per_hour: 12000}\n"
         "    competition: {competitors: 3, median: 0.001, sigma: 0.3}\n"
         "segments:\n  - {name: s, users: 20000, ctr: 0.06, cvr: 0.1, "
         "conversion_delay: {distribution: exponential, mean: 1h}}\n"
         "users:\n  features: {count: 4, distribution: normal}\n"
         "  conversion: {coefficients: [0.9, -0.6, 0.4, 0.0]}\n"
         "audiences:\n  - {name: la, lookalike: {seed: converters, fit_at: 12h, top_share: 0.2}}\n"
         "campaigns:\n  - name: k\n    bid: 0.05\n    audiences: {la: 1, others: 0}\n"
         "recording: {events: true, max_events: 1000000}\n";
}

// At the 12h cycle the engine fits the audience on what was reported by then:
// the same L2 logistic regression (l2 = 1, prior centred on the pooled rate's
// logit) refitted here from the logs (clicks in the events table before 12h,
// conversions reported before 12h in the conversions table) gives the same
// coefficients to 1e-9. Its members are the top 20 % of the 20,000 users by
// that score: exactly 4,000. Before 12h no modifier applies (the campaign
// buys non-members too, although `others` is 0); from 12h on every win is
// on a member. The same seed reproduces the fit and the fingerprint.
TEST(InRunLookalike, FittedAtFitAtOnWhatWasReportedThenAppliedToTheTopShare) {
  const Results r = RunScenario(test::Parse(InRunLookalikeScenario()));
  const SimTime fit_at = 12 * kMicrosPerHour;
  const auto& fit_time = test::Col<int64_t>(r, "model_fits", "time");
  const auto& fit_source = test::Col<std::string>(r, "model_fits", "source");
  const auto& fit_campaign = test::Col<int64_t>(r, "model_fits", "campaign");
  const auto& fit_coefficient = test::Col<double>(r, "model_fits", "coefficient");
  ASSERT_EQ(fit_time.size(), 5u);  // intercept and four features, once
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(fit_time[k], fit_at);
    EXPECT_EQ(fit_source[k], "audience:la");
    EXPECT_EQ(fit_campaign[k], -1);
  }
  // The seed data as logged: clicks before 12h, conversions reported before 12h.
  const size_t users = 20000;
  std::vector<double> clicks(users, 0), conversions(users, 0);
  const auto& event_time = test::Col<int64_t>(r, "events", "time");
  const auto& event_user = test::Col<int64_t>(r, "events", "user");
  const auto& event_click = test::Col<int64_t>(r, "events", "click");
  const auto& winner = test::Col<int64_t>(r, "events", "winner");
  ASSERT_GT(event_time.size(), 250000u);  // every opportunity of the day (about 288,000), none dropped
  for (size_t i = 0; i < event_time.size(); ++i)
    if (event_time[i] < fit_at && event_click[i] == 1 && winner[i] == 0) ++clicks[static_cast<size_t>(event_user[i])];
  const auto& conversion_time = test::Col<int64_t>(r, "conversions", "time");
  const auto& conversion_user = test::Col<int64_t>(r, "conversions", "user");
  const auto& reported = test::Col<int64_t>(r, "conversions", "reported");
  for (size_t i = 0; i < conversion_time.size(); ++i)
    if (conversion_time[i] < fit_at && reported[i] == 1) ++conversions[static_cast<size_t>(conversion_user[i])];
  std::vector<const std::vector<double>*> feature(4);
  for (int k = 0; k < 4; ++k) feature[k] = &test::Col<double>(r, "users", "feature_" + std::to_string(k));
  std::vector<size_t> rows;
  double total_clicks = 0, total_conversions = 0;
  for (size_t u = 0; u < users; ++u)
    if (clicks[u] > 0) {
      rows.push_back(u);
      total_clicks += clicks[u];
      total_conversions += conversions[u];
    }
  ASSERT_GT(total_conversions, 200);
  Eigen::MatrixXd x(static_cast<Eigen::Index>(rows.size()), 5);
  Eigen::VectorXd trials(x.rows()), successes(x.rows());
  for (Eigen::Index j = 0; j < x.rows(); ++j) {
    const size_t u = rows[static_cast<size_t>(j)];
    x(j, 0) = 1;
    for (int k = 0; k < 4; ++k) x(j, k + 1) = (*feature[k])[u];
    trials[j] = clicks[u];
    successes[j] = conversions[u];
  }
  estimators::LogisticModel model(5, 1.0);
  Eigen::VectorXd centre = Eigen::VectorXd::Zero(5);
  centre[0] = estimators::LogisticModel::Logit(total_conversions / total_clicks);
  model.SetPrior(centre);
  model.Fit(x, trials, successes);
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(fit_coefficient[static_cast<size_t>(k)], model.coefficients()[k], 1e-9) << k;
  // Members: the top 20 % by the fitted score.
  std::vector<double> score(users);
  for (size_t u = 0; u < users; ++u) {
    score[u] = fit_coefficient[0];
    for (int k = 0; k < 4; ++k) score[u] += fit_coefficient[static_cast<size_t>(k) + 1] * (*feature[k])[u];
  }
  std::vector<double> sorted = score;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const double threshold = sorted[4000 - 1];
  EXPECT_GT(threshold, sorted[4000]);  // no tie at the threshold: exactly 4,000 members
  int64_t wins_before_members = 0, wins_before_others = 0, wins_after_members = 0, wins_after_others = 0;
  for (size_t i = 0; i < event_time.size(); ++i) {
    if (winner[i] != 0) continue;
    const bool member = score[static_cast<size_t>(event_user[i])] >= threshold;
    if (event_time[i] < fit_at)
      ++(member ? wins_before_members : wins_before_others);
    else
      ++(member ? wins_after_members : wins_after_others);
  }
  // Before: everyone is bought (others at 0 does not apply yet), about 80 % non-members.
  EXPECT_GT(wins_before_others, 2 * wins_before_members);
  EXPECT_GT(wins_after_members, 1000);
  EXPECT_EQ(wins_after_others, 0);
  // Reproducible.
  const Results again = RunScenario(test::Parse(InRunLookalikeScenario()));
  EXPECT_EQ(test::Col<double>(again, "model_fits", "coefficient"), fit_coefficient);
  EXPECT_EQ(again.text_attrs.at("fingerprint"), r.text_attrs.at("fingerprint"));
}

TEST(InRunLookalike, ValidationNamesTheField) {
  const std::string base = std::string(kUsers);
  auto issues = test::IssuesOf(FeatureScenario(
      base + "audiences:\n  - {name: la, threshold: 0, lookalike: {seed: clickers, fit_at: 2d, top_share: 0}}\n"));
  EXPECT_TRUE(HasIssue(issues, "audiences[0].threshold", "no threshold with lookalike")) << ConfigError(issues).what();
  EXPECT_TRUE(HasIssue(issues, "audiences[0].lookalike.seed", "converters")) << ConfigError(issues).what();
  EXPECT_TRUE(HasIssue(issues, "audiences[0].lookalike.fit_at", "before the end of the run"))
      << ConfigError(issues).what();
  EXPECT_TRUE(HasIssue(issues, "audiences[0].lookalike.top_share", "(0, 1]")) << ConfigError(issues).what();
  issues = test::IssuesOf(FeatureScenario(base + "audiences:\n  - {name: la, lookalike: {top_share: 0.1}}\n"));
  EXPECT_TRUE(HasIssue(issues, "audiences[0].lookalike.fit_at", "duration")) << ConfigError(issues).what();
  try {
    RunScenario(test::Parse(FeatureScenario(base + "audiences:\n  - {name: la, lookalike: {fit_at: 6h}}\n", "", "",
                                            "{type: predictive_cpa, params: {model: la}}")));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("fitted during the run"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace adsim

// Users' public features and audiences (core/engine/user_features.h,
// docs/audiences.md): the `users:` and `audiences:` blocks' validation; a
// features-only scenario changes no existing table; the feature-dependent
// conversion model, whose known coefficients the project's logistic fitter
// recovers within their standard errors; an audience's members convert more
// than the average; a campaign's audience modifiers decide whom it buys; and
// the predictive_cpa bidder. That scenarios without `users:` are unchanged is
// pinned by the golden digests (Golden.*).
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "strategies/bidders/lib/logistic_model.h"
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

}  // namespace
}  // namespace adsim

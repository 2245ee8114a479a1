// The attribution models (core/attribution/): every model on small paths whose
// credit is computed by hand in the comments, the path reader's errors, and
// the shared ChannelAttribution data (tests/data/channel-attribution/): the
// heuristic models reproduce its README table to 1e-4, the Markov models
// conserve the totals and the chain reproduces P(conversion) = C / journeys.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "core/attribution/models.h"
#include "core/error.h"

namespace adsim::attribution {
namespace {

PathData Read(const std::string& text, const std::string& source = "test.csv") {
  std::istringstream in(text);
  return ReadPathsCsv(in, source);
}

// Credit per channel name: {conversions, value}.
std::map<std::string, std::pair<double, double>> ByName(const PathData& data, const ModelCredit& credit) {
  std::map<std::string, std::pair<double, double>> out;
  for (size_t c = 0; c < data.channel_names.size(); ++c)
    out[data.channel_names[c]] = {credit.conversions[c], credit.value[c]};
  return out;
}

void ExpectCredit(const PathData& data, const std::string& model, const std::map<std::string, double>& conversions,
                  const std::map<std::string, double>& value, const ModelOptions& options = {}) {
  const auto credit = ByName(data, Attribute(data, model, options));
  ASSERT_EQ(credit.size(), conversions.size()) << model;
  for (const auto& [channel, expected] : conversions)
    EXPECT_NEAR(credit.at(channel).first, expected, 1e-12) << model << " conversions of " << channel;
  for (const auto& [channel, expected] : value)
    EXPECT_NEAR(credit.at(channel).second, expected, 1e-12) << model << " value of " << channel;
}

// Five paths over a, b, c and direct (channel order: first appearance).
const char* kHeuristicPaths =
    "path;total_conversions;total_conversion_value;total_null\n"
    "a > b > a > c;2;20;0\n"
    "c;1;5;3\n"
    "b > direct;1;8;0\n"
    "direct;1;2;0\n"
    "a > b;0;0;5\n";

TEST(Attribution, FirstTouchCreditsTheFirstChannel) {
  // a: 2 (path 1), c: 1, b: 1, direct: 1; values follow their paths.
  ExpectCredit(Read(kHeuristicPaths), "first_touch", {{"a", 2}, {"b", 1}, {"c", 1}, {"direct", 1}},
               {{"a", 20}, {"b", 8}, {"c", 5}, {"direct", 2}});
}

TEST(Attribution, LastTouchCreditsTheLastChannel) {
  // c: 2 + 1, direct: 1 + 1.
  ExpectCredit(Read(kHeuristicPaths), "last_touch", {{"a", 0}, {"b", 0}, {"c", 3}, {"direct", 2}},
               {{"a", 0}, {"b", 0}, {"c", 25}, {"direct", 10}});
}

TEST(Attribution, LastNonDirectSkipsDirectUnlessThePathIsAllDirect) {
  // b > direct -> b; direct alone -> direct.
  ExpectCredit(Read(kHeuristicPaths), "last_non_direct", {{"a", 0}, {"b", 1}, {"c", 3}, {"direct", 1}},
               {{"a", 0}, {"b", 8}, {"c", 25}, {"direct", 2}});
  // Another direct channel name: "b" is now the one skipped.
  ModelOptions options;
  options.direct_channel = "b";
  ExpectCredit(Read(kHeuristicPaths), "last_non_direct", {{"a", 0}, {"b", 0}, {"c", 3}, {"direct", 2}},
               {{"a", 0}, {"b", 0}, {"c", 25}, {"direct", 10}}, options);
}

TEST(Attribution, LinearSplitsPerTouchOccurrence) {
  // Path 1: 4 touches of 2/4 each (a twice: 1.0); value 5 per touch.
  // a 1, b 0.5 + 0.5, c 0.5 + 1, direct 0.5 + 1.
  ExpectCredit(Read(kHeuristicPaths), "linear", {{"a", 1}, {"b", 1}, {"c", 1.5}, {"direct", 1.5}},
               {{"a", 10}, {"b", 5 + 4}, {"c", 5 + 5}, {"direct", 4 + 2}});
}

TEST(Attribution, LinearUniqueSplitsPerDistinctChannel) {
  // Path 1: {a, b, c} get 2/3 each; b > direct: 1/2 each.
  ExpectCredit(Read(kHeuristicPaths), "linear_unique",
               {{"a", 2.0 / 3}, {"b", 2.0 / 3 + 0.5}, {"c", 2.0 / 3 + 1}, {"direct", 1.5}},
               {{"a", 20.0 / 3}, {"b", 20.0 / 3 + 4}, {"c", 20.0 / 3 + 5}, {"direct", 4 + 2}});
}

TEST(Attribution, TimeDecayHalvesPerTouchBeforeTheLast) {
  // Half-life 1 touch. Path 1: weights 1/8, 1/4, 1/2, 1 over 15/8 = 1/15, 2/15,
  // 4/15, 8/15: a (1 + 4)/15 x 2 = 2/3, b 4/15, c 16/15. b > direct: 1/3, 2/3.
  ExpectCredit(Read(kHeuristicPaths), "time_decay",
               {{"a", 2.0 / 3}, {"b", 4.0 / 15 + 1.0 / 3}, {"c", 16.0 / 15 + 1}, {"direct", 2.0 / 3 + 1}},
               {{"a", 20.0 / 3}, {"b", 40.0 / 15 + 8.0 / 3}, {"c", 160.0 / 15 + 5}, {"direct", 16.0 / 3 + 2}});
  // Half-life 2 touches on "b > direct": weights 2^(-1/2), 1.
  ModelOptions options;
  options.half_life_touches = 2;
  const PathData two = Read("path;total_conversions\nb > direct;1\n");
  const double w = std::exp2(-0.5) / (std::exp2(-0.5) + 1);
  ExpectCredit(two, "time_decay", {{"b", w}, {"direct", 1 - w}}, {{"b", 0}, {"direct", 0}}, options);
}

TEST(Attribution, TimeDecayOnTimedPathsUsesDaysBeforeTheConversion) {
  // Touches 14 and 7 days before the conversion, half-life 7 days: 1/4 and
  // 1/2, normalised to 1/3 and 2/3.
  PathData data;
  Path path;
  path.channels = {data.ChannelIndex("a"), data.ChannelIndex("b")};
  path.touch_times = {0, 7 * kMicrosPerDay};
  path.end_time = 14 * kMicrosPerDay;
  path.conversions = 3;
  path.value = 30;
  data.paths.push_back(path);
  ExpectCredit(data, "time_decay", {{"a", 1}, {"b", 2}}, {{"a", 10}, {"b", 20}});
  // One time per touch, or none.
  data.paths[0].touch_times.pop_back();
  EXPECT_THROW(Attribute(data, "time_decay"), DataError);
}

TEST(Attribution, PositionBasedIsUShaped) {
  // 40/20/40. Path 1: a 0.4 + 0.1, b 0.1, c 0.4 (x 2 conversions);
  // b > direct: 0.4 / 0.8 each = 1/2.
  ExpectCredit(Read(kHeuristicPaths), "position_based", {{"a", 1}, {"b", 0.2 + 0.5}, {"c", 0.8 + 1}, {"direct", 1.5}},
               {{"a", 10}, {"b", 2 + 4}, {"c", 8 + 5}, {"direct", 4 + 2}});
  // 30/40/30 from options: a 0.3 + 0.2, b 0.2, c 0.3.
  ModelOptions options = ParseModelOptions({{"first_weight", "0.3"}, {"last_weight", "0.3"}});
  ExpectCredit(Read(kHeuristicPaths), "position_based", {{"a", 1}, {"b", 0.4 + 0.5}, {"c", 0.6 + 1}, {"direct", 1.5}},
               {{"a", 10}, {"b", 4 + 4}, {"c", 6 + 5}, {"direct", 4 + 2}}, options);
}

// start -> a (2), start -> b (4), a -> b (2); b -> conversion 2, null 4.
const char* kMarkovPaths =
    "path;total_conversions;total_conversion_value;total_null\n"
    "a > b;1;6;1\n"
    "b;1;3;3\n";

TEST(Attribution, Markov1RemovalEffectsByHand) {
  // P(conv) = 1/3 from every state. Without a: 4/6 x 1/3 = 2/9, effect 1/3;
  // without b: 0, effect 1. Conversions 2 split 1/3 : 1 -> a 0.5, b 1.5.
  // Value: 9/6 = 1.5 per exit of b; without a 4/6 x 1.5 = 1, effect 1/3 ->
  // a 9 x (1/3)/(4/3) = 2.25, b 6.75.
  const PathData data = Read(kMarkovPaths);
  const JourneyChain chain(data, 1);
  EXPECT_NEAR(chain.Absorption({0, 0}).first, 1.0 / 3, 1e-14);
  EXPECT_NEAR(chain.Absorption({1, 0}).first, 2.0 / 9, 1e-14);
  EXPECT_NEAR(chain.Absorption({1, 0}).second, 1.0, 1e-14);
  ExpectCredit(data, "markov1", {{"a", 0.5}, {"b", 1.5}}, {{"a", 2.25}, {"b", 6.75}});
}

TEST(Attribution, Markov2SeesWhatCameBefore) {
  // b converts after a, never after c. First order: P(conv | b) = 1/2, so a
  // and c look alike (effects 1/2 each, b 1): a 0.25, b 0.5, c 0.25.
  // Second order: state (a, b) converts, (c, b) does not: removing c loses
  // nothing (effect 0), removing a or b loses everything: a 0.5, b 0.5, c 0.
  const PathData data = Read("path;total_conversions;total_conversion_value;total_null\na > b;1;4;0\nc > b;0;0;1\n");
  ExpectCredit(data, "markov1", {{"a", 0.25}, {"b", 0.5}, {"c", 0.25}}, {{"a", 1}, {"b", 2}, {"c", 1}});
  ExpectCredit(data, "markov2", {{"a", 0.5}, {"b", 0.5}, {"c", 0}}, {{"a", 2}, {"b", 2}, {"c", 0}});
  EXPECT_EQ(JourneyChain(data, 1).StateCount(), 4);  // start, a, b, c
  EXPECT_EQ(JourneyChain(data, 2).StateCount(), 5);  // start, (a), (c), (a b), (c b)
}

TEST(Attribution, ShapleyOfTheChainGameByHand) {
  // v(S) = 6 journeys x P(conv | only S). v({}) = v({a}) = 0, v({b}) =
  // 6 x 2/9 = 4/3, v({a, b}) = 2. phi_a = (0 + (2 - 4/3)) / 2 = 1/3,
  // phi_b = (4/3 + 2) / 2 = 5/3. Value: v({b}) = 6 x 1 = 6, v({a, b}) = 9:
  // phi_a = 3/2, phi_b = 15/2.
  const PathData data = Read(kMarkovPaths);
  ExpectCredit(data, "shapley", {{"a", 1.0 / 3}, {"b", 5.0 / 3}}, {{"a", 1.5}, {"b", 7.5}});
  const ModelCredit credit = Attribute(data, "shapley");
  EXPECT_EQ(credit.conversions_se, std::vector<double>(2, 0.0));  // exact
}

TEST(Attribution, ShapleyIsSampledBeyondShapleyExactMaxChannels) {
  // 16 channels, each path "c_i > c_{i+1}": more than the default 15, so the
  // value is sampled (with its standard errors) and still sums to the total.
  std::string text = "path;total_conversions;total_conversion_value;total_null\n";
  for (int i = 0; i < 16; ++i)
    text += "c" + std::to_string(i) + " > c" + std::to_string((i + 1) % 16) + ";" + std::to_string(i + 1) + ";" +
            std::to_string(2 * (i + 1)) + ";" + std::to_string(16 - i) + "\n";
  const PathData data = Read(text);
  ASSERT_EQ(data.channel_names.size(), 16u);
  ModelOptions options;
  options.shapley_samples = 40;
  const ModelCredit credit = Attribute(data, "shapley", options);
  EXPECT_EQ(credit.note, "sampled: 40 permutations of 16 channels, seed 1");
  double total = 0, errors = 0;
  for (size_t c = 0; c < 16; ++c) {
    total += credit.conversions[c];
    errors += credit.conversions_se[c];
  }
  EXPECT_NEAR(total, 136, 1e-9);  // 1 + 2 + ... + 16
  EXPECT_GT(errors, 0);
}

TEST(Attribution, HoldoutMeasuresTheDifferenceInMeansTimesTheExposedUsers) {
  PathData data = Read("path;total_conversions;total_conversion_value;total_null\nsearch > display;3;30;5\n");
  // display: 4 held-out users with 1, 0, 0, 1 conversions (value 10 each);
  // 6 exposed users with 2, 1, 0, 1, 0, 2 conversions (value 10 each).
  //   held-out mean 2/4 = 0.5, exposed mean 6/6 = 1: (1 - 0.5) x 6 = 3 conversions, value 30.
  //   per-user variances: held out (2 - 4 x 0.25) / 3 = 1/3, exposed (10 - 6 x 1) / 5 = 0.8;
  //   SE = 6 x sqrt(0.8 / 6 + (1/3) / 4) = 6 x sqrt(0.21667) = 2.7928.
  ChannelHoldout display;
  display.channel = "display";
  display.held_out = {4, 2, 2, 20, 200};
  display.exposed = {6, 6, 10, 60, 1000};
  data.holdout.push_back(display);
  const ModelCredit credit = Attribute(data, "holdout");
  const auto by_name = ByName(data, credit);
  EXPECT_NEAR(by_name.at("display").first, 3.0, 1e-12);
  EXPECT_NEAR(by_name.at("display").second, 30.0, 1e-12);
  EXPECT_NEAR(credit.conversions_se[1], 6 * std::sqrt(0.8 / 6 + (1.0 / 3) / 4), 1e-12);
  EXPECT_NEAR(credit.value_se[1], 10 * credit.conversions_se[1], 1e-9);  // every value is 10 x the count
  // search had no holdout: 0, and the note says so.
  EXPECT_EQ(by_name.at("search").first, 0.0);
  EXPECT_NE(credit.note.find("no holdout on search"), std::string::npos) << credit.note;
  // Path data without holdout counts (a CSV file) cannot give this model anything.
  data.holdout.clear();
  try {
    Attribute(data, "holdout");
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("journeys.holdout"), std::string::npos) << e.what();
  }
}

// A holdout on `channel` whose measured lift is `lift` conversions (value 10 per
// conversion) with per-user variance `variance` in both groups: 8,000 exposed
// and 2,000 held-out users, held-out mean 0.05. Sums of squares from
// Q = (n - 1) variance + n mean^2, so the holdout's SE is
// 8000 sqrt(variance / 8000 + variance / 2000) = sqrt(40000 variance) = 200 sqrt(variance).
ChannelHoldout MakeHoldout(const std::string& channel, double lift, double variance) {
  const double exposed_users = 8000, held_users = 2000, held_mean = 0.05;
  const double exposed_mean = held_mean + lift / exposed_users;
  auto group = [variance](double users, double mean) {
    const double sum = users * mean, sum_sq = (users - 1) * variance + users * mean * mean;
    return HoldoutGroup{users, sum, sum_sq, 10 * sum, 100 * sum_sq};
  };
  return ChannelHoldout{channel, group(held_users, held_mean), group(exposed_users, exposed_mean)};
}

// Paths whose first touches credit a 60, b 30, c 10 (shares 0.6, 0.3, 0.1).
const char* kCalibrationPaths =
    "path;total_conversions;total_conversion_value;total_null\n"
    "a > b;60;600;100\n"
    "b > c;30;300;50\n"
    "c;10;100;40\n";

PathData CalibrationData(const std::vector<std::pair<double, double>>& lift_and_variance) {
  PathData data = Read(kCalibrationPaths);
  const char* names[] = {"a", "b", "c"};
  for (size_t c = 0; c < lift_and_variance.size(); ++c)
    data.holdout.push_back(MakeHoldout(names[c], lift_and_variance[c].first, lift_and_variance[c].second));
  return data;
}

double Sum(const std::vector<double>& values) {
  double total = 0;
  for (const double v : values) total += v;
  return total;
}

// holdout_calibrated with one fixed prior (first touch), whatever the default.
ModelOptions FirstTouchPrior() { return ParseModelOptions({{"calibration_prior", "first_touch"}}); }

TEST(AttributionCalibrated, ConservesTheHoldoutsTotal) {
  // Whatever the shrinkage, the credits add up to sum h_c (the Gaussian
  // conditional on the measured total), in conversions and in value.
  for (const auto& setup : std::vector<std::vector<std::pair<double, double>>>{
           {{30, 0.05}, {40, 0.05}, {30, 0.05}},     // disagrees with the prior (0.6, 0.3, 0.1)
           {{80, 0.02}, {10, 0.2}, {-5, 0.05}},      // unequal SEs, a negative lift
           {{60, 0.05}, {30, 0.05}, {10, 0.05}}}) {  // agrees with it
    const PathData data = CalibrationData(setup);
    const ModelCredit holdout = Attribute(data, "holdout");
    for (const char* prior : {"first_touch", "markov1", "average", "best_fit"}) {
      const ModelCredit credit =
          Attribute(data, "holdout_calibrated", ParseModelOptions({{"calibration_prior", prior}}));
      EXPECT_NEAR(Sum(credit.conversions), Sum(holdout.conversions), 1e-9) << prior;
      EXPECT_NEAR(Sum(credit.value), Sum(holdout.value), 1e-7) << prior;
    }
  }
}

TEST(AttributionCalibrated, ANoiselessHoldoutIsTheHoldout) {
  // Variance 0: s_c = 0, gamma_c = 1 at every tau: the credit is h_c exactly.
  const PathData data = CalibrationData({{30, 0}, {40, 0}, {30, 0}});
  const ModelCredit credit = Attribute(data, "holdout_calibrated");
  const ModelCredit holdout = Attribute(data, "holdout");
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(credit.conversions[c], holdout.conversions[c], 1e-9) << c;
    EXPECT_NEAR(credit.value[c], holdout.value[c], 1e-8) << c;
    EXPECT_EQ(credit.conversions_se[c], 0.0);
  }
}

TEST(AttributionCalibrated, AHoldoutThatAgreesWithThePriorKeepsItAndNarrowsTheError) {
  // h = (60, 30, 10) = the prior's shares x H: every residual is 0, so the
  // credit is h whatever tau; pooling with the prior lowers the SE below s_c.
  const PathData data = CalibrationData({{60, 0.05}, {30, 0.05}, {10, 0.05}});
  const ModelCredit credit = Attribute(data, "holdout_calibrated", FirstTouchPrior());
  const ModelCredit holdout = Attribute(data, "holdout");
  const double expected[] = {60, 30, 10};
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(credit.conversions[c], expected[c], 1e-6) << c;
    EXPECT_LT(credit.conversions_se[c], 0.9 * holdout.conversions_se[c]) << c;
  }
}

TEST(AttributionCalibrated, WeighsTheHoldoutByItsNoiseAgainstTheDisagreement) {
  // Prior shares (0.6, 0.3, 0.1) of H = 100, holdout (10, 30, 60): residuals
  // (-50, 0, +50). With a precise holdout (s = 200 sqrt(1e-4) = 2, 25 times
  // smaller than the disagreement) the credit stays near h; as s grows to
  // 200 sqrt(0.2) = 89 it moves toward the prior, monotonically.
  double previous_distance = 0;
  for (const double variance : {1e-4, 0.01, 0.05, 0.2}) {
    const PathData data = CalibrationData({{10, variance}, {30, variance}, {60, variance}});
    const ModelCredit credit = Attribute(data, "holdout_calibrated", FirstTouchPrior());
    const double distance = std::abs(credit.conversions[0] - 10) + std::abs(credit.conversions[2] - 60);
    if (variance == 1e-4) {
      EXPECT_LT(distance, 1.0);  // within half a conversion each
    }
    EXPECT_GT(distance, previous_distance) << variance;
    // Always between the holdout (10) and the prior (60) for a, and 60 and 10 for c.
    EXPECT_GT(credit.conversions[0], 10);
    EXPECT_LT(credit.conversions[0], 60);
    EXPECT_LT(credit.conversions[2], 60);
    EXPECT_GT(credit.conversions[2], 10);
    previous_distance = distance;
  }
}

TEST(AttributionCalibrated, TwoChannelsAgreeWithAnIndependentQuadrature) {
  // Two channels: first touches a 60, b 40 (prior shares 0.6, 0.4); holdout
  // a 20 +- 200 sqrt(0.05), b 50 +- 200 sqrt(0.02), H = 70, residuals -22, +22. One free residual r_a = h_a - 0.6 H
  // with variance (1 - 0.6)^2 (tau^2 + s_a^2) + 0.6^2 (tau^2 + s_b^2); a flat prior on tau in (0, upper], upper =
  // max(total conversions 100, |h| + 10 s); the credit is E[prior + gamma r] shifted to add up to H by the posterior
  // variances.
  PathData data = Read("path;total_conversions\na > b;60\nb;40\n");
  data.holdout = {MakeHoldout("a", 20, 0.05), MakeHoldout("b", 50, 0.02)};
  const ModelCredit credit = Attribute(data, "holdout_calibrated", FirstTouchPrior());
  const double h[] = {20, 50}, s[] = {200 * std::sqrt(0.05), 200 * std::sqrt(0.02)};
  const double total = 70, share[] = {0.6, 0.4};
  const double upper = std::max({100.0, 20 + 10 * s[0], 50 + 10 * s[1]});
  // Trapezoid rule on 200,000 intervals (the model uses 2,000 midpoints).
  const int steps = 200000;
  double weights = 0, mean[2] = {0, 0}, second[2] = {0, 0}, variance[2] = {0, 0};
  const double r[] = {h[0] - share[0] * total, h[1] - share[1] * total};
  for (int k = 0; k <= steps; ++k) {
    const double tau_sq = std::pow(upper * k / steps, 2);
    const double v = std::pow(1 - share[0], 2) * (tau_sq + s[0] * s[0]) + share[0] * share[0] * (tau_sq + s[1] * s[1]);
    const double weight = (k == 0 || k == steps ? 0.5 : 1.0) * std::exp(-0.5 * r[0] * r[0] / v) / std::sqrt(v);
    weights += weight;
    for (int c = 0; c < 2; ++c) {
      const double gamma = tau_sq / (tau_sq + s[c] * s[c]);
      const double value = share[c] * total + gamma * r[c];
      mean[c] += weight * value;
      second[c] += weight * value * value;
      variance[c] += weight * gamma * s[c] * s[c];
    }
  }
  double v_total = 0, m_total = 0, v[2];
  for (int c = 0; c < 2; ++c) {
    mean[c] /= weights;
    v[c] = variance[c] / weights + second[c] / weights - mean[c] * mean[c];
    v_total += v[c];
    m_total += mean[c];
  }
  for (int c = 0; c < 2; ++c)
    EXPECT_NEAR(credit.conversions[c], mean[c] + v[c] / v_total * (total - m_total), 0.05) << c;
}

TEST(AttributionCalibrated, ChannelsWithoutAHoldoutGetNothingAndThePriorIsChecked) {
  PathData data = CalibrationData({{30, 0.05}, {40, 0.05}});  // c has no holdout
  const ModelCredit credit = Attribute(data, "holdout_calibrated", FirstTouchPrior());
  EXPECT_EQ(credit.conversions[2], 0.0);
  EXPECT_NE(credit.note.find("no holdout on c"), std::string::npos) << credit.note;
  EXPECT_NE(credit.note.find("prior first_touch"), std::string::npos) << credit.note;
  EXPECT_NEAR(credit.conversions[0] + credit.conversions[1], 70, 1e-9);
  // Another prior changes the credit (markov1 shares differ from first_touch's).
  const ModelCredit markov =
      Attribute(data, "holdout_calibrated", ParseModelOptions({{"calibration_prior", "markov1"}}));
  EXPECT_NE(markov.conversions[0], credit.conversions[0]);
  EXPECT_EQ(ParseModelOptions({{"calibration_prior", "average"}}).calibration_prior, "average");
  EXPECT_EQ(ParseModelOptions({{"calibration_prior", "best_fit"}}).calibration_prior, "best_fit");
  EXPECT_THROW(ParseModelOptions({{"calibration_prior", "holdout"}}), ConfigError);
  EXPECT_THROW(ParseModelOptions({{"calibration_prior", "holdout_calibrated"}}), ConfigError);
  try {
    ParseModelOptions({{"calibration_prior", "lineer"}});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--param calibration_prior: expected a path model"), std::string::npos)
        << e.what();
  }
  ModelOptions itself;  // built in code, past ParseModelOptions: refused, not an endless recursion
  itself.calibration_prior = "holdout_calibrated";
  EXPECT_THROW(Attribute(data, "holdout_calibrated", itself), ConfigError);
  data.holdout.clear();
  EXPECT_THROW(Attribute(data, "holdout_calibrated"), DataError);
}

// The credit of one path model on kCalibrationPaths scaled to a total of 100:
// a holdout that measures exactly that model's shares.
std::vector<double> SharesOf(const std::string& model) {
  const ModelCredit credit = Attribute(Read(kCalibrationPaths), model);
  std::vector<double> shares = credit.conversions;
  for (double& share : shares) share *= 100 / Sum(credit.conversions);
  return shares;
}

TEST(AttributionCalibrated, PriorWeightsAddUpToOneAndFavourThePriorThatMatchesTheHoldout) {
  // On kCalibrationPaths the candidates disagree: first touch credits (a, b, c)
  // (60, 30, 10), last touch (0, 60, 40), time decay (20, 50, 30), linear and
  // position-based (30, 45, 25), markov1 (31, 47, 22), Shapley (25, 50, 25). A holdout measuring exactly one
  // candidate's shares (H = 100) with s = 200 sqrt(0.002) = 8.9 per channel, well below the 10 to 60 between
  // candidates: that candidate's residuals are 0, the others' several s, so its evidence and weight are the largest
  // (not all of it: markov1 (31, 47, 22) and Shapley (25, 50, 25) are within 1 to 2 s of linear and time decay); the
  // weights of each measure add up to 1, and best_fit puts all of it on that candidate.
  for (const char* matching : {"first_touch", "last_touch", "time_decay"}) {
    const std::vector<double> shares = SharesOf(matching);
    const PathData data = CalibrationData({{shares[0], 0.002}, {shares[1], 0.002}, {shares[2], 0.002}});
    const std::vector<PriorWeight> weights = CalibrationPriorWeights(data);
    ASSERT_EQ(weights.size(), 7u);
    double conversions = 0, value = 0;
    const PriorWeight* best = &weights[0];
    for (const PriorWeight& weight : weights) {
      EXPECT_GE(weight.conversions, 0.0) << weight.model;
      EXPECT_GE(weight.value, 0.0) << weight.model;
      conversions += weight.conversions;
      value += weight.value;
      if (weight.conversions > best->conversions) best = &weight;
    }
    EXPECT_NEAR(conversions, 1.0, 1e-12) << matching;
    EXPECT_NEAR(value, 1.0, 1e-12) << matching;
    EXPECT_EQ(best->model, matching);
    // Value is 10 per conversion in both the paths and the holdout: the same fit.
    EXPECT_NEAR(best->value, best->conversions, 1e-9) << matching;
    for (const PriorWeight& weight :
         CalibrationPriorWeights(data, ParseModelOptions({{"calibration_prior", "best_fit"}})))
      EXPECT_EQ(weight.conversions, weight.model == matching ? 1.0 : 0.0) << matching << " " << weight.model;
    // The averaged credit: the holdout's total, close to the holdout it agrees with.
    const ModelCredit credit =
        Attribute(data, "holdout_calibrated", ParseModelOptions({{"calibration_prior", "average"}}));
    EXPECT_NEAR(Sum(credit.conversions), 100, 1e-9);
    EXPECT_NE(credit.note.find(std::string(matching) + " 0."), std::string::npos) << credit.note;
  }
}

TEST(AttributionCalibrated, TheAverageIsAMixtureOfTheSinglePriorCalibrations) {
  // credit_c = sum_m w_m credit_c(m): inside the range of the candidates'
  // calibrated credits, and its variance sum_m w_m (se_m^2 + (credit_m - credit)^2)
  // at least the smallest of the candidates' se^2.
  const PathData data = CalibrationData({{35, 0.05}, {45, 0.05}, {20, 0.05}});
  const ModelCredit average =
      Attribute(data, "holdout_calibrated", ParseModelOptions({{"calibration_prior", "average"}}));
  const std::vector<PriorWeight> weights = CalibrationPriorWeights(data);
  for (size_t c = 0; c < 3; ++c) {
    double low = INFINITY, high = -INFINITY, mixture = 0, smallest_se = INFINITY;
    for (const PriorWeight& weight : weights) {
      const ModelCredit single =
          Attribute(data, "holdout_calibrated", ParseModelOptions({{"calibration_prior", weight.model}}));
      low = std::min(low, single.conversions[c]);
      high = std::max(high, single.conversions[c]);
      smallest_se = std::min(smallest_se, single.conversions_se[c]);
      mixture += weight.conversions * single.conversions[c];
    }
    EXPECT_NEAR(average.conversions[c], mixture, 1e-9) << c;
    EXPECT_GE(average.conversions[c], low - 1e-9) << c;
    EXPECT_LE(average.conversions[c], high + 1e-9) << c;
    EXPECT_GE(average.conversions_se[c], smallest_se - 1e-9) << c;
  }
  // The holdout (35, 45, 20) is between linear's shares (30, 45, 25) and time
  // decay's (20, 50, 30) and far from last touch's (0, 60, 40) in units of
  // s = 44.7 per channel: no single candidate takes everything.
  for (const PriorWeight& weight : weights) EXPECT_LT(weight.conversions, 0.9) << weight.model;
}

TEST(AttributionCalibrated, WithoutAPriorThatCreditsTheMeasuredChannelsTheHoldoutStands) {
  // Conversions only on paths of c, which has no holdout: every candidate
  // credits a and b with 0, none has shares to shrink toward, so the data-driven
  // priors return the holdout unchanged and give every candidate weight 0.
  PathData data = Read("path;total_conversions;total_conversion_value;total_null\nc;10;100;5\na;0;0;20\nb;0;0;20\n");
  data.holdout = {MakeHoldout("a", 30, 0.05), MakeHoldout("b", 40, 0.05)};
  const ModelCredit holdout = Attribute(data, "holdout");
  for (const char* prior : {"average", "best_fit"}) {
    const ModelCredit credit = Attribute(data, "holdout_calibrated", ParseModelOptions({{"calibration_prior", prior}}));
    for (size_t c = 0; c < 3; ++c) {
      EXPECT_EQ(credit.conversions[c], holdout.conversions[c]) << prior << " " << c;
      EXPECT_EQ(credit.conversions_se[c], holdout.conversions_se[c]) << prior << " " << c;
    }
  }
  for (const PriorWeight& weight : CalibrationPriorWeights(data)) EXPECT_EQ(weight.conversions, 0.0) << weight.model;
}

TEST(Attribution, ModelNamesAndParametersAreChecked) {
  for (const char* name :
       {"first_touch", "last_touch", "last_non_direct", "linear", "linear_unique", "time_decay", "position_based",
        "markov1", "markov2", "markov3", "shapley", "holdout", "holdout_calibrated"})
    EXPECT_NO_THROW(CheckModelName(name)) << name;
  for (const char* name : {"markov", "markov0", "markov01", "markov9", "Linear", "first-touch", ""})
    EXPECT_THROW(CheckModelName(name), ConfigError) << name;
  try {
    CheckModelName("lineer");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--model: expected one of first_touch, last_touch"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("found 'lineer'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ParseModelOptions({{"half_life", "2"}}), ConfigError);
  EXPECT_THROW(ParseModelOptions({{"half_life_touches", "0"}}), ConfigError);
  EXPECT_THROW(ParseModelOptions({{"first_weight", "0.7"}}), ConfigError);  // 0.7 + 0.4 > 1
  EXPECT_THROW(ParseModelOptions({{"shapley_samples", "1"}}), ConfigError);
  EXPECT_THROW(ParseModelOptions({{"seed", "-1"}}), ConfigError);
  EXPECT_EQ(ParseModelOptions({{"seed", "18446744073709551615"}}).seed, 18446744073709551615ull);
}

// The first bad row's message names the file, the line and the field.
std::string ReadError(const std::string& text) {
  try {
    Read(text, "bad.csv");
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Attribution, BadRowsAreReportedWithFileLineAndField) {
  const std::string header = "path;total_conversions;total_conversion_value;total_null\n";
  EXPECT_EQ(ReadError(header + "a;1;2;0\na > b;x;0;1\n"),
            "bad.csv:3: total_conversions: expected a finite number >= 0, found 'x'");
  EXPECT_EQ(ReadError(header + "a;1;2;-3\n"), "bad.csv:2: total_null: expected a finite number >= 0, found '-3'");
  EXPECT_EQ(ReadError(header + "a;1;nan;0\n"),
            "bad.csv:2: total_conversion_value: expected a finite number >= 0, found 'nan'");
  EXPECT_EQ(ReadError(header + "a >  > b;1;2;0\n"),
            "bad.csv:2: path: expected channel names joined by ' > ' (no empty name, touch 2), found 'a >  > b'");
  EXPECT_EQ(ReadError(header + "a;1;2\n"), "bad.csv:2: row: expected 4 fields separated by ';', found 3 in 'a;1;2'");
  EXPECT_EQ(ReadError(header + "a;0;2;1\n"),
            "bad.csv:2: total_conversion_value: expected 0 on a path without conversions, found '2'");
  EXPECT_EQ(ReadError(header + "a;;2;1\n"),
            "bad.csv:2: total_conversions: expected a number >= 0, found an empty field");
  EXPECT_EQ(ReadError("path,total_conversions\n"),
            "bad.csv:1: header: expected the columns path;total_conversions;total_conversion_value;total_null, found "
            "unknown column 'path,total_conversions'");
  EXPECT_EQ(ReadError("path;total_null\n"),
            "bad.csv:1: header: expected a column 'total_conversions' (or 'conversions'), found 'path;total_null'");
  EXPECT_EQ(ReadError(""),
            "bad.csv:1: header: expected a header row path;total_conversions;total_conversion_value;total_null, found "
            "an empty file");
  // Windows line ends, blank lines and spaces around names are accepted.
  const PathData data = Read("path;conversions;value;null\r\n\r\n a >b ;1;2.5;0\r\n");
  ASSERT_EQ(data.paths.size(), 1u);
  EXPECT_EQ(data.channel_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(data.paths[0].value, 2.5);
}

// ---- The shared data (tests/data/channel-attribution/README.md).

const PathData& SharedData() {
  static const PathData data = [] {
    const std::string path = std::string(ADSIM_SOURCE_DIR) + "/tests/data/channel-attribution/paths.csv";
    std::ifstream in(path);
    return ReadPathsCsv(in, path);
  }();
  return data;
}

TEST(AttributionSharedData, ReadsTheDocumentedTotals) {
  const PathData& data = SharedData();
  EXPECT_EQ(data.paths.size(), 10000u);
  EXPECT_EQ(data.channel_names.size(), 12u);
  EXPECT_EQ(data.TotalConversions(), 19785);
  EXPECT_NEAR(data.TotalValue(), 74802.972, 5e-4);
  EXPECT_EQ(data.TotalNulls(), 68602);
  size_t longest = 0;
  for (const Path& p : data.paths) longest = std::max(longest, p.channels.size());
  EXPECT_EQ(longest, 89u);
}

TEST(AttributionSharedData, HeuristicsReproduceTheReadmeTable) {
  // channel: first touch, last touch, linear (README of the data).
  const std::map<std::string, std::array<double, 3>> table = {{"alpha", {6308, 8447, 7574.7186}},
                                                              {"iota", {4606, 3355, 3857.0962}},
                                                              {"eta", {3164, 4167, 3539.9512}},
                                                              {"beta", {2831, 989, 2083.5001}},
                                                              {"theta", {1606, 653, 1022.8014}},
                                                              {"lambda", {902, 1207, 1035.2576}},
                                                              {"epsilon", {99, 531, 272.1704}},
                                                              {"gamma", {165, 92, 121.0416}},
                                                              {"kappa", {74, 230, 137.9641}},
                                                              {"zeta", {27, 107, 136.5515}},
                                                              {"mi", {2, 2, 2.2222}},
                                                              {"delta", {1, 5, 1.7250}}};
  const PathData& data = SharedData();
  const char* models[] = {"first_touch", "last_touch", "linear"};
  for (int m = 0; m < 3; ++m) {
    const auto credit = ByName(data, Attribute(data, models[m]));
    ASSERT_EQ(credit.size(), table.size());
    for (const auto& [channel, row] : table)
      EXPECT_NEAR(credit.at(channel).first, row[m], 1e-4) << models[m] << " " << channel;
  }
}

TEST(AttributionSharedData, MarkovChainsAreExactAndConserveTotals) {
  // The fitted chain's P(conversion) from the start is the observed rate
  // C / journeys exactly (the observed visit counts solve the chain's flow
  // equations), at every order; credit sums to the totals.
  const PathData& data = SharedData();
  for (int order = 1; order <= 3; ++order) {
    const JourneyChain chain(data, order);
    EXPECT_DOUBLE_EQ(chain.Occurrences(), 88387);
    const auto [conversion, value] = chain.Absorption(std::vector<char>(12, 0));
    EXPECT_NEAR(conversion, 19785.0 / 88387, 1e-12) << order;
    EXPECT_NEAR(value * 88387, data.TotalValue(), 1e-7) << order;
    const ModelCredit credit = Attribute(data, "markov" + std::to_string(order));
    double conversions = 0, values = 0;
    for (size_t c = 0; c < 12; ++c) {
      EXPECT_GE(credit.conversions[c], 0);
      conversions += credit.conversions[c];
      values += credit.value[c];
    }
    EXPECT_NEAR(conversions, 19785, 1e-8) << order;
    EXPECT_NEAR(values, data.TotalValue(), 1e-8) << order;
  }
  EXPECT_NEAR(JourneyChain(data, 1).Absorption(std::vector<char>(12, 0)).first, 0.2238451356, 1e-10);
}

TEST(AttributionSharedData, ShapleyConservesTotalsAndSamplingAgreesWithinItsStandardError) {
  const PathData& data = SharedData();
  const ModelCredit exact = Attribute(data, "shapley");  // 12 channels: exact
  double conversions = 0, values = 0;
  for (size_t c = 0; c < 12; ++c) {
    conversions += exact.conversions[c];
    values += exact.value[c];
  }
  // Efficiency: sum = v(all) - v(none) = the totals.
  EXPECT_NEAR(conversions, 19785, 1e-7);
  EXPECT_NEAR(values, data.TotalValue(), 1e-7);
  // Forced sampling (seed 7, 300 permutations): every channel within 4.5
  // standard errors of the exact value; the sample conserves totals too.
  ModelOptions options;
  options.shapley_exact_max = 0;
  options.shapley_samples = 300;
  options.seed = 7;
  const ModelCredit sampled = Attribute(data, "shapley", options);
  double sampled_conversions = 0;
  int with_error = 0;
  for (size_t c = 0; c < 12; ++c) {
    sampled_conversions += sampled.conversions[c];
    EXPECT_LE(std::abs(sampled.conversions[c] - exact.conversions[c]), 4.5 * sampled.conversions_se[c] + 1e-9)
        << data.channel_names[c];
    EXPECT_LE(std::abs(sampled.value[c] - exact.value[c]), 4.5 * sampled.value_se[c] + 1e-9) << data.channel_names[c];
    with_error += sampled.conversions_se[c] > 0;
  }
  EXPECT_GT(with_error, 6);  // sampling does vary
  EXPECT_NEAR(sampled_conversions, 19785, 1e-7);
  // Same seed, same estimate; another seed, another one.
  EXPECT_EQ(Attribute(data, "shapley", options).conversions, sampled.conversions);
  options.seed = 8;
  EXPECT_NE(Attribute(data, "shapley", options).conversions, sampled.conversions);
}

}  // namespace
}  // namespace adsim::attribution

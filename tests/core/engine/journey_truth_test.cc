// Journey truth (core/engine/journey_truth.h): the games evaluated on
// synthetic conversion records, without a run: the sampled Shapley values
// against the exact ones (within their standard errors, same records), and the
// interactions' effect on removal effects (complements: the removals add up to
// more than the total; Shapley exactly to it).
#include "core/engine/journey_truth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/random.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

// Three channels with a view lift each (the second saturating), four campaigns.
Scenario TruthScenario(JourneySpec::ShapleyMethod method, double interaction) {
  Scenario scenario;
  for (const char* name : {"search", "display", "social"}) {
    ChannelSpec channel;
    channel.name = name;
    scenario.channels.push_back(channel);
  }
  for (const char* name : {"a", "b", "c", "d"}) {
    CampaignSpec campaign;
    campaign.name = name;
    scenario.campaigns.push_back(campaign);
  }
  JourneySpec spec;
  for (int channel = 0; channel < 3; ++channel) {
    JourneyLiftSpec lift;
    lift.channel = channel;
    lift.lift = 0.5 + channel;
    lift.saturation = channel == 1 ? 1.5 : 0.0;
    spec.lifts.push_back(lift);
  }
  if (interaction != 1.0) spec.interactions.push_back({{1, 2}, interaction});
  spec.truth = true;
  spec.truth_shapley = method;
  spec.truth_permutations = 400;
  scenario.journeys = spec;
  return scenario;
}

// Feeds `records` synthetic incremental conversions (each with touches of one to three
// campaigns on random lifts, accepted: threshold = uniform x the full hazard) to `truth`.
void Feed(engine::JourneyTruth& truth, const Scenario& scenario, int records) {
  Stream stream(7, "journey_truth_test");
  const int lifts = 3, campaigns = 4;
  std::vector<double> channel_lift(3), multiplier(3);
  std::vector<char> present(3);
  for (int i = 0; i < records; ++i) {
    std::vector<double>& sums = truth.ZeroedSums();
    const int touched = 1 + static_cast<int>(stream.Below(3));
    for (int t = 0; t < touched; ++t)
      sums[stream.Below(lifts) * campaigns + stream.Below(campaigns)] += 0.2 + stream.Uniform();
    std::fill(channel_lift.begin(), channel_lift.end(), 0.0);
    std::fill(present.begin(), present.end(), 0);
    for (int lift = 0; lift < lifts; ++lift) {
      double n = 0;
      for (int campaign = 0; campaign < campaigns; ++campaign) n += sums[lift * campaigns + campaign];
      if (n > 0) channel_lift[lift] += truth.LiftHazard(lift, n), present[lift] = 1;
    }
    const double hazard = engine::CombineChannelLifts(*scenario.journeys, channel_lift, present, &multiplier);
    truth.AddIncremental(stream.Uniform() * hazard, 1 + stream.Uniform(), -1, -1);
  }
}

struct Rows {
  std::vector<std::string> scope, method;
  std::vector<double> removal, shapley, se, shapley_value, value_se;
};

Rows Evaluate(JourneySpec::ShapleyMethod method, double interaction, int records) {
  const Scenario scenario = TruthScenario(method, interaction);
  Results results;
  engine::JourneyTruth truth(scenario, 42, &results);
  Feed(truth, scenario, records);
  truth.Finish();
  return {test::Col<std::string>(results, "journey_truth", "scope"),
          test::Col<std::string>(results, "journey_truth", "shapley_method"),
          test::Col<double>(results, "journey_truth", "removal_conversions"),
          test::Col<double>(results, "journey_truth", "shapley_conversions"),
          test::Col<double>(results, "journey_truth", "shapley_conversions_se"),
          test::Col<double>(results, "journey_truth", "shapley_value"),
          test::Col<double>(results, "journey_truth", "shapley_value_se")};
}

// The sampled values estimate the exact ones of the same records: each within 4
// standard errors (mean of 400 iid orders); both add up to the total exactly; the
// removal effects are the same (exact either way). With and without an interaction.
TEST(JourneyTruth, SampledShapleyAgreesWithExactWithinItsStandardError) {
  const int records = 3000;
  for (const double interaction : {1.0, 3.0}) {
    const Rows exact = Evaluate(JourneySpec::ShapleyMethod::kExact, interaction, records);
    const Rows sampled = Evaluate(JourneySpec::ShapleyMethod::kSampled, interaction, records);
    ASSERT_EQ(exact.scope.size(), 7u);  // 3 channels, 4 campaigns
    std::map<std::string, double> exact_sum, sampled_sum;
    int noisy = 0;
    for (size_t row = 0; row < exact.scope.size(); ++row) {
      EXPECT_EQ(exact.method[row], "exact");
      EXPECT_EQ(sampled.method[row], "sampled");
      EXPECT_EQ(exact.se[row], 0.0);
      EXPECT_NEAR(sampled.removal[row], exact.removal[row], 1e-9) << row;
      EXPECT_NEAR(sampled.shapley[row], exact.shapley[row], 4 * sampled.se[row] + 1e-9) << row << " m " << interaction;
      EXPECT_NEAR(sampled.shapley_value[row], exact.shapley_value[row], 4 * sampled.value_se[row] + 1e-9) << row;
      noisy += sampled.se[row] > 0 ? 1 : 0;
      exact_sum[exact.scope[row]] += exact.shapley[row];
      sampled_sum[sampled.scope[row]] += sampled.shapley[row];
    }
    EXPECT_GT(noisy, 0);
    for (const std::string scope : {"channel", "campaign"}) {
      EXPECT_NEAR(exact_sum[scope], records, 1e-6) << scope;
      EXPECT_NEAR(sampled_sum[scope], records, 1e-6) << scope;
    }
  }
}

// Display and social as complements (x 4 while both are present): removing either
// loses its lift and the other's boost, so over the channels the removal effects add
// up to more than the total, while without the interaction they do not exceed it by
// more than the coin flips' excess.
TEST(JourneyTruth, ComplementsMakeRemovalsExceedTheTotal) {
  const int records = 3000;
  auto removal_sum = [&](double interaction) {
    const Rows rows = Evaluate(JourneySpec::ShapleyMethod::kExact, interaction, records);
    double sum = 0;
    for (size_t row = 0; row < rows.scope.size(); ++row)
      if (rows.scope[row] == "channel") sum += rows.removal[row];
    return sum;
  };
  const double additive = removal_sum(1.0), complements = removal_sum(4.0);
  // Per record the excess (single removals that lose it, minus 1) is in [-1, 2]: SE <= 2 sqrt(n).
  EXPECT_GT(complements - records, 4 * 2 * std::sqrt(records)) << complements;
  EXPECT_GT(complements, additive);
}

}  // namespace
}  // namespace adsim

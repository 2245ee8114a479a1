// Users' public features, their conversion shift, audience membership and the
// `users` table (user_features.h). May not touch: counters, budgets, the heap.
#include "core/engine/user_features.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "core/random.h"

namespace adsim::engine {

double UserFeatures::ConversionProbability(double cvr, int segment, int64_t user) const {
  if (conversion_shift.empty()) return cvr;
  if (!(cvr > 0)) return 0.0;
  if (cvr >= 1) return 1.0;
  const double logit = std::log(cvr / (1.0 - cvr)) + conversion_shift[segment][static_cast<size_t>(user)];
  return 1.0 / (1.0 + std::exp(-logit));
}

void SetUpUserFeatures(const Scenario& scenario, uint64_t seed, UserFeatures* features) {
  if (!scenario.user_features) return;
  const UserFeatureSpec& spec = *scenario.user_features;
  if (scenario.audiences.size() > static_cast<size_t>(kMaxAudiences))
    throw ConfigError({{scenario.source_name, "audiences", 0, "at most " + std::to_string(kMaxAudiences) + " audiences",
                        std::to_string(scenario.audiences.size()) + " audiences"}});
  features->count = spec.count;
  const size_t segments = scenario.segments.size();
  features->values.resize(segments);
  features->clicks.resize(segments);
  features->conversions.resize(segments);
  if (!spec.conversion_coefficients.empty()) features->conversion_shift.resize(segments);
  if (!scenario.audiences.empty()) features->audiences.resize(segments);
  for (size_t s = 0; s < segments; ++s) {
    const SegmentSpec& segment = scenario.segments[s];
    const auto users = static_cast<size_t>(segment.users);
    // Its own stream: the market's draws (arrivals, propensities) are unchanged.
    Stream stream(seed, "market/segments/" + segment.name + "/features");
    std::vector<float>& values = features->values[s];
    values.resize(users * static_cast<size_t>(spec.count));
    for (float& value : values)
      value = static_cast<float>(spec.distribution == FeatureDist::kUniform ? stream.Uniform() : stream.Normal());
    features->clicks[s].assign(users, 0);
    features->conversions[s].assign(users, 0);
    if (!spec.conversion_coefficients.empty()) {
      std::vector<float>& shift = features->conversion_shift[s];
      shift.resize(users);
      for (size_t user = 0; user < users; ++user) {
        double sum = 0.0;
        for (int k = 0; k < spec.count; ++k)
          sum += spec.conversion_coefficients[k] * values[user * static_cast<size_t>(spec.count) + k];
        shift[user] = static_cast<float>(sum);
      }
    }
    if (!scenario.audiences.empty()) {
      std::vector<uint32_t>& member = features->audiences[s];
      member.assign(users, 0U);
      for (size_t a = 0; a < scenario.audiences.size(); ++a) {
        const AudienceSpec& audience = scenario.audiences[a];
        for (size_t user = 0; user < users; ++user) {
          double score = audience.intercept;
          for (int k = 0; k < spec.count; ++k)
            score += audience.coefficients[k] * values[user * static_cast<size_t>(spec.count) + k];
          if (score >= audience.threshold) member[user] |= 1U << a;
        }
      }
    }
  }
}

void AddUsersTable(const Scenario& scenario, const UserFeatures& features, Results& results) {
  if (!features.enabled()) return;
  Table& table = results.Add("users",
                             "One row per user of every segment (only with users: in the scenario): the user's public "
                             "features and what our campaigns observed of the user");
  auto& segment_column = table.Int("segment", "index", "");
  auto& user_column = table.Int("user", "id", "user id within the segment");
  auto& clicks = table.Int("clicks", "count", "clicks on our campaigns' ads");
  auto& conversions = table.Int("conversions", "count", "conversions reported to us (after our clicks)");
  std::vector<std::vector<double>*> feature_columns;
  feature_columns.reserve(static_cast<size_t>(features.count));
  for (int k = 0; k < features.count; ++k)
    feature_columns.push_back(
        &table.Real("feature_" + std::to_string(k), "", "public feature " + std::to_string(k) + " of the user"));
  for (size_t s = 0; s < scenario.segments.size(); ++s) {
    const auto users = static_cast<int64_t>(scenario.segments[s].users);
    for (int64_t user = 0; user < users; ++user) {
      segment_column.push_back(static_cast<int64_t>(s));
      user_column.push_back(user);
      clicks.push_back(features.clicks[s][static_cast<size_t>(user)]);
      conversions.push_back(features.conversions[s][static_cast<size_t>(user)]);
      const float* row = features.Row(static_cast<int>(s), user);
      for (int k = 0; k < features.count; ++k) feature_columns[k]->push_back(row[k]);
    }
  }
}

}  // namespace adsim::engine

// Users' public features, their conversion shift, audience membership, the
// in-run lookalike fits and the `users` table (user_features.h). May not
// touch: counters, budgets, the heap.
#include "core/engine/user_features.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "core/error.h"
#include "core/logistic_model.h"
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
  for (size_t a = 0; a < scenario.audiences.size(); ++a) {
    if (scenario.audiences[a].lookalike)
      features->pending_lookalikes.push_back(static_cast<int>(a));
    else
      features->active |= 1U << a;
  }
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
        if (audience.lookalike) continue;  // no members before its fit (FitLookalikes)
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

void FitLookalikes(const Scenario& scenario, SimTime now, UserFeatures* features,
                   std::vector<std::pair<int, ModelFit>>* fits) {
  const int count = features->count;
  const size_t segments = scenario.segments.size();
  for (auto it = features->pending_lookalikes.begin(); it != features->pending_lookalikes.end();) {
    const int a = *it;
    const AudienceSpec& audience = scenario.audiences[static_cast<size_t>(a)];
    if (audience.fit_at > now) {
      ++it;
      continue;
    }
    // The seed: every user with a click so far, in segment then id order.
    int64_t rows = 0, total_users = 0;
    double clicks = 0, conversions = 0;
    for (size_t s = 0; s < segments; ++s) {
      total_users += scenario.segments[s].users;
      for (size_t user = 0; user < features->clicks[s].size(); ++user)
        if (features->clicks[s][user] > 0) {
          ++rows;
          clicks += features->clicks[s][user];
          conversions += features->conversions[s][user];
        }
    }
    ModelFit fit;
    fit.users = rows;
    fit.trials = clicks;
    fit.successes = conversions;
    Eigen::VectorXd w = Eigen::VectorXd::Zero(count + 1);
    estimators::LogisticModel model(count + 1, audience.l2);
    if (rows > 0) {
      Eigen::MatrixXd x(rows, count + 1);
      Eigen::VectorXd trials(rows), successes(rows);
      Eigen::Index j = 0;
      for (size_t s = 0; s < segments; ++s)
        for (size_t user = 0; user < features->clicks[s].size(); ++user) {
          if (features->clicks[s][user] == 0) continue;
          x(j, 0) = 1.0;
          const float* row = features->Row(static_cast<int>(s), static_cast<int64_t>(user));
          for (int k = 0; k < count; ++k) x(j, k + 1) = row[k];
          trials[j] = features->clicks[s][user];
          successes[j] = features->conversions[s][user];
          ++j;
        }
      // Prior centre: the logit of the pooled rate (0 when it is 0 or 1), as adsim.lookalike.
      Eigen::VectorXd centre = Eigen::VectorXd::Zero(count + 1);
      const double pooled = conversions / clicks;
      if (pooled > 0 && pooled < 1) centre[0] = estimators::LogisticModel::Logit(pooled);
      model.SetPrior(centre);
      fit.iterations = model.Fit(x, trials, successes);
      w = model.coefficients();
      const Eigen::MatrixXd covariance = model.Covariance();
      for (int k = 0; k <= count; ++k) fit.standard_errors.push_back(std::sqrt(covariance(k, k)));
    } else {
      fit.standard_errors.assign(static_cast<size_t>(count + 1), std::nan(""));
    }
    fit.coefficients.assign(w.data(), w.data() + w.size());
    // Scores of every user; the threshold is the score of the
    // ceil(top_share x users)-th best.
    std::vector<double> scores;
    scores.reserve(static_cast<size_t>(total_users));
    for (size_t s = 0; s < segments; ++s)
      for (int64_t user = 0; user < scenario.segments[s].users; ++user) {
        const float* row = features->Row(static_cast<int>(s), user);
        double score = w[0];
        for (int k = 0; k < count; ++k) score += w[k + 1] * row[k];
        scores.push_back(score);
      }
    const auto members = std::clamp<int64_t>(
        static_cast<int64_t>(std::ceil(audience.top_share * static_cast<double>(total_users))), 1, total_users);
    std::vector<double> sorted = scores;
    std::nth_element(sorted.begin(), sorted.begin() + (members - 1), sorted.end(), std::greater<>());
    const double threshold = sorted[static_cast<size_t>(members - 1)];
    // No converter reported yet: no seed, no members (campaigns' `others` then applies to everyone).
    size_t i = 0;
    if (conversions > 0)
      for (size_t s = 0; s < segments; ++s)
        for (uint32_t& member : features->audiences[s])
          if (scores[i++] >= threshold) member |= 1U << a;
    features->active |= 1U << a;
    fits->emplace_back(a, std::move(fit));
    it = features->pending_lookalikes.erase(it);
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

// Users' public features and the audiences built on them (only with `users:`
// in the scenario; docs/audiences.md). Owns: the per-user feature table, drawn
// once at the start from `market/segments/<segment>/features`; each user's
// conversion logit shift (coefficients . features, the truth of the
// feature-dependent conversion model); each user's audience membership
// bitmask; each user's clicks and reported conversions on our campaigns; the
// in-run lookalike audiences (fitted at their `fit_at` from the converters
// reported by then, FitLookalikes); and the `users` table written at the end.
// May not touch: counters, budgets, the event heap, the market. Everything is
// allocated in SetUp; the hot path only indexes it.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/results.h"
#include "core/scenario.h"
#include "core/user_observations.h"

namespace adsim::engine {

constexpr int kMaxAudiences = 32;  // membership is one 32-bit mask per user

struct UserFeatures {
  int count = 0;  // features per user; 0 = the scenario has no `users:` section
  // Per segment: users x count features, row-major.
  std::vector<std::vector<float>> values;
  // Per segment, per user: coefficients . features (empty without users.conversion).
  std::vector<std::vector<float>> conversion_shift;
  // Per segment, per user: bit a set when the user is in audience a (empty without audiences).
  std::vector<std::vector<uint32_t>> audiences;
  // Per segment, per user: clicks on our ads and reported conversions.
  std::vector<std::vector<int32_t>> clicks, conversions;
  // Bit a set when audience a is in effect: always for a rule audience, from
  // its fit on for an in-run lookalike (before it, campaigns' modifiers for
  // it do not apply). Lookalikes not fitted yet, by index.
  uint32_t active = 0;
  std::vector<int> pending_lookalikes;

  bool enabled() const { return count > 0; }
  const float* Row(int segment, int64_t user) const {
    return values[segment].data() + static_cast<size_t>(user) * static_cast<size_t>(count);
  }
  // The conversion probability after a click for a user whose cell converts at
  // `cvr` (shocks applied): sigmoid(logit(cvr) + shift); cvr itself without
  // users.conversion.
  double ConversionProbability(double cvr, int segment, int64_t user) const;
  // The product of a campaign's audience modifiers for this user, or the
  // campaign's `others` modifier when the user is in none of its audiences.
  // Audiences not in effect yet (in-run lookalikes before their fit) are
  // skipped; when every audience the campaign lists is such, no modifier
  // applies (1, not `others`).
  double BidModifier(const CampaignSpec& campaign, int segment, int64_t user) const {
    const uint32_t member = audiences[segment][static_cast<size_t>(user)];
    double modifier = 1.0;
    bool any = false, listed_in_effect = campaign.audience_modifiers.empty();
    for (const AudienceModifier& audience : campaign.audience_modifiers) {
      if ((active >> audience.audience & 1U) == 0) continue;
      listed_in_effect = true;
      if (member >> audience.audience & 1U) {
        modifier *= audience.modifier;
        any = true;
      }
    }
    if (any) return modifier;
    return listed_in_effect ? campaign.others_modifier : 1.0;
  }
};

// Draws the features and computes the shifts and memberships (no-op without
// `users:`). Throws ConfigError when the scenario has more than kMaxAudiences.
void SetUpUserFeatures(const Scenario& scenario, uint64_t seed, UserFeatures* features);
// Fits every in-run lookalike audience whose fit_at has come (fit_at <= now),
// from the users' clicks and reported conversions so far: rows = users with a
// click, trials = clicks, successes = reported conversions, the L2 logistic
// regression of core/logistic_model.h with its prior centred on the pooled
// rate (the model of adsim.lookalike); members = the top `top_share` of all
// users by the fitted score (ties at the threshold included). Sets their
// membership bits and puts them in effect; appends each fit (intercept
// first) with its audience index to `fits`.
void FitLookalikes(const Scenario& scenario, SimTime now, UserFeatures* features,
                   std::vector<std::pair<int, ModelFit>>* fits);
// The `users` table: one row per user of every segment (only with `users:`).
void AddUsersTable(const Scenario& scenario, const UserFeatures& features, Results& results);

}  // namespace adsim::engine

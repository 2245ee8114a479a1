// Users' public features and the audiences built on them (only with `users:`
// in the scenario; docs/audiences.md). Owns: the per-user feature table, drawn
// once at the start from `market/segments/<segment>/features`; each user's
// conversion logit shift (coefficients . features, the truth of the
// feature-dependent conversion model); each user's audience membership
// bitmask; each user's clicks and reported conversions on our campaigns; and
// the `users` table written at the end.
// May not touch: counters, budgets, the event heap, the market. Everything is
// allocated in SetUp; the hot path only indexes it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/results.h"
#include "core/scenario.h"

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
  double BidModifier(const CampaignSpec& campaign, int segment, int64_t user) const {
    const uint32_t member = audiences[segment][static_cast<size_t>(user)];
    double modifier = 1.0;
    bool any = false;
    for (const AudienceModifier& audience : campaign.audience_modifiers)
      if (member >> audience.audience & 1U) {
        modifier *= audience.modifier;
        any = true;
      }
    return any ? modifier : campaign.others_modifier;
  }
};

// Draws the features and computes the shifts and memberships (no-op without
// `users:`). Throws ConfigError when the scenario has more than kMaxAudiences.
void SetUpUserFeatures(const Scenario& scenario, uint64_t seed, UserFeatures* features);
// The `users` table: one row per user of every segment (only with `users:`).
void AddUsersTable(const Scenario& scenario, const UserFeatures& features, Results& results);

}  // namespace adsim::engine

// Owns the `holdout` attribution model (docs/attribution.md, "Holdout-measured
// incrementality"): each channel's incremental conversions and value as its
// user holdout measures them, the way an advertiser would read a holdout
// experiment. It uses only what the advertiser observes (who was held out, and
// every user's conversions), never the simulator's organic/incremental labels.
#include <cmath>
#include <string>

#include "core/attribution/models.h"
#include "core/error.h"

namespace adsim::attribution {
namespace {

// Mean and variance of the mean of one group's per-user totals, from the
// group's sum and sum of squares over its users (zeros included).
struct MeanAndVariance {
  double mean = 0, variance_of_mean = 0;
};
MeanAndVariance Moments(double users, double sum, double sum_sq) {
  MeanAndVariance out;
  if (users <= 0) return out;
  out.mean = sum / users;
  if (users > 1) out.variance_of_mean = std::max(0.0, (sum_sq - users * out.mean * out.mean) / (users - 1)) / users;
  return out;
}

}  // namespace

ModelCredit HoldoutIncrementality(const PathData& data) {
  if (data.holdout.empty())
    throw DataError(
        "attribute: holdout: expected holdout measurements (a simulated run whose scenario has journeys.holdout; "
        "docs/attribution.md), found none in this path data");
  ModelCredit credit = ZeroCredit("holdout", data);
  const size_t n = data.channel_names.size();
  std::string without;
  std::vector<char> measured(n, 0);
  for (const ChannelHoldout& channel : data.holdout) {
    int index = -1;
    for (size_t c = 0; c < n; ++c)
      if (data.channel_names[c] == channel.channel) index = static_cast<int>(c);
    if (index < 0) continue;  // PathsFromJourneys adds every holdout channel; other path data has none
    measured[index] = 1;
    const HoldoutGroup& held = channel.held_out;
    const HoldoutGroup& exposed = channel.exposed;
    if (held.users <= 0 || exposed.users <= 0)
      throw DataError("attribute: holdout: channel '" + channel.channel +
                      "': expected users in both the held-out and the exposed group, found " +
                      std::to_string(held.users) + " and " + std::to_string(exposed.users));
    // Intent to treat: the groups are random halves of the same population, so
    // (exposed mean - held-out mean) is the channel's effect per exposed-group
    // user, and times the exposed users it is the conversions the channel added.
    const MeanAndVariance held_conversions = Moments(held.users, held.conversions, held.conversions_sq);
    const MeanAndVariance exposed_conversions = Moments(exposed.users, exposed.conversions, exposed.conversions_sq);
    const MeanAndVariance held_value = Moments(held.users, held.value, held.value_sq);
    const MeanAndVariance exposed_value = Moments(exposed.users, exposed.value, exposed.value_sq);
    credit.conversions[index] = (exposed_conversions.mean - held_conversions.mean) * exposed.users;
    credit.conversions_se[index] =
        std::sqrt(exposed_conversions.variance_of_mean + held_conversions.variance_of_mean) * exposed.users;
    credit.value[index] = (exposed_value.mean - held_value.mean) * exposed.users;
    credit.value_se[index] = std::sqrt(exposed_value.variance_of_mean + held_value.variance_of_mean) * exposed.users;
  }
  for (size_t c = 0; c < n; ++c)
    if (!measured[c]) without += (without.empty() ? "" : ", ") + data.channel_names[c];
  if (!without.empty()) credit.note = "no holdout on " + without + ": credited 0";
  return credit;
}

}  // namespace adsim::attribution

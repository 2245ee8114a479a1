// Owns the accuracy of attribution against the simulator's truth
// (docs/attribution.md, "Accuracy against truth"): the score
// 1 - 1/2 sum |model share - true share|, and the true credit a run with
// `journeys.truth` recorded (journey_truth, docs/journeys.md). Any model's
// credit (ours, the library's, a dashboard's) is scored by AccuracyScore.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/results.h"

namespace adsim::attribution {

// 1 - 1/2 sum over players (channels or campaigns) of |model_p / sum(model)
// - truth_p / sum(truth)|: 1 when the model's shares are the true shares, 0
// when they share nothing, in [0, 1] always. A player missing from one map
// counts as 0 there. NaN when either total is 0 (no shares to compare).
// Throws DataError naming the player for a negative or non-finite amount.
double AccuracyScore(const std::map<std::string, double>& model_credit,
                     const std::map<std::string, double>& true_credit);

// The credit columns of journey_truth for one scope ("channel" or
// "campaign"), by player name: removal effects, Shapley values, the drawn
// causes and the dashboards' reports (conversions, or value with `value`).
struct TrueCredit {
  std::map<std::string, double> removal, shapley, cause, reported;
};
// Throws DataError naming `source` when the result has no journey_truth
// table (a run without `journeys.truth: true`).
TrueCredit TrueCreditFromJourneys(const Results& results, const std::string& scope, bool value,
                                  const std::string& source);

}  // namespace adsim::attribution

// Owns the attribution models (docs/attribution.md) over PathData
// (core/attribution/paths.h): their names, their parameters, and the credit
// each gives every channel in conversions and value. Heuristic models are in
// models.cc; the Markov removal-effect models and the Shapley value of the
// Markov chain's coalition game in markov.cc. Models never read files; the
// command line (core/cli/attribute.cc) and Python (python/bindings/attribute.cc)
// call them on data read by ReadPathsCsv, and simulated journeys will call
// them on paths built from touchpoints.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/attribution/paths.h"

namespace adsim::attribution {

// Every model's parameters (docs/attribution.md, "Parameters"); the names in
// the comments are those of `--param NAME=VALUE` and of adsim.attribute(**params).
struct ModelOptions {
  std::string direct_channel = "direct";  // direct_channel: skipped by last_non_direct
  double half_life_touches = 1;           // half_life_touches: time_decay on paths without times
  double half_life_days = 7;              // half_life_days: time_decay on paths with touch times
  double first_weight = 0.4;              // first_weight: position_based, the first touch's share
  double last_weight = 0.4;               // last_weight: position_based, the last touch's share
  int shapley_exact_max = 15;             // shapley_exact_max: exact Shapley up to this many channels
  int shapley_samples = 1000;             // shapley_samples: permutations drawn beyond that
  uint64_t seed = 1;                      // seed: of the Shapley permutation sample
  // calibration_prior: holdout_calibrated's path model (any model but the two
  // holdout ones), or "average" / "best_fit" over several (holdout_calibrated.cc)
  std::string calibration_prior = "first_touch";
};

// The parameter names with their defaults as text (for listings and errors).
std::vector<std::pair<std::string, std::string>> ModelParameterDefaults();
// Parses NAME=VALUE parameters; throws ConfigError naming the parameter, what
// was expected and the valid names.
ModelOptions ParseModelOptions(const std::map<std::string, std::string>& params);

// One model's credit per channel (indexes of PathData::channel_names).
// Standard errors are 0 for deterministic models and for exact Shapley; the
// sampled Shapley value reports those of its permutation mean.
struct ModelCredit {
  std::string model;
  std::vector<double> conversions, value;
  std::vector<double> conversions_se, value_se;
  std::string note;  // how it was computed when that varies (exact or sampled Shapley), else empty
};

// `model`'s credit of 0 for every channel of `data`, standard errors
// included: where the holdout models start.
inline ModelCredit ZeroCredit(const std::string& model, const PathData& data) {
  ModelCredit credit;
  credit.model = model;
  const size_t n = data.channel_names.size();
  credit.conversions.assign(n, 0.0);
  credit.value.assign(n, 0.0);
  credit.conversions_se.assign(n, 0.0);
  credit.value_se.assign(n, 0.0);
  return credit;
}

// The models' names with a one-line description each. markov<k> stands for
// every order k >= 1 (markov1, markov2, ...).
std::vector<std::pair<std::string, std::string>> ModelDescriptions();
// Throws ConfigError unless `model` is a model name (markov<k>: 1 <= k <= 8).
void CheckModelName(const std::string& model);
// The credit `model` gives each channel of `data`. Throws ConfigError for an
// unknown model or bad options.
ModelCredit Attribute(const PathData& data, const std::string& model, const ModelOptions& options = {});

// ---- The Markov chain of journeys (markov.cc), exposed for tests.

// The order-k chain fitted to `data`: transition counts between states (the
// last k touches, fewer at the start) and the start, conversion and null
// states. ConversionProbability returns, from the start state, the
// probability of ending in conversion and the expected value, with the
// channels flagged in `removed` removed (a transition into them ends in null).
class JourneyChain {
 public:
  JourneyChain(const PathData& data, int order);
  int StateCount() const { return static_cast<int>(last_channel_.size()); }
  double Occurrences() const { return occurrences_; }
  // {P(conversion), E[value]} from the start, both per journey.
  std::pair<double, double> Absorption(const std::vector<char>& removed) const;

 private:
  struct Transition {
    int from, to;
    double probability;
  };
  std::vector<int> last_channel_;  // per state; -1 for the start state (index 0)
  std::vector<Transition> transitions_;
  std::vector<double> conversion_probability_, value_rate_;  // per state: P(-> conversion), E[value] per exit
  double occurrences_ = 0;
};

ModelCredit MarkovRemovalEffects(const PathData& data, int order);
// `holdout` (holdout.cc): each channel's incremental conversions and value as
// measured by its user holdout, (exposed mean - held-out mean) x exposed users,
// with the standard error of that difference. Throws DataError when `data`
// has no holdout measurement.
ModelCredit HoldoutIncrementality(const PathData& data);
// `holdout_calibrated` (holdout_calibrated.cc): the holdout's per-channel
// credit shrunk toward options.calibration_prior's shares of the holdouts'
// total, weighted by empirical Bayes from the holdout's standard errors and the
// two's disagreement; adds up to the holdouts' total. With calibration_prior
// "average" the calibrations toward several path models are averaged with
// their posterior weights given the holdout ("best_fit": the best one only).
// Throws DataError as HoldoutIncrementality does.
ModelCredit HoldoutCalibrated(const PathData& data, const ModelOptions& options);
// One candidate path model of calibration_prior "average" with its posterior
// weight per measure (each measure's weights over the candidates add up to 1;
// all are 0 when no candidate credits any channel with a holdout).
struct PriorWeight {
  std::string model;
  double conversions = 0, value = 0;
};
// The weights holdout_calibrated gives its candidate priors on `data` under
// calibration_prior "average" (or "best_fit", when options say so): for tests,
// notes and the docs. Throws DataError as HoldoutIncrementality does.
std::vector<PriorWeight> CalibrationPriorWeights(const PathData& data, const ModelOptions& options = {});
ModelCredit ShapleyMarkov(const PathData& data, const ModelOptions& options);

}  // namespace adsim::attribution

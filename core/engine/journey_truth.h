// Journey ground truth (docs/journeys.md, "Ground truth"), opt-in with
// `journeys.truth: true`: the true incremental conversions and value per
// channel and per campaign, by counterfactual re-simulation with common random
// numbers, as removal effects and as Shapley values (exact over the channel and
// campaign subsets up to 12 players, sampled over permutations with a standard
// error beyond); and what each channel's dashboard would report.
//
// The re-simulation: the factual run draws each user's incremental
// conversions by thinning: candidates from a bound on the hazard, each
// accepted when uniform x bound < hazard. Removing the lift of a set of
// channels (or campaigns) only lowers the hazard, so the factual candidates
// and uniforms are a valid thinning of every counterfactual hazard: the
// counterfactual run with the same users, opportunities, touchpoints and
// draws accepts a candidate exactly when uniform x bound < counterfactual
// hazard, and can only accept candidates the factual run accepted. So
// JourneyTruth keeps, per factual incremental conversion, the threshold
// (uniform x bound) and the decayed touch counts per lift and campaign, and
// re-evaluates every subset there. Organic conversions come from their own
// streams and are the same in every counterfactual.
//
// Owns: those per-conversion records, the platform-reported tallies, the
// campaign paths, the games and the journey_truth and journey_campaign_paths
// tables. May not touch: anything of the run (it only receives what Journeys
// hands it).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/results.h"
#include "core/scenario.h"

namespace adsim::engine {

// The incremental hazard of per-channel lifts with `spec.interactions` applied
// (docs/journeys.md, "Channels that interact"): `channel_lift[c]` is channel
// c's summed lift, `present[c]` whether the user has a lifted touch of c (only
// channels kept in a counterfactual count as present). An interaction whose
// channels are all present multiplies their lifts by its lift_multiplier.
// `multiplier` (scratch, one per channel) receives each channel's multiplier.
// Hot with interactions (Journeys calls it per touch): no allocation.
double CombineChannelLifts(const JourneySpec& spec, const std::vector<double>& channel_lift,
                           const std::vector<char>& present, std::vector<double>* multiplier);

class JourneyTruth {
 public:
  // Adds the journey_truth and journey_campaign_paths tables to `results`.
  // `seed` (the run's) keys the permutations of a sampled Shapley value.
  JourneyTruth(const Scenario& scenario, uint64_t seed, Results* results);

  // Scratch of lifts x campaigns decayed touch counts, zeroed, for the next
  // AddIncremental (so Journeys fills it without allocating).
  std::vector<double>& ZeroedSums();
  // A factual incremental conversion: accepted because `threshold` (uniform x
  // bound, per microsecond) < the hazard of the sums in ZeroedSums(); its
  // value, and the channel and campaign of the touchpoint the run drew as its cause.
  void AddIncremental(double threshold, double value, int cause_channel, int cause_campaign);
  // A conversion (organic or incremental) the dashboard of `channel` claims
  // for `campaign` (its latest click in the click-through window, else its
  // latest view in the view-through window, among that channel's touches).
  void Report(int channel, int campaign, double value);
  // A path of campaign names (as journey_conversions.path, with campaigns):
  // a conversion with its value, or users without conversion.
  void AddCampaignPath(const std::string& path, double conversions, double value, int64_t nulls);
  // Evaluates the games and writes the tables. Call once, after the run.
  void Finish();

  // The hazard (per microsecond) of lift `lift` at decayed touch count `n`.
  double LiftHazard(int lift, double n) const;

 private:
  // Conversions and value of every subset (bit i = player i) of channels
  // (`by_channel`) or campaigns.
  void EvaluateSubsets(bool by_channel, std::vector<double>* conversions, std::vector<double>* value) const;
  // Removal effects (exact) and Shapley values by permutation sampling with
  // common random numbers: spec_.truth_permutations orders of the players,
  // drawn once from the seed, each the same for every conversion and for both
  // games (conversions, value); each order's marginal contributions add up to
  // the total, so the estimates are efficient exactly; the standard errors are
  // those of the mean over orders. Per conversion, only its players with a
  // lifted touch can change its hazard (the others are null players), so an
  // order is walked over those only. Outputs are per player.
  void SampleShapley(bool by_channel, std::vector<double>* removal_conversions, std::vector<double>* removal_value,
                     std::vector<double>* shapley_conversions, std::vector<double>* shapley_conversions_se,
                     std::vector<double>* shapley_value, std::vector<double>* shapley_value_se) const;
  // The players' rows of one scope: exact over the 2^n subsets, or sampled (SampleShapley).
  void WriteScope(const std::string& scope, bool by_channel, const std::vector<std::string>& names,
                  const std::vector<double>& cause_conversions, const std::vector<double>& cause_value,
                  const std::vector<double>& reported_conversions, const std::vector<double>& reported_value);

  const Scenario& scenario_;
  const JourneySpec& spec_;
  uint64_t seed_ = 0;
  int lifts_ = 0, campaigns_ = 0, channels_ = 0;
  std::vector<double> lift_rate_;  // per lift: per microsecond
  std::vector<double> scratch_;    // lifts x campaigns
  // Per factual incremental conversion: threshold, value, then lifts x campaigns sums.
  std::vector<double> records_;
  int64_t incremental_ = 0;
  std::vector<double> cause_channel_conversions_, cause_channel_value_, cause_campaign_conversions_,
      cause_campaign_value_;
  std::vector<double> reported_conversions_, reported_value_;                   // channels x campaigns
  std::map<std::string, std::pair<double, double>> campaign_path_conversions_;  // path -> conversions, value
  std::map<std::string, int64_t> campaign_path_nulls_;
  struct {
    std::vector<std::string>*scope, *name;
    std::vector<int64_t>* player;
    std::vector<std::string>* shapley_method;
    std::vector<double>*removal_conversions, *removal_value, *shapley_conversions, *shapley_value, *cause_conversions,
        *cause_value, *reported_conversions, *reported_value, *shapley_conversions_se, *shapley_value_se;
  } truth_{};
  struct {
    std::vector<std::string>* path;
    std::vector<double>*conversions, *value;
    std::vector<int64_t>* nulls;
  } paths_{};
};

}  // namespace adsim::engine

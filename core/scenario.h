// The scenario: everything a run needs besides the seed. Parsed from YAML
// (JSON is accepted, being YAML's subset) or from a Python dict, validated in
// one pass that reports every problem with its file, field path and line.
// docs/scenario.md documents every field with its unit and default.
// This header holds the truth (segments' true rates and values, competitors'
// bids, shocks): what the advertiser configured is in core/scenario_public.h,
// the only part strategies may see (core/strategy.h includes that, not this).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/scenario_public.h"
#include "core/types.h"

namespace adsim {

constexpr int kMaxSlots = 8;

// A channel whose traffic is a log instead of the synthetic market
// (`traffic: {replay: {...}}`; docs/replay.md). The replay market
// (simulators/replay.cc) reads it.
enum class BadRowPolicy { kFail, kSkip, kSort };
enum class UnloggedPolicy { kSkip, kModel };
struct ReplaySpec {
  std::string path;                            // as written in the scenario
  std::string resolved;                        // relative paths resolved against the scenario file's folder
  std::string field;                           // field path of `path`, for messages (channels[0].traffic.replay.path)
  std::string format = "csv";                  // csv or adsim (a result file with recording.events)
  std::map<std::string, std::string> columns;  // log column name per field (field -> column)
  BadRowPolicy on_bad_rows = BadRowPolicy::kFail;
  UnloggedPolicy unlogged = UnloggedPolicy::kSkip;
};

struct ChannelSpec {
  std::string name;
  std::optional<ReplaySpec> replay;  // set: this channel's opportunities come from a log
  AuctionType auction = AuctionType::kSecondPrice;
  int slots = 1;                           // GSP only; 1 otherwise
  std::vector<double> click_factors{1.0};  // per slot, GSP only
  double floor = 0.0;                      // reserve price: currency per impression, or per click if billing is click
  Billing billing = Billing::kImpression;
  double per_hour = 0.0;                 // mean opportunities per hour at profile 1
  std::array<double, 24> hour_of_day{};  // multipliers, normalised to mean 1
  std::array<double, 7> day_of_week{};   // multipliers (Monday first), normalised to mean 1
  int competitors = 5;                   // K
  double bid_mu = 0.0;                   // each competitor bid ~ LogNormal(mu, sigma)
  double bid_sigma = 0.5;
  double ctr_factor = 1.0;  // channel multiplier on true click rates
  // Click-billed only: half-life of the platform's estimate of a click-rate
  // shock, used to rank and price bids (core/engine/platform_quality.h).
  SimTime quality_half_life = 6 * kMicrosPerHour;
};

enum class ValueDist { kFixed, kLognormal };
enum class DelayDist { kFixed, kExponential, kLognormal };

// Creative fatigue (truth): the true click rate of a campaign's creative in a
// segment is multiplied by 2^(-n / half_life), where n counts the impressions
// that creative has had in that segment (all channels) so far in the run. With
// a recovery time constant, n decays as exp(-dt / recovery) between them.
struct FatigueSpec {
  double half_life = 0.0;  // impressions; 0 = no fatigue
  SimTime recovery = 0;    // time constant of the exponential decay of n; 0 = none
  bool enabled() const { return half_life > 0; }
};

struct CreativeRates {  // true rates overriding the segment's for one campaign/creative
  std::optional<double> ctr;
  std::optional<double> cvr;
  std::optional<FatigueSpec> fatigue;
};

struct SegmentSpec {
  std::string name;
  int64_t users = 100000;         // finite user population
  double propensity_sigma = 0.0;  // per-user lognormal click propensity (mean 1)
  std::vector<double> share;      // per channel (index of channels), relative weight
  double ctr = 0.01;
  double cvr = 0.05;
  std::map<std::string, CreativeRates> creatives;  // key "campaign/creative"
  FatigueSpec fatigue;                             // default for every creative in the segment: none
  // Public descriptors of the segment (targeting attributes an advertiser
  // knows: age band, device mix...), in the order given. A feature a segment
  // does not name is 0. Used by model-based estimators; no effect on the market.
  std::vector<std::pair<std::string, double>> features;
  ValueDist value_dist = ValueDist::kFixed;
  double value_mean = 50.0;  // currency
  double value_sigma = 0.0;  // lognormal shape
  DelayDist delay_dist = DelayDist::kExponential;
  SimTime delay_mean = 12 * kMicrosPerHour;  // exponential mean, lognormal median or fixed delay
  double delay_sigma = 1.0;                  // lognormal shape
  // Per-channel override of the competitor bid distribution (index of channels).
  std::vector<std::optional<std::pair<double, double>>> competition;  // (mu, sigma)
};

struct ShockSpec {
  std::string name;
  SimTime start = 0;
  SimTime end = 0;
  std::vector<int> channels;  // empty = all
  std::vector<int> segments;  // empty = all
  double traffic = 1.0;
  double ctr = 1.0;
  double cvr = 1.0;
  double competing_bids = 1.0;
  double conversion_tracking = 1.0;  // fraction of conversions that are reported (0 = outage)
  // Funnel stage rates (docs/funnel.md): multiply the rate of entering visit,
  // cart and purchase (kFunnelStages order); only with a `funnel:` block.
  std::array<double, 3> funnel_stage = {1.0, 1.0, 1.0};
  // step: the multipliers apply in full from start to end. ramp: a slow drift,
  // each multiplier moving linearly from 1 at start to its value at end (in
  // steps of ramp_step), then back to 1.
  bool ramp = false;
  SimTime ramp_step = kMicrosPerHour;
};

// Journeys (docs/journeys.md): opt-in per scenario. Users keep one identity
// across channels, every impression and click of one of our campaigns is a
// touchpoint in a per-user ring of the last `touchpoints`, and conversions
// come from a hazard: the segment's organic baseline plus the decayed lift of
// the touchpoints, instead of the click-then-convert model.
enum class TouchKind : int8_t { kView = 0, kClick = 1 };
struct JourneyLiftSpec {
  int channel = 0;
  TouchKind kind = TouchKind::kView;
  double lift = 0.0;                  // conversions per user per day added by one touch at age 0
  SimTime half_life = kMicrosPerDay;  // one touch's lift halves every half_life
  double saturation = 0.0;            // diminishing returns in frequency (touches); 0 = none (linear)
};
// `journeys.interactions[]`: channels that interact in the true hazard. While a
// user's ring holds touches of every channel of the interaction, those
// channels' lift is multiplied by lift_multiplier (a channel in several such
// interactions gets the product).
struct JourneyInteractionSpec {
  std::vector<int> channels;     // at least two, each once
  double lift_multiplier = 1.0;  // > 1: complements (synergy), < 1: substitutes
};
struct JourneySpec {
  int touchpoints = 16;                              // ring size N per user
  std::vector<double> baseline;                      // per segment: organic conversions per user per day
  std::vector<JourneyLiftSpec> lifts;                // at most one per (channel, kind); absent = no lift
  std::vector<JourneyInteractionSpec> interactions;  // none: the channels' lifts add up
  SimTime view_through_window = kMicrosPerDay;
  SimTime click_through_window = 7 * kMicrosPerDay;
  // Per channel: the share of users held out of it (docs/attribution.md,
  // "Holdout-measured incrementality"): none of our campaigns bids for them on
  // that channel. Empty or 0 = no holdout. Drawn per (user, channel) from the
  // seed, independently per channel.
  std::vector<double> holdout;
  // `truth`: the counterfactual ground truth (journey_truth, docs/journeys.md):
  // removal effects and Shapley values per channel and campaign, and what
  // each channel's dashboard would report.
  bool truth = false;
  // `truth_shapley`: auto (exact over 2^n subsets up to kMaxTruthPlayers players
  // of a scope, sampled beyond), exact (refused beyond) or sampled (permutation
  // sampling with common random numbers, `truth_permutations` permutations
  // drawn from the seed, with standard errors).
  enum class ShapleyMethod { kAuto, kExact, kSampled };
  ShapleyMethod truth_shapley = ShapleyMethod::kAuto;
  int truth_permutations = 1000;
  static constexpr int kMaxTruthPlayers = 12;
};

// Funnel (docs/funnel.md): opt-in per scenario. After a click, a user visits
// the site, puts something in the cart, and purchases, each stage entered with
// its rate per segment (times optional channel and creative multipliers); the
// purchase is the conversion, replacing the segment's `cvr`. With journeys,
// each arrival of a user's hazard enters the visit stage instead of a click
// (docs/journeys.md, "Funnel stages").
enum FunnelStage : int { kVisit = 0, kCart = 1, kPurchase = 2 };
constexpr int kFunnelStages = 3;  // the stages after the click
inline const char* FunnelStageName(int stage) {
  return stage == kVisit ? "visit" : stage == kCart ? "cart" : "purchase";
}
struct FunnelSpec {
  // Per segment: P(visit | click), P(cart | visit), P(purchase | cart).
  std::vector<std::array<double, kFunnelStages>> rates;
  // Per channel and per cell key "campaign/creative": multipliers of those rates (1 when not named).
  std::vector<std::array<double, kFunnelStages>> channel_multipliers;
  std::map<std::string, std::array<double, kFunnelStages>> creative_multipliers;
};

// Users' public features (docs/audiences.md): opt-in with `users:`. Every
// user of every segment carries `count` features drawn once at the start; with
// conversion coefficients, a click converts with probability
// sigmoid(logit(cvr x cvr shock) + coefficients . features) instead of the
// cell's cvr. Absent: no features, the run is unchanged.
enum class FeatureDist { kNormal, kUniform };
struct UserFeatureSpec {
  int count = 0;
  FeatureDist distribution = FeatureDist::kNormal;  // normal: N(0, 1); uniform: U(0, 1)
  std::vector<double> conversion_coefficients;      // empty = features do not change conversion
};

struct RecordingSpec {
  bool events = false;  // opportunity-level event log
  int64_t max_events = 10'000'000;
  bool conversions = true;  // one row per conversion (always small)
};

// A numeric field given a distribution instead of a number
// (docs/scenario.md, "Distributions"): `ctr: {beta: [2, 500]}`. Parsing
// without a seed puts a representative value in the field (drawn = false);
// SampleScenario draws every such field from the run's seed.
struct SampledField {
  std::string path;          // field path, as error messages name it
  std::string distribution;  // beta, lognormal, normal, uniform or choice
  std::vector<double> parameters;
  double value = 0.0;  // the value in the field
  bool drawn = false;  // value drawn from a seed (else the representative value)
};

struct Scenario {
  std::string name = "scenario";
  std::string description;
  std::string source_name;  // file name or "<default>", "<dict>"
  std::string source_text;  // the exact text parsed, stored in results
  std::optional<uint64_t> seed;
  std::string start = "2026-01-05T00:00:00";  // ISO date-time of t = 0
  int start_weekday = 0;                      // 0 = Monday, derived from start
  int start_hour = 0;                         // derived from start
  SimTime start_offset_in_day = 0;            // derived: time of day of t = 0
  SimTime duration = kMicrosPerDay;
  SimTime bucket = kMicrosPerHour;
  SimTime control_cycle = 15 * kMicrosPerMinute;
  std::string market = "synthetic";  // the registered market that generates opportunities (core/market.h)
  std::vector<ChannelSpec> channels;
  std::vector<SegmentSpec> segments;
  std::vector<CampaignSpec> campaigns;
  std::vector<ShockSpec> shocks;
  std::vector<ComponentSpec> controllers;  // scenario-wide controllers
  std::vector<ComponentSpec> monitors;     // monitors (scenario-wide)
  std::vector<ExperimentSpec> experiments;
  // Also run the oracle (same seed, bidders that know the true rates, same
  // budgets) and record the regret against it in the `oracle` table.
  bool oracle = false;
  // Account-level cap on all campaigns together (infinity = none), enforced by
  // the engine's account ledger like a campaign's budgets.
  double account_daily_budget = INFINITY;
  double account_total_budget = INFINITY;
  SimTime alert_grace = 4 * kMicrosPerHour;  // scoring: an alert up to this long after a shock ends still counts
  RecordingSpec recording;
  std::optional<JourneySpec> journeys;  // `journeys:`; absent = the click-then-convert model
  std::optional<FunnelSpec> funnel;     // `funnel:`; absent = a click converts with the segment's cvr
  // `users:` (absent = users carry no features) and `audiences:` (they need
  // `users.features`); docs/audiences.md.
  std::optional<UserFeatureSpec> user_features;
  std::vector<AudienceSpec> audiences;
  // Fields given a distribution, in the order they were read.
  std::vector<SampledField> sampled;
  // `python:`: Python modules (files, relative to the scenario file) that
  // register Python components the scenario names. The C++ command line hands
  // such a scenario to the Python package (python/adsim/commands/run.py).
  struct PythonModule {
    std::string path;  // as written in the scenario
    int line = 0;      // its line in the scenario file (0 when unknown)
  };
  std::vector<PythonModule> python_modules;

  int ChannelIndex(const std::string& name) const;
  int SegmentIndex(const std::string& name) const;
  int CampaignIndex(const std::string& name) const;
};

// Parses and validates. Throws ConfigError listing every problem.
// `source_name` is used in messages ("scenario.yaml", "<dict>").
Scenario ParseScenario(const std::string& text, const std::string& source_name);
Scenario LoadScenarioFile(const std::string& path);
// The scenario with every distribution drawn for `seed`, each field from its
// own stream hash(seed, "scenario_sampling/" + path) (so neither adding a
// distribution nor sampling shifts the market's or another field's draws);
// `scenario` itself when it has no distribution or is drawn already. A
// continuous draw outside the field's valid range is redrawn (the
// distribution is truncated to the range); ConfigError naming the field if
// 1000 draws all fall outside.
Scenario SampleScenario(const Scenario& scenario, uint64_t seed);
// The embedded default scenario (the demo runs it with no file).
const std::string& DefaultScenarioText();
Scenario DefaultScenario();

// "15m", "1h30m", "7d", "45s", "250ms" -> microseconds. Returns false on bad syntax.
bool ParseDuration(const std::string& text, SimTime* out);
std::string FormatDuration(SimTime t);

}  // namespace adsim

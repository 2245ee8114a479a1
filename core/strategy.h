// What strategies see and what they may do. Nothing here holds a true click or
// conversion rate, a competitor's bid or a future event: the types themselves
// keep look-ahead out (see DESIGN.md, principle 1). It includes only what the
// advertiser configured (core/scenario_public.h), never core/scenario.h, so no
// strategy can name a truth-holding type (SegmentSpec, ShockSpec, ...).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/scenario_public.h"
#include "core/types.h"

namespace adsim {

// What an advertiser knows about a run before it starts, handed to strategy
// factories: its own campaigns' settings, the auction rules of each channel,
// the usual shape and volume of traffic (known from history), segment names
// and sizes, and the calendar. It has no field for a true click or conversion
// rate, a conversion value or delay, a competitor's bid, or a shock.
struct PublicScenario {
  struct Channel {
    std::string name;
    AuctionType auction = AuctionType::kSecondPrice;
    int slots = 1;
    Billing billing = Billing::kImpression;
    double floor = 0.0;
    double per_hour = 0.0;
    std::array<double, 24> hour_of_day{};
    std::array<double, 7> day_of_week{};
  };
  struct Segment {
    std::string name;
    int64_t users = 0;
    std::vector<double> features;  // per feature_names entry (0 when the segment does not name it)
  };
  std::vector<std::string> feature_names;  // union of the segments' feature names, in first-seen order
  std::string source_name;  // for messages: the scenario's file name without directories (PublicSourceName)
  SimTime duration = 0, bucket = 0, control_cycle = 0;
  SimTime start_offset_in_day = 0;
  int start_weekday = 0;
  std::vector<Channel> channels;
  std::vector<Segment> segments;
  std::vector<CampaignSpec> campaigns;
  std::vector<ExperimentSpec> experiments;  // the advertiser's own experiments (arms, split, analyses)
  // Users' public features (`users.features`, docs/audiences.md): how many
  // each bid request carries (0 = none), and the scenario's audiences.
  int user_feature_count = 0;
  std::vector<AudienceSpec> audiences;
  // Journeys (docs/journeys.md): whether the run records users' paths, and
  // per channel the share of users the advertiser holds out of it (empty =
  // none). The advertiser's own design, not the truth: the lifts stay private.
  bool journeys = false;
  std::vector<double> journey_holdout;
};
struct Scenario;  // core/scenario.h: the whole scenario, truth included (the engine's)
PublicScenario MakePublicScenario(const Scenario& scenario);

// The scenario's name as strategies see it: the file name without its
// directories. The file holds the seed and the truth, so strategies are handed
// a name to put in messages, not a path to open.
inline std::string PublicSourceName(const std::string& source_name) {
  const size_t slash = source_name.find_last_of("/\\");
  return slash == std::string::npos ? source_name : source_name.substr(slash + 1);
}

// One impression opportunity as a bidder sees it: a bid request.
struct BidRequest {
  SimTime time = 0;
  int channel = 0;
  int segment = 0;
  int64_t user = 0;  // user id within the segment's population
  int hour_of_day = 0;
  double floor = 0.0;  // the channel's public reserve price
  int creative = 0;    // the creative the campaign would show (chosen by the engine before the bid)
  // The user's public features (PublicScenario::user_feature_count of them),
  // a view into the engine's per-user table; null when the scenario has none.
  const float* features = nullptr;
};

// Counters of what an advertiser observes for one cell
// (campaign x channel x segment x creative).
struct ObservedStats {
  int64_t requests = 0;  // bid requests received (eligible opportunities)
  int64_t bids = 0;
  int64_t impressions = 0;  // auctions won and served
  int64_t clicks = 0;
  int64_t conversions = 0;  // conversions reported so far (delayed, possibly lost)
  double conversion_value = 0.0;
  double conversion_value_sq = 0.0;  // sum of the squared values of those conversions
  double spend = 0.0;                // currency
  // Site analytics of a scenario with a funnel (docs/funnel.md): clicks that
  // reached the site, and visits that put something in the cart (0 without a
  // funnel). The purchase stage is `conversions`.
  int64_t visits = 0;
  int64_t carts = 0;

  void Add(const ObservedStats& o) {
    requests += o.requests;
    bids += o.bids;
    impressions += o.impressions;
    clicks += o.clicks;
    conversions += o.conversions;
    conversion_value += o.conversion_value;
    conversion_value_sq += o.conversion_value_sq;
    spend += o.spend;
    visits += o.visits;
    carts += o.carts;
  }
  void Subtract(const ObservedStats& o) {
    requests -= o.requests;
    bids -= o.bids;
    impressions -= o.impressions;
    clicks -= o.clicks;
    conversions -= o.conversions;
    conversion_value -= o.conversion_value;
    conversion_value_sq -= o.conversion_value_sq;
    spend -= o.spend;
    visits -= o.visits;
    carts -= o.carts;
  }
};

// A campaign's settings and ledger as the advertiser knows them.
struct CampaignState {
  std::string name;
  double bid = 0.0;                // base bid
  double initial_bid = 0.0;        // the scenario's base bid
  double daily_budget = INFINITY;  // infinity = no daily budget
  double total_budget = INFINITY;  // infinity = no total budget
  double spend_today = 0.0;
  double spend_total = 0.0;
  bool paused = false;
  std::vector<double> segment_modifier;  // per scenario segment, multiplies the bid
  std::vector<bool> creative_paused;
  // Rotation weight per creative (default 1): each bid request shows an
  // unpaused creative with probability weight / sum of the unpaused weights.
  std::vector<double> creative_weight;
  GoalKind goal = GoalKind::kNone;
  double goal_value = 0.0;
};

// What a controller receives each control cycle: only what the advertiser can
// know at `time`. Cells are indexed by Snapshot::Cell().
// An alert raised by a monitor: what it saw, where, and how unusual it is.
// Scope fields are indices into the scenario's lists, -1 for "all".
struct Alert {
  SimTime time = 0;     // set by the engine: the control cycle's time
  std::string monitor;  // set by the engine: the monitor's registered name
  int campaign = -1, channel = -1, segment = -1, creative = -1;
  std::string metric;                // e.g. "ctr", "cvr", "spend_forecast"
  double value = 0.0;                // the observed (or projected) value
  double expected = 0.0;             // what the monitor expected
  double score = 0.0;                // kpi_* monitors: the detector score in [0, 1]; others: standardised, signed
  std::string severity = "warning";  // info, warning or critical
  std::string message;
};

struct Snapshot {
  // Every field of Snapshot, CampaignState, Alert and ObservedStats is listed
  // in core/snapshot_fields.h (the Python view is built from that list); a
  // field added here and not there fails to compile.
  SimTime time = 0;
  SimTime day_start = 0;  // simulated time of the current day's midnight
  SimTime control_cycle = 0;
  int num_channels = 0, num_segments = 0;
  std::vector<int> num_creatives;  // per campaign
  std::vector<int> cell_offset;    // per campaign: first cell index
  std::vector<CampaignState> campaigns;
  std::vector<ObservedStats> total;       // since the start, per cell
  std::vector<ObservedStats> last_cycle;  // during the last control cycle, per cell
  std::vector<ObservedStats> today;       // since the current day's midnight, per cell
  // The expected share of a day's traffic that falls in each hour of the day,
  // per channel (24 values summing to 1): what an advertiser knows from history.
  std::vector<std::vector<double>> hourly_traffic_share;
  std::vector<std::string> channel_names, segment_names;
  std::vector<std::vector<std::string>> creative_names;  // per campaign
  // Alerts the monitors raised in this cycle (controllers run after monitors,
  // so they can react in the same cycle).
  std::vector<Alert> alerts;

  int Cell(int campaign, int channel, int segment, int creative) const {
    return cell_offset[campaign] + (channel * num_segments + segment) * num_creatives[campaign] + creative;
  }
  // Sum of a campaign's cells in `table` (total, last_cycle or today).
  ObservedStats CampaignTotal(const std::vector<ObservedStats>& table, int campaign) const;
};

enum class ActionKind {
  kSetBid,          // value: new base bid
  kSetDailyBudget,  // value: new daily budget
  kSetTotalBudget,  // value: new total budget
  kPauseCampaign,
  kResumeCampaign,
  kPauseCreative,  // creative: index within the campaign
  kResumeCreative,
  kSetSegmentModifier,  // segment: scenario index; value: multiplier
  kSetCreativeWeight    // creative: index within the campaign; value: rotation weight >= 0
};
constexpr int kNumActionKinds = static_cast<int>(ActionKind::kSetCreativeWeight) + 1;
const char* ActionKindName(ActionKind k);

struct Action {
  ActionKind kind = ActionKind::kSetBid;
  int campaign = 0;
  int segment = -1;
  int creative = -1;
  double value = 0.0;
  std::string reason;   // free text kept in the actions table
  bool review = false;  // ask for human review: the engine records the action as held and does not apply it
  // Why it was taken, as data (the actions table's `metric`, `observed` and
  // `threshold` columns): the quantity the decision looked at (for example
  // "pacing_error", "cpa", "ctr"), its value as the controller saw it, and the
  // value it was compared with or aimed at. Empty / NaN when not given.
  std::string metric;
  double observed = std::nan("");
  double threshold = std::nan("");
};

// Per-opportunity bidder, one instance per campaign.
//
// Bid() is on the hot path: it must not allocate, lock, log, or call Python,
// and it must be deterministic given its inputs and its own state. It may read
// `state` (the campaign's current settings) and anything it learned in
// OnCycle(). The engine caps its answer by the guardrails' bid bounds and the
// remaining budget afterwards, so a bidder cannot overspend whatever it says.
// Return 0 (or less) to not bid.
class Bidder {
 public:
  virtual ~Bidder() = default;
  virtual double Bid(const BidRequest& request, const CampaignState& state) = 0;
  // Called once per control cycle, before controllers run, with the snapshot.
  virtual void OnCycle(const Snapshot& snapshot, int campaign) {
    (void)snapshot;
    (void)campaign;
  }
};

// Per-cycle controller. OnCycle() receives the snapshot and appends actions;
// the engine passes every action through the guardrails before applying it,
// and records it with its status. It may allocate and may be slow-ish (it runs
// once per control cycle). `campaign` is the campaign it was attached to in the
// scenario, or -1 for a scenario-wide controller.
class Controller {
 public:
  virtual ~Controller() = default;
  virtual void OnCycle(const Snapshot& snapshot, int campaign, std::vector<Action>* actions) = 0;
};

// One look of an experiment analysis at one treatment arm against the control,
// as written to the experiment_looks table.
struct ExperimentLook {
  SimTime time = 0;                                            // set by the engine: the control cycle's time
  std::string experiment;                                      // set by the engine
  std::string analysis;                                        // set by the engine: the analysis's label or type
  int look = 0;                                                // 1-based index of this look of the analysis
  int arm = 0;                                                 // index of the treatment arm within the experiment (1..)
  std::string metric;                                          // e.g. "ctr", "conversions_per_request"
  int64_t control_n = 0, control_x = 0, arm_n = 0, arm_x = 0;  // trials and successes
  double information = 0;                                      // information fraction n / planned n (may exceed 1)
  double statistic = 0;                                        // z (or log likelihood ratio for mSPRT)
  double boundary = 0;       // |statistic| at or above it rejects (+inf: no rejection possible at this look)
  double p_value = 1;        // fixed-horizon p (naive), always-valid p (mSPRT); NaN where undefined
  double prob_beat = 0.5;    // Bayesian P(arm > control) with uniform priors
  double expected_loss = 0;  // Bayesian expected loss of shipping the arm
  std::string decision;      // continue, ship, stop, no_difference, guardrail_stop
  std::string note;
  std::string unit = "request";                                   // request (cell counters) or user (per-user counters)
  double control_value = std::nan(""), arm_value = std::nan("");  // the metric in each arm (unadjusted)
  double estimate = std::nan(""), std_error = std::nan("");       // arm - control (CUPED-adjusted) and its SE
  double variance_ratio = 1;                                      // CUPED: var(adjusted) / var(unadjusted); 1 without
};

// What one user did with one experiment arm over a period, as the advertiser
// observes it (reported conversions only).
struct UserCounts {
  int32_t requests = 0, impressions = 0, clicks = 0, conversions = 0;
  float conversion_value = 0.0f;
};

// What the engine keeps for one experiment beyond the cells, handed to its
// analyses each cycle. Everything in it is observed data.
struct ExperimentData {
  // Per arm: the arm campaign's counters since the experiment's start
  // (ExperimentSpec::start; the pre-period [0, start) ran on the control arm
  // only). Conversions of clicks made before the start are left out, even
  // when they are reported later.
  std::vector<ObservedStats> since_start;
  // Per-user counters, kept when an analysis asks (WantsUserCounts; split:
  // user). A user is a row: `row_offset[segment] + user id` (-1 offset: the
  // arms do not target the segment).
  bool users_kept = false;
  std::vector<int64_t> row_offset;            // per scenario segment
  std::vector<UserCounts> pre;                // per row: with the control arm before `start`
  std::vector<std::vector<UserCounts>> arm;   // per arm, per row: since `start`
  std::vector<std::vector<int64_t>> exposed;  // per arm: rows with a request since `start`, first-come order
};

// The analysis of one experiment (see ExperimentSpec): runs each control
// cycle from the experiment's start on, after the controllers; proposes
// actions (pausing arms: stop a loser, ship a winner) that pass the guardrails
// like any other, and reports its looks.
class ExperimentAnalysis {
 public:
  virtual ~ExperimentAnalysis() = default;
  virtual void OnCycle(const Snapshot& snapshot, const ExperimentData& data, std::vector<ExperimentLook>* looks,
                       std::vector<Action>* actions) = 0;
  // True when the analysis needs ExperimentData's per-user counters (the
  // engine keeps them only then: they cost memory per user and arm).
  virtual bool WantsUserCounts() const { return false; }
};

// Per-cycle monitor: watches the snapshot (only what the advertiser observes)
// and appends alerts. It runs after bidders' OnCycle and before controllers.
// It may keep state across cycles and allocate; it must be deterministic and
// must not act on campaigns (controllers do that, seeing its alerts).
class Monitor {
 public:
  virtual ~Monitor() = default;
  virtual void OnCycle(const Snapshot& snapshot, std::vector<Alert>* alerts) = 0;
};

}  // namespace adsim

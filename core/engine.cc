#include "core/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <tuple>

#include "core/error.h"
#include "core/event_queue.h"
#include "core/guardrails.h"
#include "core/interrupt.h"
#include "core/ledger.h"
#include "core/market.h"
#include "core/monitor_scoring.h"
#include "core/random.h"
#include "core/registry.h"
#include "core/review.h"
#include "core/strategy.h"
#include "simulators/auction.h"
#include "simulators/platform_quality.h"

namespace adsim {

uint64_t ResolveSeed(const Scenario& scenario, const RunOptions& options) {
  if (options.seed) return *options.seed;
  if (scenario.seed) return *scenario.seed;
  throw ConfigError(
      {{scenario.source_name, "seed", 0,
        "a seed in the scenario or given to the run (--seed N, seed=N); adsim never seeds from the clock", "none"}});
}

PublicScenario MakePublicScenario(const Scenario& sc) {
  PublicScenario p;
  p.source_name = PublicSourceName(sc.source_name);
  p.duration = sc.duration;
  p.bucket = sc.bucket;
  p.control_cycle = sc.control_cycle;
  p.start_offset_in_day = sc.start_offset_in_day;
  p.start_weekday = sc.start_weekday;
  for (const auto& c : sc.channels)
    p.channels.push_back({c.name, c.auction, c.slots, c.billing, c.floor, c.per_hour, c.hour_of_day, c.day_of_week});
  for (const auto& s : sc.segments)
    for (const auto& [name, value] : s.features)
      if (std::find(p.feature_names.begin(), p.feature_names.end(), name) == p.feature_names.end())
        p.feature_names.push_back(name);
  for (const auto& s : sc.segments) {
    PublicScenario::Segment seg{s.name, s.users, std::vector<double>(p.feature_names.size(), 0.0)};
    for (const auto& [name, value] : s.features)
      seg.features[std::find(p.feature_names.begin(), p.feature_names.end(), name) - p.feature_names.begin()] = value;
    p.segments.push_back(std::move(seg));
  }
  p.campaigns = sc.campaigns;
  p.experiments = sc.experiments;
  return p;
}

ObservedStats Snapshot::CampaignTotal(const std::vector<ObservedStats>& table, int campaign) const {
  ObservedStats s;
  const int n = num_channels * num_segments * num_creatives[campaign];
  for (int i = 0; i < n; ++i) s.Add(table[cell_offset[campaign] + i]);
  return s;
}

const char* ActionKindName(ActionKind k) {
  switch (k) {
    case ActionKind::kSetBid:
      return "set_bid";
    case ActionKind::kSetDailyBudget:
      return "set_daily_budget";
    case ActionKind::kSetTotalBudget:
      return "set_total_budget";
    case ActionKind::kPauseCampaign:
      return "pause_campaign";
    case ActionKind::kResumeCampaign:
      return "resume_campaign";
    case ActionKind::kPauseCreative:
      return "pause_creative";
    case ActionKind::kResumeCreative:
      return "resume_creative";
    case ActionKind::kSetSegmentModifier:
      return "set_segment_modifier";
    case ActionKind::kSetCreativeWeight:
      return "set_creative_weight";
  }
  return "?";
}

namespace {

// Counters the engine keeps per cell (campaign x channel x segment x creative).
struct CellCounters {
  int64_t requests = 0, bids = 0, wins = 0, clicks = 0, conversions = 0;
  Micros spend = 0;
  double value = 0.0;
  double value_sq = 0.0;  // sum of squared conversion values (variance of value metrics)
};

CellCounters Minus(const CellCounters& a, const CellCounters& b) {
  return {a.requests - b.requests,       a.bids - b.bids,   a.wins - b.wins,   a.clicks - b.clicks,
          a.conversions - b.conversions, a.spend - b.spend, a.value - b.value, a.value_sq - b.value_sq};
}

ObservedStats ToObserved(const CellCounters& c) {
  ObservedStats o;
  o.requests = c.requests;
  o.bids = c.bids;
  o.impressions = c.wins;
  o.clicks = c.clicks;
  o.conversions = c.conversions;
  o.conversion_value = c.value;
  o.conversion_value_sq = c.value_sq;
  o.spend = MicrosToUnits(c.spend);
  return o;
}

struct PendingConversion {
  SimTime click_time;
  int campaign, channel, segment, creative;
  int64_t user;
  double value;
  double u_track;
};

struct CampaignRuntime {
  CampaignState state;
  Ledger ledger;
  std::unique_ptr<Bidder> bidder;
  // Creatives a bid request may show: the unpaused ones with a positive
  // rotation weight (all unpaused ones if every such weight is 0). When their
  // weights differ, `creative_cum` holds the cumulative weights, and a request
  // draws one by inversion; otherwise the draw is uniform. Rebuilt only when an
  // action pauses, resumes or reweights a creative.
  std::vector<int> active_creatives;
  std::vector<double> creative_cum;
  bool weighted = false;
  Stream creative_stream;
  // Values at the start of the control cycle, for per-cycle change limits.
  double cycle_bid = 0, cycle_daily = 0, cycle_total = 0;
  std::vector<double> cycle_modifier;
  Micros max_daily_budget_today = Ledger::kNone;
};

// Creative fatigue of one (campaign, segment, creative), truth kept by the
// engine: `mult` = 2^(-exposures / half_life) is the factor on the true click
// rate. Without recovery each impression multiplies it by `step` = 2^(-1 /
// half_life); with recovery the exposures decay lazily, when next read.
struct FatigueState {
  double mult = 1.0;
  double exposures = 0.0;
  SimTime last = 0;
  double step = 1.0;
  double inv_half_life = 0.0;
  double inv_recovery = 0.0;  // 1 / recovery time constant in us; 0 = no recovery

  double Factor(SimTime now) {
    if (inv_recovery > 0 && now > last) {
      if (exposures > 0) {
        exposures *= std::exp(-static_cast<double>(now - last) * inv_recovery);
        mult = std::exp2(-exposures * inv_half_life);
      }
      last = now;
    }
    return mult;
  }
  void Expose() {
    exposures += 1.0;
    mult *= step;
  }
};

struct ControllerRuntime {
  std::string name;
  int campaign;  // -1: scenario-wide
  std::unique_ptr<Controller> controller;
  int priority = 0;
};

struct AnalysisRuntime {
  std::string name;  // label or type
  int experiment;
  std::unique_ptr<ExperimentAnalysis> analysis;
};

// Arm assignment of one experiment: a uniform number per user (or per
// opportunity), mapped to an arm by the cumulative weights of the arms still
// running (a paused arm's traffic goes to the others in proportion).
struct ExperimentRuntime {
  uint64_t key = 0;  // seeds the assignment hash
  bool by_user = true;
  std::vector<int> arms;  // campaign indices
  std::vector<double> weights;
  std::vector<double> active_cum;             // cumulative weights of the running arms (rebuilt each cycle)
  std::vector<int> active_arms;               // campaign indices of the running arms
  int64_t stamp = -1;                         // opportunity counter at which `assigned` was drawn
  int assigned = -1;                          // campaign index assigned to the current opportunity
  SimTime start = 0;                          // before it, every unit goes to the control arm
  bool started = false;                       // the arms' totals at `start` are recorded
  std::vector<ObservedStats> at_start, late;  // per arm: totals at start; pre-period conversions reported after it
  ExperimentData data;                        // what the analyses see
  // The user's counters for the arm (or the pre-period) serving this
  // opportunity; marks the user exposed on the first in-period request.
  UserCounts* UserRow(int arm, int segment, int64_t user, SimTime t) {
    const int64_t off = data.row_offset[segment];
    if (off < 0) return nullptr;
    const int64_t row = off + user;
    if (t < start) return &data.pre[row];
    UserCounts& u = data.arm[arm][row];
    if (u.requests == 0) data.exposed[arm].push_back(row);
    return &u;
  }
};

struct MonitorRuntime {
  std::string name;
  std::unique_ptr<Monitor> monitor;
};

// An action held for review, from the hold to the decision (core/review.h).
struct PendingReview {
  Action action;
  std::string controller;
  int priority = 0;
  std::tuple<int, int, int> setting;  // (campaign, setting, index) as in Engine::claims_
  SimTime held_time = 0, due = 0;
  double old_value = 0, requested = 0;
  std::string hold_note;
  // pending, approved, rejected, withdrawn (a newer change of the setting was
  // applied), replaced (a newer request for the setting was held: it takes
  // this one's place in the queue).
  std::string decision = "pending";
  SimTime decided = -1;
  double new_value = NAN;
  std::string note;
};

struct OurBid {
  int cell;
  double bid;  // currency, capped
  Micros bid_micros;
  double quality;  // click-rate estimate on click-billed channels, else 1
  int creative;
};

class Engine {
 public:
  Engine(const Scenario& sc, const RunOptions& opt) : sc_(sc), opt_(opt), seed_(ResolveSeed(sc, opt)) {}
  Results Run();

 private:
  void Build();
  void ProcessOpportunity(const Opportunity& o);
  void ProcessOpportunitiesBeforeHorizon(InterruptPoller& interrupt);
  void ScheduleConversion(const Opportunity& o, int campaign, int creative, ResponseRng& rng);
  void HandleEvent(const Event& e);
  void RecomputeConditions(SimTime now);
  void RunCycle(SimTime now);
  void ApplyAction(SimTime now, const std::string& controller, int priority, const Action& a);
  // Human review (core/review.h): queues a held action, withdraws or replaces
  // pending reviews of a setting that changes, and decides them when due.
  bool ReviewEnabled(int campaign) const {
    return static_cast<bool>(opt_.reviewer) || sc_.campaigns[campaign].guardrails.review.rule != ReviewRule::kNone;
  }
  void TrackReview(SimTime now, const std::string& controller, int priority, const Action& a,
                   const std::tuple<int, int, int>& setting, size_t row);
  void DecideReview(SimTime now, int64_t index);
  double SettingValue(const Action& a) const;
  void RecordReviews();
  void FlushBucket(SimTime bucket_start);
  void CloseDay(SimTime day_start);
  // An event pushed before the horizon (a conversion scheduled while the
  // opportunities are processed) becomes the new horizon: it must be handled
  // before any later opportunity and before the bucket it falls in is written.
  void Push(SimTime t, EventKind k, int64_t payload) {
    heap_.Push(t, k, payload);
    if (t < horizon_) horizon_ = t;
  }
  void RebuildCreatives(int campaign);
  void RecordConversion(const PendingConversion& p, SimTime arrival, bool reported);
  void RecordAlert(const Alert& a);
  Results Finish(double wall_seconds);

  const Scenario& sc_;
  const RunOptions& opt_;
  uint64_t seed_;
  int nc_ = 0, ns_ = 0, ncamp_ = 0, ncells_ = 0;
  std::vector<int> cell_offset_, num_creatives_;
  std::vector<int> elig_offset_, elig_;  // eligible campaigns per channel x segment
  std::vector<CampaignRuntime> camps_;
  // The account-level cap on all campaigns together (scenario field
  // `account_budget`); without one its remaining is unlimited, so it never
  // binds and results are those of a run without it.
  Ledger account_;
  std::vector<ControllerRuntime> controllers_;
  std::vector<MonitorRuntime> monitors_;
  std::map<std::tuple<int, int, int>, int> claims_;  // settings changed this cycle -> priority
  std::vector<Alert> all_alerts_;                    // every alert of the run, for scoring
  PublicScenario public_;                            // what strategy factories see (no truth)

  // Human review: every action that went to review, in hold order; the
  // pending one of each setting; whether ApplyAction is applying an approved
  // action, and the guardrails it passes then.
  std::vector<PendingReview> reviews_;
  std::map<std::tuple<int, int, int>, int64_t> pending_review_;
  bool reviewing_ = false;
  GuardrailSpec reviewed_guard_;

  std::unique_ptr<Market> market_;
  MarketConditions conditions_;
  std::vector<double> ctr_mult_, cvr_mult_, tracking_;  // per channel x segment
  PlatformQuality platform_quality_;                    // the click-rate shock as the platform has learnt it
  std::vector<int> active_shock_count_;
  std::vector<bool> shock_active_;
  std::vector<double> true_ctr_, true_cvr_;  // per cell, before shocks and propensity
  // Fatigue: per cell, an index into fatigue_ (-1 = none); empty when no
  // segment or creative of the scenario fatigues.
  std::vector<int> fatigue_index_;
  std::vector<FatigueState> fatigue_;
  std::vector<FatigueSpec> cell_fatigue_;  // per cell, for the truth table
  std::vector<CellCounters> total_, bucket_base_, cycle_base_, day_base_;
  std::vector<int64_t> market_total_, market_base_;
  std::vector<PendingConversion> pending_;
  std::vector<int64_t> free_pending_;
  EventQueue heap_;
  std::vector<Candidate> ours_, work_;
  std::vector<OurBid> our_bid_;  // indexed by campaign
  // Per campaign: the current user's experiment counters (null unless the
  // campaign is an arm of an experiment that keeps users).
  std::vector<UserCounts*> user_row_;
  SlotWin wins_[kMaxSlots];
  SimTime day_start_ = 0;
  // The main loop's horizon: opportunities before it are processed, then the
  // sparse events at it are handled (see Run).
  SimTime horizon_ = 0;
  // Opportunities drawn from the market and not yet processed: batch_[batch_next_, batch_size_).
  std::vector<Opportunity> batch_;
  size_t batch_next_ = 0, batch_size_ = 0;
  // The market has no opportunity left before this time (its last Generate came back short).
  SimTime market_drained_until_ = 0;
  int64_t opportunities_ = 0;
  int64_t events_recorded_ = 0;
  bool events_truncated_ = false;
  Results results_;
  // Output tables (columns stay valid: Table stores columns in a deque).
  Table* agg_ = nullptr;
  Table* market_tab_ = nullptr;
  Table* actions_ = nullptr;
  Table* conversions_ = nullptr;
  Table* daily_ = nullptr;
  Table* events_ = nullptr;
  Table* alerts_ = nullptr;
  std::vector<AnalysisRuntime> analyses_;
  std::vector<ExperimentRuntime> experiments_;
  std::vector<int> experiment_of_;  // per campaign: experiment index, -1 if not an arm
  std::vector<int> arm_of_;         // per campaign: arm index within its experiment
  std::vector<ExperimentLook> looks_;
  int oracle_campaign_ = -1;
  std::vector<double> truth_conversions_, truth_value_;  // per campaign, every conversion made
  // The oracle's bid: the true expected value of the impression (of the click
  // on click-billed channels) to the campaign, scaled by how far a pacing
  // controller moved the campaign's bid from its initial value.
  double OracleBid(int c, int cell, int k, const Opportunity& o, bool click_billing) {
    const CampaignRuntime& rt = camps_[c];
    const CampaignSpec& cp = sc_.campaigns[c];
    const double unit = cp.goal == GoalKind::kCpa ? cp.goal_value : sc_.segments[o.segment].value_mean;
    double v = true_cvr_[cell] * cvr_mult_[k] * unit;
    if (!click_billing) {
      double ctr = true_ctr_[cell] * ctr_mult_[k] * o.Propensity() * sc_.channels[o.channel].click_factors[0];
      if (!fatigue_index_.empty() && fatigue_index_[cell] >= 0) ctr *= fatigue_[fatigue_index_[cell]].Factor(o.time);
      v *= ctr;
    }
    return rt.state.initial_bid > 0 ? v * rt.state.bid / rt.state.initial_bid : v;
  }
  void RebuildExperimentArms();
  int AssignedArm(int experiment, const Opportunity& o);
  bool ServesArm(int c, const Opportunity& o);
  void CountExperimentConversion(const PendingConversion& p);
  struct {
    std::vector<int64_t>*time, *campaign, *channel, *segment, *creative;
    std::vector<std::string>*monitor, *metric, *severity, *message;
    std::vector<double>*value, *expected, *score;
  } al_{};
  struct {
    std::vector<int64_t>*bucket, *campaign, *channel, *segment, *creative, *opp, *bids, *wins, *imps, *clicks, *conv;
    std::vector<double>*value, *spend;
  } a_{};
  struct {
    std::vector<int64_t>*bucket, *channel, *segment, *opp;
  } m_{};
  struct {
    std::vector<int64_t>*time, *campaign, *segment, *creative;
    std::vector<std::string>*controller, *kind, *status, *note, *reason;
    std::vector<double>*old_value, *requested, *new_value;
  } act_{};
  struct {
    std::vector<int64_t>*click_time, *time, *campaign, *channel, *segment, *creative, *user, *reported;
    std::vector<double>* value;
  } conv_{};
  struct {
    std::vector<int64_t>*day_start, *campaign;
    std::vector<double>*daily_budget, *max_daily_budget, *total_budget, *spend, *spend_total;
  } day_{};
  struct {
    std::vector<int64_t>*time, *channel, *segment, *user, *winner, *creative, *slot, *click, *bidders;
    std::vector<double>*top_competing, *price, *propensity;
  } ev_{};
};

void Engine::Build() {
  nc_ = static_cast<int>(sc_.channels.size());
  ns_ = static_cast<int>(sc_.segments.size());
  ncamp_ = static_cast<int>(sc_.campaigns.size());
  const int nk = nc_ * ns_;
  // Cells.
  for (const auto& c : sc_.campaigns) {
    cell_offset_.push_back(ncells_);
    num_creatives_.push_back(static_cast<int>(c.creatives.size()));
    ncells_ += nk * static_cast<int>(c.creatives.size());
  }
  total_.assign(ncells_, {});
  bucket_base_ = cycle_base_ = day_base_ = total_;
  market_total_.assign(nk, 0);
  market_base_ = market_total_;
  // Eligibility per channel x segment, in campaign order (deterministic).
  elig_offset_.assign(nk + 1, 0);
  for (int k = 0; k < nk; ++k) {
    elig_offset_[k] = static_cast<int>(elig_.size());
    const int ch = k / ns_, s = k % ns_;
    for (int c = 0; c < ncamp_; ++c) {
      const auto& cp = sc_.campaigns[c];
      const GuardrailSpec& g = cp.guardrails;
      // Brand safety is enforced here, once: a blocked segment or channel is
      // never offered to the campaign, so no bidder or action can buy it.
      const bool blocked = std::count(g.blocked_segments.begin(), g.blocked_segments.end(), s) ||
                           std::count(g.blocked_channels.begin(), g.blocked_channels.end(), ch);
      if (!blocked && std::count(cp.channels.begin(), cp.channels.end(), ch) &&
          std::count(cp.segments.begin(), cp.segments.end(), s))
        elig_.push_back(c);
    }
  }
  elig_offset_[nk] = static_cast<int>(elig_.size());
  // Truth per cell.
  true_ctr_.assign(ncells_, 0.0);
  true_cvr_.assign(ncells_, 0.0);
  for (int c = 0; c < ncamp_; ++c) {
    const auto& cp = sc_.campaigns[c];
    for (int ch = 0; ch < nc_; ++ch)
      for (int s = 0; s < ns_; ++s)
        for (int cr = 0; cr < num_creatives_[c]; ++cr) {
          const auto& seg = sc_.segments[s];
          double ctr = seg.ctr, cvr = seg.cvr;
          auto it = seg.creatives.find(cp.name + "/" + cp.creatives[cr].name);
          if (it != seg.creatives.end()) {
            if (it->second.ctr) ctr = *it->second.ctr;
            if (it->second.cvr) cvr = *it->second.cvr;
          }
          const int cell = cell_offset_[c] + (ch * ns_ + s) * num_creatives_[c] + cr;
          true_ctr_[cell] = std::min(1.0, ctr * sc_.channels[ch].ctr_factor);
          true_cvr_[cell] = cvr;
        }
  }
  // Fatigue per (campaign, segment, creative), shared by the cells of every
  // channel: exposures count impressions on all channels.
  bool any_fatigue = false;
  for (const auto& seg : sc_.segments) {
    any_fatigue |= seg.fatigue.enabled();
    for (const auto& [key, rates] : seg.creatives) any_fatigue |= rates.fatigue && rates.fatigue->enabled();
  }
  if (any_fatigue) {
    fatigue_index_.assign(ncells_, -1);
    cell_fatigue_.assign(ncells_, {});
    for (int c = 0; c < ncamp_; ++c) {
      const auto& cp = sc_.campaigns[c];
      for (int s = 0; s < ns_; ++s)
        for (int cr = 0; cr < num_creatives_[c]; ++cr) {
          const auto& seg = sc_.segments[s];
          FatigueSpec f = seg.fatigue;
          auto it = seg.creatives.find(cp.name + "/" + cp.creatives[cr].name);
          if (it != seg.creatives.end() && it->second.fatigue) f = *it->second.fatigue;
          if (!f.enabled()) continue;
          FatigueState st;
          st.step = std::exp2(-1.0 / f.half_life);
          st.inv_half_life = 1.0 / f.half_life;
          st.inv_recovery = f.recovery > 0 ? 1.0 / static_cast<double>(f.recovery) : 0.0;
          fatigue_.push_back(st);
          for (int ch = 0; ch < nc_; ++ch) {
            const int cell = cell_offset_[c] + (ch * ns_ + s) * num_creatives_[c] + cr;
            fatigue_index_[cell] = static_cast<int>(fatigue_.size()) - 1;
            cell_fatigue_[cell] = f;
          }
        }
    }
  }
  // Campaigns, bidders, controllers. Every name, scope and parameter is
  // checked first, so all the problems are reported together.
  ValidateComponents(sc_);
  const Registry& reg = Registry::Global();
  public_ = MakePublicScenario(sc_);
  auto context = [this](int campaign, const ComponentSpec& spec, const ComponentInfo& info) {
    return BuildContext{&public_, campaign, Registry::Global().Resolve(info, spec, sc_.source_name), spec.where,
                        MakeComponentSeed(seed_, ComponentStreamPath(spec.where, info.name))};
  };
  experiment_of_.assign(ncamp_, -1);
  arm_of_.assign(ncamp_, -1);
  oracle_campaign_ = opt_.oracle_campaign;
  truth_conversions_.assign(ncamp_, 0.0);
  truth_value_.assign(ncamp_, 0.0);
  for (size_t e = 0; e < sc_.experiments.size(); ++e) {
    const ExperimentSpec& ex = sc_.experiments[e];
    ExperimentRuntime er;
    er.key = StreamSeed(seed_, "experiments/" + ex.name + "/assignment");
    er.by_user = ex.split_by_user;
    er.arms = ex.arms;
    er.weights = ex.weights;
    er.start = ex.start;
    er.started = ex.start == 0;
    er.at_start.assign(ex.arms.size(), {});
    er.late.assign(ex.arms.size(), {});
    er.data.since_start.assign(ex.arms.size(), {});
    for (size_t k = 0; k < ex.arms.size(); ++k) {
      experiment_of_[ex.arms[k]] = static_cast<int>(e);
      arm_of_[ex.arms[k]] = static_cast<int>(k);
    }
    bool wants_users = false;
    for (const auto& spec : ex.analyses) {
      const Registry::Entry ai = reg.Require(ComponentKind::kAnalysis, spec, sc_.source_name);
      BuildContext ctx = context(-1, spec, *ai);
      ctx.experiment = static_cast<int>(e);
      analyses_.push_back({spec.label.empty() ? ai->name : spec.label, static_cast<int>(e), ai->make_analysis(ctx)});
      if (analyses_.back().analysis->WantsUserCounts()) {
        if (!ex.split_by_user)
          throw ConfigError({{sc_.source_name, spec.where, spec.line,
                              "an analysis by request (unit: request) under split: opportunity, or split: user",
                              "an analysis by user under split: opportunity (a user sees several arms)"}});
        wants_users = true;
      }
    }
    if (wants_users) {  // one row per user of the segments the arms target
      ExperimentData& d = er.data;
      d.users_kept = true;
      d.row_offset.assign(ns_, -1);
      int64_t rows = 0;
      for (int s : sc_.campaigns[ex.arms[0]].segments) {
        d.row_offset[s] = rows;
        rows += sc_.segments[s].users;
      }
      d.pre.assign(static_cast<size_t>(rows), {});
      d.arm.assign(ex.arms.size(), std::vector<UserCounts>(static_cast<size_t>(rows)));
      d.exposed.assign(ex.arms.size(), {});
      for (auto& list : d.exposed) list.reserve(static_cast<size_t>(rows));  // no allocation while running
    }
    experiments_.push_back(std::move(er));
  }
  camps_.resize(ncamp_);
  account_.SetDailyBudget(Ledger::FromUnits(sc_.account_daily_budget));
  account_.SetTotalBudget(Ledger::FromUnits(sc_.account_total_budget));
  for (int c = 0; c < ncamp_; ++c) {
    const auto& cp = sc_.campaigns[c];
    CampaignRuntime& rt = camps_[c];
    rt.state.name = cp.name;
    rt.state.bid = rt.state.initial_bid = cp.bid;
    rt.state.daily_budget = cp.daily_budget;
    rt.state.total_budget = cp.total_budget;
    rt.state.segment_modifier.assign(ns_, 1.0);
    rt.state.creative_paused.assign(cp.creatives.size(), false);
    rt.state.creative_weight.assign(cp.creatives.size(), 1.0);
    rt.state.goal = cp.goal;
    rt.state.goal_value = cp.goal_value;
    rt.ledger.SetDailyBudget(Ledger::FromUnits(cp.daily_budget));
    rt.ledger.SetTotalBudget(Ledger::FromUnits(cp.total_budget));
    rt.max_daily_budget_today = rt.ledger.daily_budget();
    rt.active_creatives.reserve(num_creatives_[c]);
    rt.creative_cum.reserve(num_creatives_[c]);
    for (int cr = 0; cr < num_creatives_[c]; ++cr) rt.active_creatives.push_back(cr);
    rt.creative_stream = Stream(seed_, "campaigns/" + cp.name + "/creatives");
    const Registry::Entry bi = reg.Require(ComponentKind::kBidder, cp.bidder, sc_.source_name);
    rt.bidder = bi->make_bidder(context(c, cp.bidder, *bi));
    for (const auto& spec : cp.controllers) {
      const Registry::Entry ci = reg.Require(ComponentKind::kController, spec, sc_.source_name);
      controllers_.push_back(
          {spec.label.empty() ? ci->name : spec.label, c, ci->make_controller(context(c, spec, *ci)), spec.priority});
    }
  }
  for (const auto& spec : sc_.controllers) {
    const Registry::Entry ci = reg.Require(ComponentKind::kController, spec, sc_.source_name);
    controllers_.push_back(
        {spec.label.empty() ? ci->name : spec.label, -1, ci->make_controller(context(-1, spec, *ci)), spec.priority});
  }
  // Higher priority first; scenario order among equals.
  std::stable_sort(controllers_.begin(), controllers_.end(),
                   [](const ControllerRuntime& x, const ControllerRuntime& y) { return x.priority > y.priority; });
  for (const auto& spec : sc_.monitors) {
    const Registry::Entry mi = reg.Require(ComponentKind::kMonitor, spec, sc_.source_name);
    monitors_.push_back({spec.label.empty() ? mi->name : spec.label, mi->make_monitor(context(-1, spec, *mi))});
  }
  // Market and shocks.
  market_ = MakeMarket(sc_, seed_);
  conditions_.num_segments = ns_;
  conditions_.traffic.assign(nk, 1.0);
  conditions_.competing_bids.assign(nk, 1.0);
  ctr_mult_.assign(nk, 1.0);
  cvr_mult_.assign(nk, 1.0);
  tracking_.assign(nk, 1.0);
  platform_quality_.Reset(ns_, PlatformQualityHalfLives(sc_));
  shock_active_.assign(sc_.shocks.size(), false);
  ours_.resize(ncamp_);
  work_.resize(ncamp_ + kMaxSlots);
  our_bid_.resize(ncamp_);
  user_row_.assign(ncamp_, nullptr);
  // Output tables.
  agg_ = &results_.Add("aggregates",
                       "Per bucket x campaign x channel x segment x creative counters; rows with any activity");
  a_.bucket = &agg_->Int("bucket_start", "us", "simulated time at which the bucket starts");
  a_.campaign = &agg_->Int("campaign", "index", "index into the campaigns table");
  a_.channel = &agg_->Int("channel", "index", "index into the channels table");
  a_.segment = &agg_->Int("segment", "index", "index into the segments table");
  a_.creative = &agg_->Int("creative", "index", "creative index within the campaign (see the creatives table)");
  a_.opp = &agg_->Int("opportunities", "count", "bid requests the campaign received (eligible opportunities)");
  a_.bids = &agg_->Int("bids", "count", "bids placed (positive bid within budget)");
  a_.wins = &agg_->Int("wins", "count", "auctions won (a slot obtained)");
  a_.imps = &agg_->Int("impressions", "count", "impressions served (equal to wins in the synthetic market)");
  a_.clicks = &agg_->Int("clicks", "count", "clicks");
  a_.conv = &agg_->Int("conversions", "count", "conversions reported in this bucket (by arrival time)");
  a_.value = &agg_->Real("conversion_value", "currency", "value of the conversions reported in this bucket");
  a_.spend = &agg_->Real("spend", "currency", "amount charged");
  market_tab_ = &results_.Add("market", "All opportunities per bucket x channel x segment, whoever bid");
  m_.bucket = &market_tab_->Int("bucket_start", "us", "simulated time at which the bucket starts");
  m_.channel = &market_tab_->Int("channel", "index", "index into the channels table");
  m_.segment = &market_tab_->Int("segment", "index", "index into the segments table");
  m_.opp = &market_tab_->Int("opportunities", "count", "opportunities generated by the market");
  actions_ = &results_.Add("actions", "Every action proposed by a controller and what the guardrails did with it");
  act_.time = &actions_->Int("time", "us", "simulated time of the control cycle");
  act_.controller = &actions_->Text("controller", "registered name of the controller");
  act_.campaign = &actions_->Int("campaign", "index", "target campaign");
  act_.segment = &actions_->Int("segment", "index", "target segment, -1 if none");
  act_.creative = &actions_->Int("creative", "index", "target creative within the campaign, -1 if none");
  act_.kind = &actions_->Text("kind",
                              "set_bid, set_daily_budget, set_total_budget, pause_campaign, resume_campaign, "
                              "pause_creative, resume_creative, set_segment_modifier, set_creative_weight");
  act_.old_value = &actions_->Real("old", "", "value before the action");
  act_.requested = &actions_->Real("requested", "", "value the controller asked for");
  act_.new_value = &actions_->Real("new", "", "value in force after the action");
  act_.status = &actions_->Text(
      "status", "applied, clamped, held (for review, not applied), rejected, or approved (by the reviewer, applied)");
  act_.note = &actions_->Text("note", "why the guardrails clamped, held or rejected it");
  act_.reason = &actions_->Text("reason", "the controller's own explanation");
  conversions_ = &results_.Add("conversions", "Every conversion the simulated users made (truth), reported or not");
  conv_.click_time = &conversions_->Int("click_time", "us", "time of the click that led to it");
  conv_.time = &conversions_->Int("time", "us", "time the conversion happened and would be reported");
  conv_.campaign = &conversions_->Int("campaign", "index", "");
  conv_.channel = &conversions_->Int("channel", "index", "");
  conv_.segment = &conversions_->Int("segment", "index", "");
  conv_.creative = &conversions_->Int("creative", "index", "");
  conv_.user = &conversions_->Int("user", "id", "user id within the segment");
  conv_.value = &conversions_->Real("value", "currency", "conversion value");
  conv_.reported = &conversions_->Int(
      "reported", "bool",
      "1 if the advertiser saw it before the run ended (not lost to a tracking outage, not after the end)");
  alerts_ = &results_.Add("alerts", "Every alert the monitors raised");
  al_.time = &alerts_->Int("time", "us", "simulated time of the control cycle that raised it");
  al_.monitor = &alerts_->Text("monitor", "registered name of the monitor");
  al_.campaign = &alerts_->Int("campaign", "index", "scope: campaign, -1 = all");
  al_.channel = &alerts_->Int("channel", "index", "scope: channel, -1 = all");
  al_.segment = &alerts_->Int("segment", "index", "scope: segment, -1 = all");
  al_.creative = &alerts_->Int("creative", "index", "scope: creative within the campaign, -1 = all");
  al_.metric = &alerts_->Text("metric", "the metric watched (ctr, cvr, spend_forecast, ...)");
  al_.value = &alerts_->Real("value", "", "observed or projected value");
  al_.expected = &alerts_->Real("expected", "", "what the monitor expected");
  al_.score = &alerts_->Real("score", "", "standardised score; sign: above or below expectation");
  al_.severity = &alerts_->Text("severity", "info, warning or critical");
  al_.message = &alerts_->Text("message", "the monitor's explanation");
  daily_ = &results_.Add("daily", "Per day x campaign budget and spend (the ledger)");
  day_.day_start =
      &daily_->Int("day_start", "us", "simulated time of the day's start (midnight, or 0 for the first day)");
  day_.campaign = &daily_->Int("campaign", "index", "");
  day_.daily_budget = &daily_->Real("daily_budget", "currency", "daily budget at the end of the day (inf = none)");
  day_.max_daily_budget =
      &daily_->Real("max_daily_budget", "currency", "largest daily budget in force during the day (inf = none)");
  day_.total_budget = &daily_->Real("total_budget", "currency", "total budget at the end of the day (inf = none)");
  day_.spend = &daily_->Real("spend", "currency", "spend during the day");
  day_.spend_total = &daily_->Real("spend_total", "currency", "spend since the start, at the end of the day");
  if (sc_.recording.events) {
    events_ = &results_.Add("events", "Opportunity-level log (recording.events)");
    ev_.time = &events_->Int("time", "us", "");
    ev_.channel = &events_->Int("channel", "index", "");
    ev_.segment = &events_->Int("segment", "index", "");
    ev_.user = &events_->Int("user", "id", "");
    ev_.bidders = &events_->Int("bidders", "count", "our campaigns that bid");
    ev_.top_competing = &events_->Real("top_competing_bid", "currency", "highest competing bid (score units)");
    ev_.propensity = &events_->Real("propensity", "ratio", "the user's true click propensity multiplier (truth)");
    ev_.winner = &events_->Int("winner", "index", "our campaign in the first slot we won, -1 if none");
    ev_.creative = &events_->Int("creative", "index", "its creative, -1 if none");
    ev_.slot = &events_->Int("slot", "index", "its slot, -1 if none");
    ev_.price = &events_->Real(
        "price", "currency",
        "price of that win as charged: per impression, or per click when click-billed (charged only if clicked)");
    ev_.click = &events_->Int("click", "bool", "1 if that impression was clicked");
    const size_t reserve = static_cast<size_t>(std::min<int64_t>(sc_.recording.max_events, 1 << 20));
    for (auto& col : events_->columns()) std::visit([reserve](auto& v) { v.reserve(reserve); }, col.data);
  }
}

void Engine::RecomputeConditions(SimTime now) {
  const int nk = nc_ * ns_;
  std::fill(conditions_.traffic.begin(), conditions_.traffic.end(), 1.0);
  std::fill(conditions_.competing_bids.begin(), conditions_.competing_bids.end(), 1.0);
  ctr_mult_.assign(nk, 1.0);
  cvr_mult_.assign(nk, 1.0);
  tracking_.assign(nk, 1.0);
  for (size_t i = 0; i < sc_.shocks.size(); ++i) {
    if (!shock_active_[i]) continue;
    const ShockSpec& sh = sc_.shocks[i];
    // A ramp has moved the fraction f of the way from 1 to its multipliers.
    const double f =
        sh.ramp ? std::clamp(static_cast<double>(now - sh.start) / static_cast<double>(sh.end - sh.start), 0.0, 1.0)
                : 1.0;
    auto at = [f](double m) { return 1.0 + f * (m - 1.0); };
    for (int ch = 0; ch < nc_; ++ch) {
      if (!sh.channels.empty() && !std::count(sh.channels.begin(), sh.channels.end(), ch)) continue;
      for (int s = 0; s < ns_; ++s) {
        if (!sh.segments.empty() && !std::count(sh.segments.begin(), sh.segments.end(), s)) continue;
        const int k = ch * ns_ + s;
        conditions_.traffic[k] *= at(sh.traffic);
        conditions_.competing_bids[k] *= at(sh.competing_bids);
        ctr_mult_[k] *= at(sh.ctr);
        cvr_mult_[k] *= at(sh.cvr);
        tracking_[k] *= at(sh.conversion_tracking);
      }
    }
  }
  platform_quality_.OnLiveChange(now, ctr_mult_);
  market_->OnConditionsChanged(now, conditions_);
}

void Engine::ProcessOpportunity(const Opportunity& o) {
  ++opportunities_;
  const int k = o.channel * ns_ + o.segment;
  ++market_total_[k];
  const ChannelSpec& chs = sc_.channels[o.channel];
  const bool click_billing = chs.billing == Billing::kClick;
  if (click_billing) platform_quality_.Advance(o.time);
  BidRequest req;
  req.time = o.time;
  req.channel = o.channel;
  req.segment = o.segment;
  req.user = o.user;
  req.hour_of_day = static_cast<int>(((o.time + sc_.start_offset_in_day) / kMicrosPerHour) % 24);
  req.floor = chs.floor;
  int n = 0;
  // What the account can still spend on this opportunity: each of our bids
  // takes its capped amount out of it, so that several of our campaigns
  // winning slots of one auction cannot together pass the account cap.
  Micros account_left = account_.Remaining();
  for (int e = elig_offset_[k], e_end = elig_offset_[k + 1]; e < e_end; ++e) {
    const int c = elig_[e];
    CampaignRuntime& rt = camps_[c];
    const int na = static_cast<int>(rt.active_creatives.size());
    if (rt.state.paused || na == 0) continue;
    if (experiment_of_[c] >= 0 && !ServesArm(c, o)) continue;
    int creative;
    if (na == 1) {
      creative = rt.active_creatives[0];
    } else if (!rt.weighted) {
      creative = rt.active_creatives[rt.creative_stream.Below(na)];
    } else {  // inversion on the cumulative weights: no allocation, O(log na)
      const double x = rt.creative_stream.Uniform() * rt.creative_cum[na - 1];
      const int i = static_cast<int>(std::upper_bound(rt.creative_cum.begin(), rt.creative_cum.end(), x) -
                                     rt.creative_cum.begin());
      creative = rt.active_creatives[std::min(i, na - 1)];
    }
    const int cell = cell_offset_[c] + k * num_creatives_[c] + creative;
    ++total_[cell].requests;
    const Micros remaining = std::min(rt.ledger.Remaining(), account_left);
    if (remaining <= 0) continue;
    req.creative = creative;
    double bid = (c == oracle_campaign_ ? OracleBid(c, cell, k, o, click_billing) : rt.bidder->Bid(req, rt.state)) *
                 rt.state.segment_modifier[o.segment];
    if (!(bid > 0)) continue;
    const GuardrailSpec& g = sc_.campaigns[c].guardrails;
    if (bid > g.max_bid) bid = g.max_bid;
    Micros bid_micros = std::min(UnitsToMicrosFloor(bid), remaining);
    if (bid_micros <= 0) continue;
    bid = MicrosToUnits(bid_micros);
    // On click-billed channels the floor is a reserve price per click.
    if (click_billing && bid < chs.floor) continue;
    double quality = click_billing ? true_ctr_[cell] * platform_quality_.Multiplier(k) : 1.0;
    if (click_billing && !fatigue_index_.empty() && fatigue_index_[cell] >= 0)
      quality *= fatigue_[fatigue_index_[cell]].Factor(o.time);
    ++total_[cell].bids;
    account_left -= bid_micros;
    ours_[n++] = {bid * quality, c};
    our_bid_[c] = {cell, bid, bid_micros, quality, creative};
  }
  int won = 0;
  if (n > 0) {
    double competing[kMaxSlots];  // exponentiated only now that one of ours bids
    for (int j = 0; j < chs.slots; ++j) competing[j] = o.CompetingBid(j);
    won = RunAuction(chs.auction, chs.slots, click_billing ? 0.0 : chs.floor, competing, chs.slots, ours_.data(), n,
                     work_.data(), wins_);
  }
  bool first_click = false;
  Micros first_price = 0;
  for (int w = 0; w < won; ++w) {
    const SlotWin& sw = wins_[w];
    const int c = sw.bidder;
    const OurBid& ob = our_bid_[c];
    CampaignRuntime& rt = camps_[c];
    // Price in billing units (per impression, or per click), never above the capped bid.
    double price = chs.auction == AuctionType::kFirstPrice ? ob.bid : sw.price_score / ob.quality;
    if (click_billing && price < chs.floor) price = chs.floor;
    Micros price_micros = std::min(static_cast<Micros>(std::llround(price * kMicrosPerUnit)), ob.bid_micros);
    CellCounters& cc = total_[ob.cell];
    ++cc.wins;
    UserCounts* const user = user_row_[c];
    if (user) ++user->impressions;
    if (!click_billing) {
      rt.ledger.Charge(price_micros);
      account_.Charge(price_micros);
      cc.spend += price_micros;
      rt.state.spend_today = MicrosToUnits(rt.ledger.spend_today());  // bidders see spend as it happens
      rt.state.spend_total = MicrosToUnits(rt.ledger.spend_total());
    }
    double true_ctr = true_ctr_[ob.cell];
    FatigueState* fatigue = nullptr;
    if (!fatigue_index_.empty() && fatigue_index_[ob.cell] >= 0) {
      fatigue = &fatigue_[fatigue_index_[ob.cell]];
      true_ctr *= fatigue->Factor(o.time);  // exposures before this impression
      fatigue->Expose();
    }
    const double p_click = true_ctr * ctr_mult_[k] * o.Propensity() * chs.click_factors[sw.slot];
    ResponseRng rng(o.response_key, sw.slot);
    const bool click = rng.Uniform() < p_click;
    if (w == 0) {
      first_click = click;
      first_price = price_micros;
    }
    if (click) {
      ++cc.clicks;
      if (user) ++user->clicks;
      if (click_billing) {
        rt.ledger.Charge(price_micros);
        account_.Charge(price_micros);
        cc.spend += price_micros;
        rt.state.spend_today = MicrosToUnits(rt.ledger.spend_today());
        rt.state.spend_total = MicrosToUnits(rt.ledger.spend_total());
      }
      if (rng.Uniform() < true_cvr_[ob.cell] * cvr_mult_[k]) ScheduleConversion(o, c, ob.creative, rng);
    }
  }
  if (events_ && !events_truncated_) {
    if (events_recorded_ >= sc_.recording.max_events) {
      events_truncated_ = true;
    } else {
      ++events_recorded_;
      ev_.time->push_back(o.time);
      ev_.channel->push_back(o.channel);
      ev_.segment->push_back(o.segment);
      ev_.user->push_back(o.user);
      ev_.bidders->push_back(n);
      ev_.top_competing->push_back(o.CompetingBid(0));
      ev_.propensity->push_back(o.Propensity());
      if (won > 0) {
        const OurBid& ob = our_bid_[wins_[0].bidder];
        ev_.winner->push_back(wins_[0].bidder);
        ev_.creative->push_back(ob.creative);
        ev_.slot->push_back(wins_[0].slot);
        ev_.price->push_back(MicrosToUnits(first_price));
        ev_.click->push_back(first_click ? 1 : 0);
      } else {
        ev_.winner->push_back(-1);
        ev_.creative->push_back(-1);
        ev_.slot->push_back(-1);
        ev_.price->push_back(0.0);
        ev_.click->push_back(0);
      }
    }
  }
}

void Engine::ScheduleConversion(const Opportunity& o, int campaign, int creative, ResponseRng& rng) {
  // Delay, value and reporting draws continue the opportunity's response stream.
  const SegmentSpec& seg = sc_.segments[o.segment];
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  boost::random::exponential_distribution<double> exponential(1.0);
  double delay_us;
  switch (seg.delay_dist) {
    case DelayDist::kFixed:
      delay_us = static_cast<double>(seg.delay_mean);
      break;
    case DelayDist::kExponential:
      delay_us = static_cast<double>(seg.delay_mean) * exponential(rng);
      break;
    case DelayDist::kLognormal:
    default:
      delay_us = static_cast<double>(seg.delay_mean) * std::exp(seg.delay_sigma * normal(rng));
      break;
  }
  double value = seg.value_mean;
  if (seg.value_dist == ValueDist::kLognormal)  // mean-preserving: E[value] = value_mean
    value = seg.value_mean * std::exp(seg.value_sigma * normal(rng) - 0.5 * seg.value_sigma * seg.value_sigma);
  PendingConversion p{o.time, campaign, o.channel, o.segment, creative, o.user, value, rng.Uniform()};
  const double at = static_cast<double>(o.time) + std::max(1.0, delay_us);
  const SimTime arrival = at >= static_cast<double>(sc_.duration) ? sc_.duration + 1 : static_cast<SimTime>(at);
  if (arrival >= sc_.duration) {  // after the end: truth only, never seen by the advertiser
    RecordConversion(p, static_cast<SimTime>(std::min(at, 9.0e18)), false);
    return;
  }
  int64_t idx;
  if (!free_pending_.empty()) {
    idx = free_pending_.back();
    free_pending_.pop_back();
    pending_[idx] = p;
  } else {
    idx = static_cast<int64_t>(pending_.size());
    pending_.push_back(p);
  }
  Push(arrival, EventKind::kConversion, idx);
}

void Engine::RecordConversion(const PendingConversion& p, SimTime arrival, bool reported) {
  truth_conversions_[p.campaign] += 1;
  truth_value_[p.campaign] += p.value;
  if (!sc_.recording.conversions) return;
  conv_.click_time->push_back(p.click_time);
  conv_.time->push_back(arrival);
  conv_.campaign->push_back(p.campaign);
  conv_.channel->push_back(p.channel);
  conv_.segment->push_back(p.segment);
  conv_.creative->push_back(p.creative);
  conv_.user->push_back(p.user);
  conv_.value->push_back(p.value);
  conv_.reported->push_back(reported ? 1 : 0);
}

// Whether campaign c, an experiment arm, serves opportunity o; counts the
// request in the user's counters when the experiment keeps them.
bool Engine::ServesArm(int c, const Opportunity& o) {
  ExperimentRuntime& er = experiments_[experiment_of_[c]];
  if (AssignedArm(experiment_of_[c], o) != c) return false;
  UserCounts* user = er.data.users_kept ? er.UserRow(arm_of_[c], o.segment, o.user, o.time) : nullptr;
  if (user) ++user->requests;
  user_row_[c] = user;
  return true;
}

int Engine::AssignedArm(int experiment, const Opportunity& o) {
  ExperimentRuntime& er = experiments_[experiment];
  if (er.stamp == opportunities_) return er.assigned;
  er.stamp = opportunities_;
  if (o.time < er.start) return er.assigned = camps_[er.arms[0]].state.paused ? -1 : er.arms[0];  // pre-period
  const int na = static_cast<int>(er.active_arms.size());
  if (na == 0) return er.assigned = -1;
  const uint64_t unit =
      er.by_user ? (static_cast<uint64_t>(o.segment) << 48) ^ static_cast<uint64_t>(o.user) : o.response_key;
  const double u = static_cast<double>(Mix64(er.key ^ Mix64(unit)) >> 11) * 0x1.0p-53 * er.active_cum[na - 1];
  int i = 0;
  while (i + 1 < na && u >= er.active_cum[i]) ++i;
  return er.assigned = er.active_arms[i];
}

// A reported conversion of an experiment arm: in the arm's user counters, and
// set apart when its click came before the experiment's start.
void Engine::CountExperimentConversion(const PendingConversion& p) {
  ExperimentRuntime& er = experiments_[experiment_of_[p.campaign]];
  const int arm = arm_of_[p.campaign];
  if (p.click_time < er.start && er.started) {
    ObservedStats& l = er.late[arm];
    ++l.conversions;
    l.conversion_value += p.value;
    l.conversion_value_sq += p.value * p.value;
  }
  if (!er.data.users_kept || er.data.row_offset[p.segment] < 0) return;
  const int64_t row = er.data.row_offset[p.segment] + p.user;
  UserCounts& u = p.click_time < er.start ? er.data.pre[row] : er.data.arm[arm][row];
  ++u.conversions;
  u.conversion_value += static_cast<float>(p.value);
}

void Engine::RebuildExperimentArms() {
  for (ExperimentRuntime& er : experiments_) {
    er.active_arms.clear();
    er.active_cum.clear();
    double sum = 0;
    for (size_t k = 0; k < er.arms.size(); ++k) {
      if (camps_[er.arms[k]].state.paused) continue;
      sum += er.weights[k];
      er.active_arms.push_back(er.arms[k]);
      er.active_cum.push_back(sum);
    }
    er.stamp = -1;
  }
}

void Engine::RecordAlert(const Alert& a) {
  al_.time->push_back(a.time);
  al_.monitor->push_back(a.monitor);
  al_.campaign->push_back(a.campaign);
  al_.channel->push_back(a.channel);
  al_.segment->push_back(a.segment);
  al_.creative->push_back(a.creative);
  al_.metric->push_back(a.metric);
  al_.value->push_back(a.value);
  al_.expected->push_back(a.expected);
  al_.score->push_back(a.score);
  al_.severity->push_back(a.severity);
  al_.message->push_back(a.message);
  all_alerts_.push_back(a);
}

void Engine::FlushBucket(SimTime bucket_start) {
  for (int c = 0; c < ncamp_; ++c) {
    for (int kk = 0; kk < nc_ * ns_; ++kk) {
      for (int cr = 0; cr < num_creatives_[c]; ++cr) {
        const int cell = cell_offset_[c] + kk * num_creatives_[c] + cr;
        const CellCounters d = Minus(total_[cell], bucket_base_[cell]);
        if (d.requests == 0 && d.conversions == 0 && d.wins == 0) continue;
        a_.bucket->push_back(bucket_start);
        a_.campaign->push_back(c);
        a_.channel->push_back(kk / ns_);
        a_.segment->push_back(kk % ns_);
        a_.creative->push_back(cr);
        a_.opp->push_back(d.requests);
        a_.bids->push_back(d.bids);
        a_.wins->push_back(d.wins);
        a_.imps->push_back(d.wins);
        a_.clicks->push_back(d.clicks);
        a_.conv->push_back(d.conversions);
        a_.value->push_back(d.value);
        a_.spend->push_back(MicrosToUnits(d.spend));
      }
    }
  }
  bucket_base_ = total_;
  for (int kk = 0; kk < nc_ * ns_; ++kk) {
    const int64_t d = market_total_[kk] - market_base_[kk];
    if (d == 0) continue;
    m_.bucket->push_back(bucket_start);
    m_.channel->push_back(kk / ns_);
    m_.segment->push_back(kk % ns_);
    m_.opp->push_back(d);
  }
  market_base_ = market_total_;
}

void Engine::CloseDay(SimTime day_start) {
  for (int c = 0; c < ncamp_; ++c) {
    const CampaignRuntime& rt = camps_[c];
    day_.day_start->push_back(day_start);
    day_.campaign->push_back(c);
    day_.daily_budget->push_back(Ledger::ToUnits(rt.ledger.daily_budget()));
    day_.max_daily_budget->push_back(Ledger::ToUnits(rt.max_daily_budget_today));
    day_.total_budget->push_back(Ledger::ToUnits(rt.ledger.total_budget()));
    day_.spend->push_back(MicrosToUnits(rt.ledger.spend_today()));
    day_.spend_total->push_back(MicrosToUnits(rt.ledger.spend_total()));
  }
}

void Engine::HandleEvent(const Event& e) {
  switch (e.kind) {
    case EventKind::kDayStart: {
      CloseDay(day_start_);
      day_start_ = e.time;
      account_.StartDay();
      for (auto& rt : camps_) {
        rt.ledger.StartDay();
        rt.state.spend_today = 0;
        rt.max_daily_budget_today = rt.ledger.daily_budget();
      }
      day_base_ = total_;
      if (e.time + kMicrosPerDay < sc_.duration) Push(e.time + kMicrosPerDay, EventKind::kDayStart, 0);
      break;
    }
    case EventKind::kShockStart:
    case EventKind::kShockEnd:
    case EventKind::kShockStep: {
      const ShockSpec& sh = sc_.shocks[e.payload];
      if (e.kind != EventKind::kShockStep) shock_active_[e.payload] = e.kind == EventKind::kShockStart;
      RecomputeConditions(e.time);
      // A ramp moves towards its multipliers in steps until its end.
      const SimTime next = e.time + sh.ramp_step;
      if (sh.ramp && e.kind != EventKind::kShockEnd && next < sh.end && next < sc_.duration)
        Push(next, EventKind::kShockStep, e.payload);
      break;
    }
    case EventKind::kConversion: {
      const PendingConversion p = pending_[e.payload];
      free_pending_.push_back(e.payload);
      const int k = p.channel * ns_ + p.segment;
      const bool reported = p.u_track < tracking_[k];
      if (reported) {
        CellCounters& cc = total_[cell_offset_[p.campaign] + k * num_creatives_[p.campaign] + p.creative];
        ++cc.conversions;
        cc.value += p.value;
        cc.value_sq += p.value * p.value;
        if (experiment_of_[p.campaign] >= 0) CountExperimentConversion(p);
      }
      RecordConversion(p, e.time, reported);
      break;
    }
    case EventKind::kReview:
      DecideReview(e.time, e.payload);
      break;
    case EventKind::kCycle:
      RunCycle(e.time);
      if (e.time + sc_.control_cycle < sc_.duration) Push(e.time + sc_.control_cycle, EventKind::kCycle, 0);
      break;
  }
}

void Engine::RunCycle(SimTime now) {
  if (opt_.cancel && opt_.cancel->load()) throw Error("run cancelled");
  if (opt_.progress) opt_.progress(static_cast<double>(now) / static_cast<double>(sc_.duration));
  Snapshot snap;
  snap.time = now;
  snap.day_start = day_start_;
  snap.control_cycle = sc_.control_cycle;
  snap.num_channels = nc_;
  snap.num_segments = ns_;
  snap.num_creatives = num_creatives_;
  snap.cell_offset = cell_offset_;
  for (int c = 0; c < ncamp_; ++c) {
    CampaignRuntime& rt = camps_[c];
    rt.state.spend_today = MicrosToUnits(rt.ledger.spend_today());
    rt.state.spend_total = MicrosToUnits(rt.ledger.spend_total());
    snap.campaigns.push_back(rt.state);
    rt.cycle_bid = rt.state.bid;
    rt.cycle_daily = rt.state.daily_budget;
    rt.cycle_total = rt.state.total_budget;
    rt.cycle_modifier = rt.state.segment_modifier;
  }
  snap.total.resize(ncells_);
  snap.last_cycle.resize(ncells_);
  snap.today.resize(ncells_);
  for (int i = 0; i < ncells_; ++i) {
    snap.total[i] = ToObserved(total_[i]);
    snap.last_cycle[i] = ToObserved(Minus(total_[i], cycle_base_[i]));
    snap.today[i] = ToObserved(Minus(total_[i], day_base_[i]));
  }
  cycle_base_ = total_;
  snap.hourly_traffic_share.resize(nc_);
  for (int ch = 0; ch < nc_; ++ch) {
    const auto& hod = sc_.channels[ch].hour_of_day;
    double sum = 0;
    for (double v : hod) sum += v;
    for (double v : hod) snap.hourly_traffic_share[ch].push_back(v / sum);
    snap.channel_names.push_back(sc_.channels[ch].name);
  }
  for (const auto& s : sc_.segments) snap.segment_names.push_back(s.name);
  for (const auto& cp : sc_.campaigns) {
    snap.creative_names.emplace_back();
    for (const auto& cr : cp.creatives) snap.creative_names.back().push_back(cr.name);
  }
  for (int c = 0; c < ncamp_; ++c) camps_[c].bidder->OnCycle(snap, c);
  // Monitors run before controllers, so a controller can react to this cycle's alerts.
  for (auto& mon : monitors_) {
    const size_t before = snap.alerts.size();
    mon.monitor->OnCycle(snap, &snap.alerts);
    for (size_t i = before; i < snap.alerts.size(); ++i) {
      Alert& a = snap.alerts[i];
      a.time = now;
      a.monitor = mon.name;
      RecordAlert(a);
    }
  }
  std::vector<Action> actions;
  claims_.clear();
  for (auto& ctl : controllers_) {
    actions.clear();
    ctl.controller->OnCycle(snap, ctl.campaign, &actions);
    for (const Action& a : actions) ApplyAction(now, ctl.name, ctl.priority, a);
  }
  // The arms' counters since each experiment's start.
  for (ExperimentRuntime& er : experiments_) {
    for (size_t k = 0; k < er.arms.size(); ++k) {
      const ObservedStats t = snap.CampaignTotal(snap.total, er.arms[k]);
      if (!er.started && now >= er.start) er.at_start[k] = t;
      ObservedStats& d = er.data.since_start[k];
      d = t;
      d.Subtract(er.at_start[k]);
      d.Subtract(er.late[k]);
    }
    er.started |= now >= er.start;
  }
  // Experiment analyses run last, from the experiment's start on: their
  // decisions (pausing arms) pass the guardrails like any action.
  for (auto& an : analyses_) {
    const ExperimentRuntime& er = experiments_[an.experiment];
    if (now <= er.start) continue;
    actions.clear();
    const size_t before = looks_.size();
    an.analysis->OnCycle(snap, er.data, &looks_, &actions);
    for (size_t i = before; i < looks_.size(); ++i) {
      looks_[i].time = now;
      looks_[i].experiment = sc_.experiments[an.experiment].name;
      looks_[i].analysis = an.name;
    }
    for (const Action& a : actions) ApplyAction(now, "experiment:" + an.name, 0, a);
  }
  RebuildExperimentArms();
}

void Engine::RebuildCreatives(int campaign) {
  CampaignRuntime& rt = camps_[campaign];
  const CampaignState& st = rt.state;
  rt.active_creatives.clear();
  rt.creative_cum.clear();
  for (int cr = 0; cr < num_creatives_[campaign]; ++cr)
    if (!st.creative_paused[cr] && st.creative_weight[cr] > 0) rt.active_creatives.push_back(cr);
  if (rt.active_creatives.empty()) {  // every unpaused weight is 0: rotate evenly among them
    for (int cr = 0; cr < num_creatives_[campaign]; ++cr)
      if (!st.creative_paused[cr]) rt.active_creatives.push_back(cr);
    rt.weighted = false;
    return;
  }
  double sum = 0;
  rt.weighted = false;
  for (int cr : rt.active_creatives) {
    sum += st.creative_weight[cr];
    rt.creative_cum.push_back(sum);
    rt.weighted |= st.creative_weight[cr] != st.creative_weight[rt.active_creatives[0]];
  }
}

namespace {

// Budget moves take away only what is unspent (docs/engine.md, "Budgets"): a
// daily (total) budget set below today's (the run's) spend becomes that spend,
// recorded as clamped. Returns the new budget in ledger micros.
Micros KeepSpent(const Ledger& ledger, bool daily, GuardrailDecision* d) {
  const Micros spent = daily ? ledger.spend_today() : ledger.spend_total();
  const Micros m = Ledger::FromUnits(d->value);
  if (m == Ledger::kNone || m >= spent) return m;
  d->value = MicrosToUnits(spent);
  d->status = ActionStatus::kClamped;
  d->note = daily ? "clamped by spend_today" : "clamped by spend_total";
  return spent;
}

}  // namespace

void Engine::ApplyAction(SimTime now, const std::string& controller, int priority, const Action& a) {
  auto record = [&](double old_v, double req, double new_v, ActionStatus st, const std::string& note) {
    act_.time->push_back(now);
    act_.controller->push_back(controller);
    act_.campaign->push_back(a.campaign);
    act_.segment->push_back(a.segment);
    act_.creative->push_back(a.creative);
    act_.kind->push_back(ActionKindName(a.kind));
    act_.old_value->push_back(old_v);
    act_.requested->push_back(req);
    act_.new_value->push_back(new_v);
    act_.status->push_back(ActionStatusName(st));
    act_.note->push_back(note);
    act_.reason->push_back(a.reason);
  };
  if (a.campaign < 0 || a.campaign >= ncamp_) {
    record(0, a.value, 0, ActionStatus::kRejected, "no campaign with index " + std::to_string(a.campaign));
    return;
  }
  // Priorities: within a cycle, once a controller has changed a setting, a
  // lower-priority controller cannot change it again.
  const int setting = a.kind == ActionKind::kPauseCampaign || a.kind == ActionKind::kResumeCampaign ? 3
                      : a.kind == ActionKind::kPauseCreative || a.kind == ActionKind::kResumeCreative
                          ? 4
                          : static_cast<int>(a.kind) + 10;
  const int index = a.kind == ActionKind::kSetSegmentModifier ? a.segment : a.creative;
  const auto key = std::make_tuple(a.campaign, setting, index);
  if (auto it = claims_.find(key); !reviewing_ && it != claims_.end() && it->second > priority) {
    record(0, a.value, 0, ActionStatus::kRejected,
           "superseded by a priority " + std::to_string(it->second) + " action this cycle");
    return;
  }
  const size_t recorded = act_.status->size();
  CampaignRuntime& rt = camps_[a.campaign];
  if (a.campaign == oracle_campaign_ && controller != "oracle_pacing") {
    record(0, a.value, 0, ActionStatus::kRejected, "the oracle keeps the scenario's settings");
    return;
  }
  if (a.review) {
    const double cur = a.kind == ActionKind::kSetBid           ? rt.state.bid
                       : a.kind == ActionKind::kSetDailyBudget ? rt.state.daily_budget
                       : a.kind == ActionKind::kSetTotalBudget ? rt.state.total_budget
                       : a.kind == ActionKind::kPauseCampaign || a.kind == ActionKind::kResumeCampaign
                           ? (rt.state.paused ? 1.0 : 0.0)
                           : NAN;
    const double req = a.kind == ActionKind::kPauseCampaign    ? 1.0
                       : a.kind == ActionKind::kResumeCampaign ? 0.0
                                                               : a.value;
    record(cur, req, cur, ActionStatus::kHeld, "held for review: the controller asked for it");
    TrackReview(now, controller, priority, a, key, recorded);
    return;
  }
  const GuardrailSpec& g = reviewing_ ? reviewed_guard_ : sc_.campaigns[a.campaign].guardrails;
  switch (a.kind) {
    case ActionKind::kSetBid: {
      const GuardrailDecision d = ApplyGuardrails(g, a.kind, rt.cycle_bid, rt.state.bid, a.value);
      const double old = rt.state.bid;
      if (d.status == ActionStatus::kApplied || d.status == ActionStatus::kClamped) rt.state.bid = d.value;
      record(old, a.value, rt.state.bid, d.status, d.note);
      break;
    }
    case ActionKind::kSetDailyBudget:
    case ActionKind::kSetTotalBudget: {
      const bool daily = a.kind == ActionKind::kSetDailyBudget;
      double& cur = daily ? rt.state.daily_budget : rt.state.total_budget;
      const double old = cur;
      GuardrailDecision d = ApplyBudgetCeiling(
          sc_.campaigns[a.campaign], daily, a.value,
          ApplyGuardrails(g, a.kind, daily ? rt.cycle_daily : rt.cycle_total, old, a.value), reviewing_);
      if (d.status == ActionStatus::kApplied || d.status == ActionStatus::kClamped) {
        const Micros m = KeepSpent(rt.ledger, daily, &d);
        cur = d.value;
        if (daily) {
          rt.ledger.SetDailyBudget(m);
          if (rt.max_daily_budget_today != Ledger::kNone)
            rt.max_daily_budget_today = std::max(rt.max_daily_budget_today, m);
        } else {
          rt.ledger.SetTotalBudget(m);
        }
      }
      record(old, a.value, cur, d.status, d.note);
      break;
    }
    case ActionKind::kPauseCampaign:
    case ActionKind::kResumeCampaign: {
      const bool pause = a.kind == ActionKind::kPauseCampaign;
      const double old = rt.state.paused ? 1 : 0;
      if (pause && g.hold_pauses) {
        record(old, 1, old, ActionStatus::kHeld, "hold_pauses is set");
        break;
      }
      rt.state.paused = pause;
      record(old, pause ? 1 : 0, pause ? 1 : 0, ActionStatus::kApplied, "");
      break;
    }
    case ActionKind::kPauseCreative:
    case ActionKind::kResumeCreative: {
      const bool pause = a.kind == ActionKind::kPauseCreative;
      if (a.creative < 0 || a.creative >= num_creatives_[a.campaign]) {
        record(0, a.creative, 0, ActionStatus::kRejected, "no creative with index " + std::to_string(a.creative));
        break;
      }
      const double old = rt.state.creative_paused[a.creative] ? 1 : 0;
      rt.state.creative_paused[a.creative] = pause;
      RebuildCreatives(a.campaign);
      record(old, pause ? 1 : 0, pause ? 1 : 0, ActionStatus::kApplied, "");
      break;
    }
    case ActionKind::kSetCreativeWeight: {
      // A rotation weight is neither a bid nor a budget: no change limit
      // applies; only values that have no meaning as a weight are rejected.
      if (a.creative < 0 || a.creative >= num_creatives_[a.campaign]) {
        record(0, a.value, 0, ActionStatus::kRejected, "no creative with index " + std::to_string(a.creative));
        break;
      }
      double& cur = rt.state.creative_weight[a.creative];
      const double old = cur;
      if (!std::isfinite(a.value) || a.value < 0) {
        record(old, a.value, old, ActionStatus::kRejected, "a creative weight must be a finite number >= 0");
        break;
      }
      cur = a.value;
      RebuildCreatives(a.campaign);
      record(old, a.value, cur, ActionStatus::kApplied, "");
      break;
    }
    case ActionKind::kSetSegmentModifier: {
      if (a.segment < 0 || a.segment >= ns_) {
        record(0, a.value, 0, ActionStatus::kRejected, "no segment with index " + std::to_string(a.segment));
        break;
      }
      double& cur = rt.state.segment_modifier[a.segment];
      const double old = cur;
      if (std::count(g.blocked_segments.begin(), g.blocked_segments.end(), a.segment)) {
        record(old, a.value, old, ActionStatus::kRejected, "segment blocked by brand safety");
        break;
      }
      const GuardrailDecision d = ApplyGuardrails(g, a.kind, rt.cycle_modifier[a.segment], old, a.value);
      if (d.status == ActionStatus::kApplied || d.status == ActionStatus::kClamped) cur = d.value;
      record(old, a.value, cur, d.status, d.note);
      break;
    }
  }
  if (act_.status->size() > recorded) {
    const std::string& st = act_.status->back();
    if (st == "applied" || st == "clamped")
      claims_[key] = std::max(claims_.count(key) ? claims_[key] : priority, priority);
  }
  TrackReview(now, controller, priority, a, key, recorded);
}

// ---- Human review of held actions (core/review.h, docs/engine.md).

double Engine::SettingValue(const Action& a) const {
  const CampaignState& st = camps_[a.campaign].state;
  const bool creative_ok = a.creative >= 0 && a.creative < num_creatives_[a.campaign];
  switch (a.kind) {
    case ActionKind::kSetBid:
      return st.bid;
    case ActionKind::kSetDailyBudget:
      return st.daily_budget;
    case ActionKind::kSetTotalBudget:
      return st.total_budget;
    case ActionKind::kPauseCampaign:
    case ActionKind::kResumeCampaign:
      return st.paused ? 1.0 : 0.0;
    case ActionKind::kPauseCreative:
    case ActionKind::kResumeCreative:
      return creative_ok ? (st.creative_paused[a.creative] ? 1.0 : 0.0) : NAN;
    case ActionKind::kSetCreativeWeight:
      return creative_ok ? st.creative_weight[a.creative] : NAN;
    case ActionKind::kSetSegmentModifier:
      return a.segment >= 0 && a.segment < ns_ ? st.segment_modifier[a.segment] : NAN;
  }
  return NAN;
}

// Called after every action with the row it recorded. One review is pending
// per setting: a newer change of the setting that is applied withdraws it (the
// request is stale); a newer request that is held replaces it and keeps its
// place in the queue (the reviewer decides the latest request, when the first
// was due), so a controller repeating its request does not postpone the decision.
void Engine::TrackReview(SimTime now, const std::string& controller, int priority, const Action& a,
                         const std::tuple<int, int, int>& setting, size_t row) {
  if (reviewing_ || row >= act_.status->size()) return;
  const std::string& status = (*act_.status)[row];
  const bool held = status == "held";
  if (!held && status != "applied" && status != "clamped") return;
  SimTime inherited_due = -1;
  if (auto it = pending_review_.find(setting); it != pending_review_.end()) {
    PendingReview& old = reviews_[it->second];
    old.decided = now;
    old.decision = held ? "replaced" : "withdrawn";
    old.note = (held ? "replaced by a newer request of " : "withdrawn: the setting was changed by ") + controller +
               " at " + FormatDuration(now);
    if (held) inherited_due = old.due;
    pending_review_.erase(it);
  }
  if (!held || !ReviewEnabled(a.campaign)) return;
  PendingReview r;
  r.action = a;
  r.controller = controller;
  r.priority = priority;
  r.setting = setting;
  r.held_time = now;
  r.due = inherited_due >= 0 ? inherited_due : now + sc_.campaigns[a.campaign].guardrails.review.latency;
  r.old_value = (*act_.old_value)[row];
  if (std::isnan(r.old_value)) r.old_value = SettingValue(a);
  r.requested = (*act_.requested)[row];
  r.hold_note = (*act_.note)[row];
  const int64_t index = static_cast<int64_t>(reviews_.size());
  reviews_.push_back(std::move(r));
  pending_review_[setting] = index;
  // A decision due at or after the end is never made: the review stays pending.
  if (reviews_.back().due < sc_.duration) Push(reviews_.back().due, EventKind::kReview, index);
}

void Engine::DecideReview(SimTime now, int64_t index) {
  if (reviews_[index].decision != "pending") return;  // withdrawn or replaced meanwhile
  pending_review_.erase(reviews_[index].setting);
  const PendingReview r = reviews_[index];
  const CampaignSpec& cp = sc_.campaigns[r.action.campaign];
  ReviewRequest q;
  q.time = now;
  q.held_time = r.held_time;
  q.campaign = r.action.campaign;
  q.campaign_name = cp.name;
  q.kind = r.action.kind;
  q.segment = r.action.segment;
  q.creative = r.action.creative;
  q.old_value = r.old_value;
  q.requested = r.requested;
  q.current = SettingValue(r.action);
  q.controller = r.controller;
  q.reason = r.action.reason;
  q.hold_note = r.hold_note;
  const ReviewDecision d = opt_.reviewer ? opt_.reviewer(q) : ApplyReviewRule(cp.guardrails.review, q);
  const std::string held = " (held at " + FormatDuration(r.held_time) + ")";
  const size_t row = act_.status->size();
  if (d.approve) {
    Action act = r.action;
    act.review = false;
    if (d.value && ReviewValueIsNumeric(act.kind)) act.value = *d.value;
    // A person signed off on the size of the move: the review threshold, the
    // per-cycle change limit and hold_pauses no longer apply; the absolute
    // bounds, brand safety and the budget state of now still do.
    reviewed_guard_ = cp.guardrails;
    reviewed_guard_.review_threshold = INFINITY;
    reviewed_guard_.max_change = INFINITY;
    reviewed_guard_.hold_pauses = false;
    reviewing_ = true;
    ApplyAction(now, r.controller, r.priority, act);
    reviewing_ = false;
  } else {
    act_.time->push_back(now);
    act_.controller->push_back(r.controller);
    act_.campaign->push_back(r.action.campaign);
    act_.segment->push_back(r.action.segment);
    act_.creative->push_back(r.action.creative);
    act_.kind->push_back(ActionKindName(r.action.kind));
    act_.old_value->push_back(q.current);
    act_.requested->push_back(r.requested);
    act_.new_value->push_back(q.current);
    act_.status->push_back(ActionStatusName(ActionStatus::kRejected));
    act_.note->push_back("rejected by the reviewer" + held + ": " + d.note);
    act_.reason->push_back(r.action.reason);
  }
  PendingReview& out = reviews_[index];
  out.decided = now;
  out.note = d.note;
  if (row >= act_.status->size()) return;
  std::string& status = (*act_.status)[row];
  std::string& note = (*act_.note)[row];
  if (d.approve) {
    if (status == "applied" || status == "clamped") {
      note = "approved by the reviewer" + held + ": " + d.note + (status == "clamped" ? "; " + note : "");
      status = "approved";
    } else {
      note = "approved by the reviewer" + held + " but " + status + " by the guardrails: " + note;
    }
  }
  out.decision = status == "approved" ? "approved" : "rejected";
  out.new_value = (*act_.new_value)[row];
}

// The `reviews` table, only in runs where held actions can be decided (so the
// tables of other runs, and their fingerprints, are unchanged).
void Engine::RecordReviews() {
  bool enabled = false;
  for (int c = 0; c < ncamp_; ++c) enabled |= ReviewEnabled(c);
  if (!enabled) return;
  Table& t = results_.Add("reviews", "Every action held for review and what the reviewer decided");
  auto& held = t.Int("held_time", "us", "simulated time at which the action was held");
  auto& due = t.Int("due", "us", "time the decision is due: held_time + the campaign's review latency");
  auto& decided = t.Int("decided", "us", "time of the decision, withdrawal or replacement; -1 if still pending");
  auto& campaign = t.Int("campaign", "index", "target campaign");
  auto& segment = t.Int("segment", "index", "target segment, -1 if none");
  auto& creative = t.Int("creative", "index", "target creative within the campaign, -1 if none");
  auto& controller = t.Text("controller", "the controller that proposed it");
  auto& kind = t.Text("kind", "action kind, as in the actions table");
  auto& old_value = t.Real("old", "", "the setting's value when the action was held");
  auto& requested = t.Real("requested", "", "value the controller asked for");
  auto& new_value = t.Real("new", "", "value in force after the decision (nan when not decided)");
  auto& decision = t.Text("decision", "approved, rejected, withdrawn, replaced or pending (at the end of the run)");
  auto& note = t.Text("note", "the reviewer's note, or what withdrew or replaced the request");
  for (const PendingReview& r : reviews_) {
    held.push_back(r.held_time);
    due.push_back(r.due);
    decided.push_back(r.decided);
    campaign.push_back(r.action.campaign);
    segment.push_back(r.action.segment);
    creative.push_back(r.action.creative);
    controller.push_back(r.controller);
    kind.push_back(ActionKindName(r.action.kind));
    old_value.push_back(r.old_value);
    requested.push_back(r.requested);
    new_value.push_back(r.new_value);
    decision.push_back(r.decision);
    note.push_back(r.decision == "pending" ? "not decided before the end of the run" : r.note);
  }
}

// Processes, in time order, every opportunity before horizon_. A conversion
// scheduled meanwhile that arrives before horizon_ lowers it (Push), so the
// loop stops there: the conversion is handled at its time, before the
// opportunities after it and before its bucket is written. Opportunities
// already drawn past the lowered horizon wait in the batch for the next
// round. They stay valid: the market changes only at shock events, which
// were in the heap, hence at or after the horizon, when they were drawn.
void Engine::ProcessOpportunitiesBeforeHorizon(InterruptPoller& interrupt) {
  for (;;) {
    interrupt.Poll();  // once per batch of 64 opportunities
    while (batch_next_ < batch_size_) {
      const Opportunity& o = batch_[batch_next_];
      if (o.time >= horizon_) return;
      ++batch_next_;
      ProcessOpportunity(o);
    }
    if (horizon_ <= market_drained_until_) return;
    batch_size_ = market_->Generate(horizon_, batch_.data(), batch_.size());
    batch_next_ = 0;
    if (batch_size_ < batch_.size()) market_drained_until_ = horizon_;
    if (batch_size_ == 0) return;
  }
}

Results Engine::Run() {
  const auto wall0 = std::chrono::steady_clock::now();
  Build();
  RebuildExperimentArms();
  // Sparse events known up front.
  const SimTime first_midnight = kMicrosPerDay - sc_.start_offset_in_day;
  if (first_midnight < sc_.duration) Push(first_midnight, EventKind::kDayStart, 0);
  for (size_t i = 0; i < sc_.shocks.size(); ++i) {
    if (sc_.shocks[i].start < sc_.duration) Push(sc_.shocks[i].start, EventKind::kShockStart, static_cast<int64_t>(i));
    if (sc_.shocks[i].end < sc_.duration) Push(sc_.shocks[i].end, EventKind::kShockEnd, static_cast<int64_t>(i));
  }
  // The first control cycle runs at t = 0, before any opportunity, so
  // controllers can set their opening bids and budgets.
  Push(0, EventKind::kCycle, 0);
  batch_.resize(64);  // small enough to stay in L1
  SimTime bucket_start = 0;
  const SimTime end = sc_.duration;
  InterruptPoller interrupt(opt_.cancel, &opt_.check_interrupt);
  for (;;) {
    interrupt.Poll();
    const SimTime next_event = heap_.empty() ? kNever : heap_.Top().time;
    horizon_ = std::min({next_event, bucket_start + sc_.bucket, end});
    ProcessOpportunitiesBeforeHorizon(interrupt);  // may lower horizon_ to a conversion's arrival
    const SimTime horizon = horizon_;
    if (horizon >= end) break;
    if (bucket_start + sc_.bucket == horizon) {
      FlushBucket(bucket_start);
      bucket_start = horizon;
    }
    while (!heap_.empty() && heap_.Top().time == horizon) {
      const Event e = heap_.Pop();
      HandleEvent(e);
    }
  }
  FlushBucket(bucket_start);
  CloseDay(day_start_);
  RecordReviews();
  // Nothing is left pending: conversions due after the end were recorded as
  // unreported truth when they were scheduled.
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return Finish(wall);
}

Results Engine::Finish(double wall_seconds) {
  // Dictionaries and truth.
  Table& camps = results_.Add("campaigns", "Campaigns as configured; row i is campaign index i");
  auto& cname = camps.Text("name", "");
  auto& cbid = camps.Real("bid", "currency", "initial base bid");
  auto& cdaily = camps.Real("daily_budget", "currency", "initial daily budget (inf = none)");
  auto& ctotal = camps.Real("total_budget", "currency", "initial total budget (inf = none)");
  auto& cgoal = camps.Text("goal", "none, cpa or roas");
  auto& cgoalv = camps.Real("goal_value", "", "target CPA (currency) or ROAS (ratio)");
  auto& cbidder = camps.Text("bidder", "registered bidder");
  for (const auto& cp : sc_.campaigns) {
    cname.push_back(cp.name);
    cbid.push_back(cp.bid);
    cdaily.push_back(cp.daily_budget);
    ctotal.push_back(cp.total_budget);
    cgoal.push_back(cp.goal == GoalKind::kCpa ? "cpa" : cp.goal == GoalKind::kRoas ? "roas" : "none");
    cgoalv.push_back(cp.goal_value);
    cbidder.push_back(cp.bidder.type);
  }
  Table& chans = results_.Add("channels", "Channels as configured; row i is channel index i");
  auto& chname = chans.Text("name", "");
  auto& chauction = chans.Text("auction", "second_price, first_price or gsp");
  auto& chbilling = chans.Text("billing", "impression or click");
  auto& chslots = chans.Int("slots", "count", "");
  auto& chfloor = chans.Real("floor", "currency", "reserve price");
  auto& chk = chans.Int("competitors", "count", "K");
  for (const auto& ch : sc_.channels) {
    chname.push_back(ch.name);
    chauction.push_back(ch.auction == AuctionType::kGsp          ? "gsp"
                        : ch.auction == AuctionType::kFirstPrice ? "first_price"
                                                                 : "second_price");
    chbilling.push_back(ch.billing == Billing::kClick ? "click" : "impression");
    chslots.push_back(ch.slots);
    chfloor.push_back(ch.floor);
    chk.push_back(ch.competitors);
  }
  Table& segs = results_.Add("segments", "Segments as configured; row i is segment index i");
  auto& sname = segs.Text("name", "");
  auto& susers = segs.Int("users", "count", "user population");
  for (const auto& s : sc_.segments) {
    sname.push_back(s.name);
    susers.push_back(s.users);
  }
  Table& crs = results_.Add("creatives", "Creatives per campaign");
  auto& crc = crs.Int("campaign", "index", "");
  auto& cri = crs.Int("creative", "index", "index within the campaign");
  auto& crn = crs.Text("name", "");
  for (int c = 0; c < ncamp_; ++c)
    for (int cr = 0; cr < num_creatives_[c]; ++cr) {
      crc.push_back(c);
      cri.push_back(cr);
      crn.push_back(sc_.campaigns[c].creatives[cr].name);
    }
  Table& tr =
      results_.Add("truth_rates", "True rates per cell before shocks and user propensity (never shown to strategies)");
  auto& tc = tr.Int("campaign", "index", "");
  auto& tch = tr.Int("channel", "index", "");
  auto& ts = tr.Int("segment", "index", "");
  auto& tcr = tr.Int("creative", "index", "");
  auto& tctr = tr.Real("ctr", "ratio", "true click probability per impression in slot 1");
  auto& tcvr = tr.Real("cvr", "ratio", "true conversion probability per click");
  auto& tval = tr.Real("value_mean", "currency", "mean conversion value");
  // Fatigue columns exist only when the scenario has fatigue, so the tables
  // (and fingerprints) of scenarios without it are unchanged.
  std::vector<double>* thl = nullptr;
  std::vector<int64_t>* trec = nullptr;
  if (!fatigue_index_.empty()) {
    thl = &tr.Real("fatigue_half_life", "impressions",
                   "true ctr is multiplied by 2^(-n/half_life), n = the creative's impressions in the segment so far; "
                   "0 = no fatigue");
    trec =
        &tr.Int("fatigue_recovery", "us", "time constant of the exponential decay of n between impressions; 0 = none");
  }
  for (int c = 0; c < ncamp_; ++c)
    for (int kk = 0; kk < nc_ * ns_; ++kk)
      for (int cr = 0; cr < num_creatives_[c]; ++cr) {
        const int cell = cell_offset_[c] + kk * num_creatives_[c] + cr;
        if (thl) {
          thl->push_back(cell_fatigue_[cell].half_life);
          trec->push_back(cell_fatigue_[cell].recovery);
        }
        tc.push_back(c);
        tch.push_back(kk / ns_);
        ts.push_back(kk % ns_);
        tcr.push_back(cr);
        tctr.push_back(true_ctr_[cell]);
        tcvr.push_back(true_cvr_[cell]);
        tval.push_back(sc_.segments[kk % ns_].value_mean);
      }
  Table& tsh = results_.Add("truth_shocks", "Injected shocks (ground truth for monitors)");
  auto& shn = tsh.Text("name", "");
  auto& shs = tsh.Int("start", "us", "");
  auto& she = tsh.Int("end", "us", "");
  auto& shc = tsh.Text("channels", "comma-separated channel names; empty = all");
  auto& shg = tsh.Text("segments", "comma-separated segment names; empty = all");
  auto& sht = tsh.Real("traffic", "ratio", "multiplier");
  auto& shctr = tsh.Real("ctr", "ratio", "multiplier");
  auto& shcvr = tsh.Real("cvr", "ratio", "multiplier");
  auto& shb = tsh.Real("competing_bids", "ratio", "multiplier");
  auto& shtr = tsh.Real("conversion_tracking", "ratio", "fraction of conversions reported");
  auto& shshape = tsh.Text("shape", "step (full multipliers from start to end) or ramp (linear from 1 to them)");
  auto& shstep = tsh.Int("ramp_step", "us", "time between the steps of a ramp");
  for (const auto& sh : sc_.shocks) {
    shn.push_back(sh.name);
    shs.push_back(sh.start);
    she.push_back(sh.end);
    std::string cs, ss;
    for (int c : sh.channels) cs += (cs.empty() ? "" : ",") + sc_.channels[c].name;
    for (int s : sh.segments) ss += (ss.empty() ? "" : ",") + sc_.segments[s].name;
    shc.push_back(cs);
    shg.push_back(ss);
    sht.push_back(sh.traffic);
    shctr.push_back(sh.ctr);
    shcvr.push_back(sh.cvr);
    shb.push_back(sh.competing_bids);
    shtr.push_back(sh.conversion_tracking);
    shshape.push_back(sh.ramp ? "ramp" : "step");
    shstep.push_back(sh.ramp_step);
  }
  // Per-campaign truth totals (what the oracle comparison uses).
  Table& ct = results_.Add("campaign_truth", "Per campaign over the run: spend and every conversion made (truth)");
  auto& ctc = ct.Int("campaign", "index", "index into the campaigns table");
  auto& cts = ct.Real("spend", "currency", "amount charged");
  auto& ctn = ct.Real("conversions", "count", "conversions made by the run's end, reported or not");
  auto& ctv = ct.Real("conversion_value", "currency", "their value");
  for (int c = 0; c < ncamp_; ++c) {
    ctc.push_back(c);
    cts.push_back(MicrosToUnits(camps_[c].ledger.spend_total()));
    ctn.push_back(truth_conversions_[c]);
    ctv.push_back(truth_value_[c]);
  }
  // Experiments: arms as configured, and every look of every analysis.
  Table& ext = results_.Add("experiments", "One row per experiment arm; arm 0 is the control");
  auto& exn = ext.Text("experiment", "experiment name");
  auto& exa = ext.Int("arm", "index", "arm index within the experiment (0 = control)");
  auto& exc = ext.Int("campaign", "index", "the arm's campaign");
  auto& exw = ext.Real("weight", "", "traffic weight");
  auto& exs = ext.Text("split", "user or opportunity");
  auto& exp = ext.Int("paused_at_end", "bool", "1 if the arm's campaign was paused when the run ended");
  for (const auto& ex : sc_.experiments)
    for (size_t k = 0; k < ex.arms.size(); ++k) {
      exn.push_back(ex.name);
      exa.push_back(static_cast<int64_t>(k));
      exc.push_back(ex.arms[k]);
      exw.push_back(ex.weights[k]);
      exs.push_back(ex.split_by_user ? "user" : "opportunity");
      exp.push_back(camps_[ex.arms[k]].state.paused ? 1 : 0);
    }
  Table& lk = results_.Add("experiment_looks", "Every look of every experiment analysis, per treatment arm");
  auto& lkt = lk.Int("time", "us", "simulated time of the control cycle");
  auto& lke = lk.Text("experiment", "experiment name");
  auto& lka = lk.Text("analysis", "the analysis's label or registered name");
  auto& lkl = lk.Int("look", "index", "1-based look of this analysis");
  auto& lkarm = lk.Int("arm", "index", "treatment arm index within the experiment (1..)");
  auto& lkm = lk.Text("metric", "primary metric");
  auto& lkcn = lk.Int("control_n", "count", "control trials (metric denominator); users with unit user");
  auto& lkcx = lk.Int("control_x", "count", "control successes (metric numerator, rounded for value metrics)");
  auto& lkan = lk.Int("arm_n", "count", "arm trials");
  auto& lkax = lk.Int("arm_x", "count", "arm successes");
  auto& lki =
      lk.Real("information", "ratio",
              "information fraction: trials per arm / planned trials per arm (unit user: planned variance / variance)");
  auto& lks =
      lk.Real("statistic", "", "z statistic (pooled two-proportion; Welch or delta-method z for means and unit user)");
  auto& lkb = lk.Real("boundary", "", "|statistic| at or above it rejects at this look (inf: cannot reject)");
  auto& lkp = lk.Real("p_value", "", "two-sided p-value: fixed-horizon for fixed/naive, always-valid for msprt");
  auto& lkpb = lk.Real("prob_beat", "", "Bayesian P(arm rate > control rate), uniform priors");
  auto& lkel = lk.Real("expected_loss", "", "Bayesian expected loss of shipping the arm (rate units)");
  auto& lkd = lk.Text("decision",
                      "ab_test: continue, ship, stop, no_difference, guardrail_stop; factorial_test: significant, "
                      "not_significant, not_reached");
  auto& lkn = lk.Text("note", "why");
  auto& lku = lk.Text("unit", "request (cell counters: trials are requests, impressions or clicks) or user");
  auto& lkcv = lk.Real("control_value", "", "the metric in the control (unadjusted)");
  auto& lkav = lk.Real("arm_value", "", "the metric in the arm (unadjusted)");
  auto& lkest = lk.Real("estimate", "", "arm - control, CUPED-adjusted when CUPED applies");
  auto& lkse = lk.Real("std_error", "", "standard error of the estimate");
  auto& lkvr = lk.Real("variance_ratio", "ratio", "CUPED: variance of the estimate with / without it (1: not applied)");
  for (const ExperimentLook& l : looks_) {
    lkt.push_back(l.time);
    lke.push_back(l.experiment);
    lka.push_back(l.analysis);
    lkl.push_back(l.look);
    lkarm.push_back(l.arm);
    lkm.push_back(l.metric);
    lkcn.push_back(l.control_n);
    lkcx.push_back(l.control_x);
    lkan.push_back(l.arm_n);
    lkax.push_back(l.arm_x);
    lki.push_back(l.information);
    lks.push_back(l.statistic);
    lkb.push_back(l.boundary);
    lkp.push_back(l.p_value);
    lkpb.push_back(l.prob_beat);
    lkel.push_back(l.expected_loss);
    lkd.push_back(l.decision);
    lkn.push_back(l.note);
    lku.push_back(l.unit);
    lkcv.push_back(l.control_value);
    lkav.push_back(l.arm_value);
    lkest.push_back(l.estimate);
    lkse.push_back(l.std_error);
    lkvr.push_back(l.variance_ratio);
  }
  // Monitors scored against the injected shocks.
  Table& ms = results_.Add("monitor_scores", "Each monitor scored against the injected shocks (truth)");
  auto& msn = ms.Text("monitor", "registered name");
  auto& msa = ms.Int("alerts", "count", "alerts raised");
  auto& mst = ms.Int("true_alerts", "count", "alerts inside a compatible shock window [start, end + alert_grace)");
  auto& mss = ms.Int("shocks", "count", "shocks in the run");
  auto& msd = ms.Int("detected", "count", "shocks with at least one compatible alert");
  auto& msr = ms.Real("recall", "ratio", "detected / shocks");
  auto& msp = ms.Real("precision", "ratio", "true_alerts / alerts");
  auto& msdm = ms.Real("delay_median_min", "min", "median detection delay (first compatible alert - shock start)");
  auto& msd9 = ms.Real("delay_p90_min", "min", "90th percentile of the detection delay");
  auto& msf = ms.Real("false_alarms_per_day", "1/day", "alerts outside every shock window per shock-free day");
  auto& msfd = ms.Real("shock_free_days", "day", "simulated days outside every shock window");
  std::vector<std::string> names;
  for (const auto& m : monitors_)
    if (std::find(names.begin(), names.end(), m.name) == names.end()) names.push_back(m.name);
  for (const auto& s : ScoreMonitors(names, all_alerts_, sc_.shocks, sc_.duration, sc_.alert_grace)) {
    msn.push_back(s.monitor);
    msa.push_back(s.alerts);
    mst.push_back(s.true_alerts);
    mss.push_back(s.shocks);
    msd.push_back(s.detected);
    msr.push_back(s.recall);
    msp.push_back(s.precision);
    msdm.push_back(s.delay_median_min);
    msd9.push_back(s.delay_p90_min);
    msf.push_back(s.false_alarms_per_day);
    msfd.push_back(s.shock_free_days);
  }
  results_.int_attrs["alert_grace_us"] = sc_.alert_grace;
  results_.text_attrs["adsim_version"] = AdsimVersion();
  results_.int_attrs["schema_version"] = kSchemaVersion;
  results_.text_attrs["boost_version"] = BoostVersion();
  results_.text_attrs["seed"] = std::to_string(seed_);
  results_.text_attrs["scenario"] = sc_.source_text;
  results_.text_attrs["scenario_name"] = sc_.name;
  results_.text_attrs["scenario_source"] = sc_.source_name;
  results_.text_attrs["start"] = sc_.start;
  results_.int_attrs["duration_us"] = sc_.duration;
  results_.int_attrs["bucket_us"] = sc_.bucket;
  results_.int_attrs["control_cycle_us"] = sc_.control_cycle;
  results_.int_attrs["opportunities"] = opportunities_;
  results_.int_attrs["events_truncated"] = events_truncated_ ? 1 : 0;
  results_.real_attrs["wall_time_s"] = wall_seconds;
  char fp[17];
  std::snprintf(fp, sizeof fp, "%016llx", static_cast<unsigned long long>(Fingerprint(results_)));
  results_.text_attrs["fingerprint"] = fp;
  for (const auto& t : results_.tables) t.CheckShape();
  return std::move(results_);
}

}  // namespace

uint64_t Fingerprint(const Results& results) {
  uint64_t h = 0x243f6a8885a308d3ULL;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  };
  // Tables in name order, so a file read back (listed by name) has the same fingerprint.
  std::vector<const Table*> tables;
  for (const auto& t : results.tables) tables.push_back(&t);
  std::sort(tables.begin(), tables.end(), [](const Table* a, const Table* b) { return a->name() < b->name(); });
  for (const Table* tp : tables) {
    const Table& t = *tp;
    mix(t.name().data(), t.name().size());
    for (const auto& c : t.columns()) {
      mix(c.name.data(), c.name.size());
      std::visit(
          [&mix](const auto& v) {
            using T = typename std::decay_t<decltype(v)>::value_type;
            if constexpr (std::is_same_v<T, std::string>) {
              for (const auto& s : v) mix(s.data(), s.size() + 1);
            } else {
              mix(v.data(), v.size() * sizeof(T));
            }
          },
          c.data);
    }
  }
  return Mix64(h);
}

Scenario OracleScenario(const Scenario& scenario, int campaign) {
  Scenario o = scenario;
  o.oracle = false;
  o.recording.events = false;
  for (auto& e : o.experiments) e.analyses.clear();
  CampaignSpec& cp = o.campaigns.at(campaign);
  cp.bidder = ComponentSpec{"fixed", {}, ""};
  cp.controllers.clear();
  if (std::isfinite(cp.daily_budget) || std::isfinite(cp.total_budget))
    cp.controllers.push_back(ComponentSpec{"pid_pacing", {}, "oracle_pacing"});
  return o;
}

Results RunScenario(const Scenario& scenario, const RunOptions& options) {
  Engine engine(scenario, options);
  Results r = engine.Run();
  if (!scenario.oracle || options.oracle_campaign >= 0) return r;
  std::vector<Results> oracles;
  for (int c = 0; c < static_cast<int>(scenario.campaigns.size()); ++c) {
    RunOptions oo = options;
    oo.oracle_campaign = c;
    oo.progress = nullptr;
    oo.seed = ResolveSeed(scenario, options);
    const Scenario os = OracleScenario(scenario, c);
    Engine oracle_engine(os, oo);
    oracles.push_back(oracle_engine.Run());
  }
  auto col = [](const Results& res, const char* name) -> const std::vector<double>& {
    return std::get<std::vector<double>>(res.Find("campaign_truth")->Find(name)->data);
  };
  Table& t = r.Add("oracle",
                   "Regret of each campaign against its oracle: the same run (same seed, same competitors) with "
                   "the campaign's bidder knowing the true rates, under the same budgets paced by pid_pacing");
  auto& tc = t.Int("campaign", "index", "index into the campaigns table");
  auto& os_ = t.Real("oracle_spend", "currency", "the oracle's spend");
  auto& on = t.Real("oracle_conversions", "count", "the oracle's conversions (truth)");
  auto& ov = t.Real("oracle_value", "currency", "the oracle's conversion value (truth)");
  auto& rn = t.Real("regret_conversions", "count", "oracle_conversions - this run's conversions (negative: beat it)");
  auto& rv = t.Real("regret_value", "currency", "oracle_value - this run's conversion value");
  const auto &an = col(r, "conversions"), &av = col(r, "conversion_value");
  uint64_t combined = 0;
  for (size_t c = 0; c < an.size(); ++c) {
    const Results& o = oracles[c];
    const auto &bs = col(o, "spend"), &bn = col(o, "conversions"), &bv = col(o, "conversion_value");
    combined = combined * 0x100000001b3ULL ^ Fingerprint(o);
    r.real_attrs["oracle_wall_time_s"] += o.real_attrs.at("wall_time_s");
    tc.push_back(static_cast<int64_t>(c));
    os_.push_back(bs[c]);
    on.push_back(bn[c]);
    ov.push_back(bv[c]);
    rn.push_back(bn[c] - an[c]);
    rv.push_back(bv[c] - av[c]);
  }
  char fp[17];
  std::snprintf(fp, sizeof fp, "%016llx", static_cast<unsigned long long>(combined));
  r.text_attrs["oracle_fingerprint"] = fp;
  std::snprintf(fp, sizeof fp, "%016llx", static_cast<unsigned long long>(Fingerprint(r)));
  r.text_attrs["fingerprint"] = fp;
  t.CheckShape();
  return r;
}

}  // namespace adsim

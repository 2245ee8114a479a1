// End-of-run tables and attributes (result_tables.h).
// May not touch: the run state (reads it after the run).
#include "core/engine/result_tables.h"

#include <algorithm>
#include <string>

#include "core/monitor_scoring.h"
#include "core/random.h"

namespace adsim::engine {

// The `reviews` table, only in runs where held actions can be decided (so the
// tables of other runs, and their fingerprints, are unchanged).
void AddReviewsTable(const RunState& state, const ActionApplier& applier, Results& results) {
  bool enabled = false;
  for (int c = 0; c < state.num_campaigns; ++c) enabled |= applier.ReviewEnabled(c);
  if (!enabled) return;
  Table& table = results.Add("reviews", "Every action held for review and what the reviewer decided");
  auto& held = table.Int("held_time", "us", "simulated time at which the action was held");
  auto& due = table.Int("due", "us", "time the decision is due: held_time + the campaign's review latency");
  auto& decided = table.Int("decided", "us", "time of the decision, withdrawal or replacement; -1 if still pending");
  auto& campaign = table.Int("campaign", "index", "target campaign");
  auto& segment = table.Int("segment", "index", "target segment, -1 if none");
  auto& creative = table.Int("creative", "index", "target creative within the campaign, -1 if none");
  auto& controller = table.Text("controller", "the controller that proposed it");
  auto& kind = table.Text("kind", "action kind, as in the actions table");
  auto& old_value = table.Real("old", "", "the setting's value when the action was held");
  auto& requested = table.Real("requested", "", "value the controller asked for");
  auto& new_value = table.Real("new", "", "value in force after the decision (nan when not decided)");
  auto& decision = table.Text("decision", "approved, rejected, withdrawn, replaced or pending (at the end of the run)");
  auto& note = table.Text("note", "the reviewer's note, or what withdrew or replaced the request");
  for (const PendingReview& review : applier.reviews()) {
    held.push_back(review.held_time);
    due.push_back(review.due);
    decided.push_back(review.decided);
    campaign.push_back(review.action.campaign);
    segment.push_back(review.action.segment);
    creative.push_back(review.action.creative);
    controller.push_back(review.controller);
    kind.push_back(ActionKindName(review.action.kind));
    old_value.push_back(review.old_value);
    requested.push_back(review.requested);
    new_value.push_back(review.new_value);
    decision.push_back(review.decision);
    note.push_back(review.decision == "pending" ? "not decided before the end of the run" : review.note);
  }
}

void AddEndOfRunTables(const RunState& state, const ControlCycle& cycle, const Recorder& recorder, double wall_seconds,
                       Results& results) {
  const Scenario& scenario = state.scenario;
  // Dictionaries and truth.
  Table& campaigns = results.Add("campaigns", "Campaigns as configured; row i is campaign index i");
  auto& campaign_name = campaigns.Text("name", "");
  auto& campaign_bid = campaigns.Real("bid", "currency", "initial base bid");
  auto& campaign_daily = campaigns.Real("daily_budget", "currency", "initial daily budget (inf = none)");
  auto& campaign_total = campaigns.Real("total_budget", "currency", "initial total budget (inf = none)");
  auto& campaign_goal = campaigns.Text("goal", "none, cpa or roas");
  auto& campaign_goal_value = campaigns.Real("goal_value", "", "target CPA (currency) or ROAS (ratio)");
  auto& campaign_bidder = campaigns.Text("bidder", "registered bidder");
  for (const auto& campaign : scenario.campaigns) {
    campaign_name.push_back(campaign.name);
    campaign_bid.push_back(campaign.bid);
    campaign_daily.push_back(campaign.daily_budget);
    campaign_total.push_back(campaign.total_budget);
    campaign_goal.push_back(campaign.goal == GoalKind::kCpa    ? "cpa"
                            : campaign.goal == GoalKind::kRoas ? "roas"
                                                               : "none");
    campaign_goal_value.push_back(campaign.goal_value);
    campaign_bidder.push_back(campaign.bidder.type);
  }
  Table& channels = results.Add("channels", "Channels as configured; row i is channel index i");
  auto& channel_name = channels.Text("name", "");
  auto& channel_auction = channels.Text("auction", "second_price, first_price or gsp");
  auto& channel_billing = channels.Text("billing", "impression or click");
  auto& channel_slots = channels.Int("slots", "count", "");
  auto& channel_floor = channels.Real("floor", "currency", "reserve price");
  auto& channel_competitors = channels.Int("competitors", "count", "K");
  for (const auto& channel : scenario.channels) {
    channel_name.push_back(channel.name);
    channel_auction.push_back(channel.auction == AuctionType::kGsp          ? "gsp"
                              : channel.auction == AuctionType::kFirstPrice ? "first_price"
                                                                            : "second_price");
    channel_billing.push_back(channel.billing == Billing::kClick ? "click" : "impression");
    channel_slots.push_back(channel.slots);
    channel_floor.push_back(channel.floor);
    channel_competitors.push_back(channel.competitors);
  }
  Table& segments = results.Add("segments", "Segments as configured; row i is segment index i");
  auto& segment_name = segments.Text("name", "");
  auto& segment_users = segments.Int("users", "count", "user population");
  for (const auto& segment : scenario.segments) {
    segment_name.push_back(segment.name);
    segment_users.push_back(segment.users);
  }
  Table& creatives = results.Add("creatives", "Creatives per campaign");
  auto& creative_campaign = creatives.Int("campaign", "index", "");
  auto& creative_index = creatives.Int("creative", "index", "index within the campaign");
  auto& creative_name = creatives.Text("name", "");
  for (int c = 0; c < state.num_campaigns; ++c)
    for (int creative = 0; creative < state.num_creatives[c]; ++creative) {
      creative_campaign.push_back(c);
      creative_index.push_back(creative);
      creative_name.push_back(scenario.campaigns[c].creatives[creative].name);
    }
  Table& truth =
      results.Add("truth_rates", "True rates per cell before shocks and user propensity (never shown to strategies)");
  auto& truth_campaign = truth.Int("campaign", "index", "");
  auto& truth_channel = truth.Int("channel", "index", "");
  auto& truth_segment = truth.Int("segment", "index", "");
  auto& truth_creative = truth.Int("creative", "index", "");
  auto& truth_ctr = truth.Real("ctr", "ratio", "true click probability per impression in slot 1");
  auto& truth_cvr = truth.Real("cvr", "ratio", "true conversion probability per click");
  auto& truth_value_mean = truth.Real("value_mean", "currency", "mean conversion value");
  // Fatigue columns exist only when the scenario has fatigue, so the tables
  // (and fingerprints) of scenarios without it are unchanged.
  std::vector<double>* truth_half_life = nullptr;
  std::vector<int64_t>* truth_recovery = nullptr;
  if (!state.fatigue_index.empty()) {
    truth_half_life =
        &truth.Real("fatigue_half_life", "impressions",
                    "true ctr is multiplied by 2^(-n/half_life), n = the creative's impressions in the segment so far; "
                    "0 = no fatigue");
    truth_recovery = &truth.Int("fatigue_recovery", "us_duration",
                                "time constant of the exponential decay of n between impressions; 0 = none");
  }
  // Funnel columns likewise only with a funnel (docs/funnel.md): the true stage rates.
  std::vector<double>* truth_stage[kFunnelStages] = {nullptr, nullptr, nullptr};
  if (scenario.funnel)
    for (int stage = 0; stage < kFunnelStages; ++stage)
      truth_stage[stage] = &truth.Real(std::string(FunnelStageName(stage)) + "_rate", "ratio",
                                       std::string("true probability of reaching the ") + FunnelStageName(stage) +
                                           " stage from the one before (cvr is the product of the three)");
  for (int c = 0; c < state.num_campaigns; ++c)
    for (int k = 0; k < state.num_channels * state.num_segments; ++k)
      for (int creative = 0; creative < state.num_creatives[c]; ++creative) {
        const int cell = state.Cell(c, k, creative);
        if (scenario.funnel)
          for (int stage = 0; stage < kFunnelStages; ++stage)
            truth_stage[stage]->push_back(state.funnel_rate[static_cast<size_t>(cell) * kFunnelStages + stage]);
        if (truth_half_life) {
          truth_half_life->push_back(state.cell_fatigue[cell].half_life);
          truth_recovery->push_back(state.cell_fatigue[cell].recovery);
        }
        truth_campaign.push_back(c);
        truth_channel.push_back(k / state.num_segments);
        truth_segment.push_back(k % state.num_segments);
        truth_creative.push_back(creative);
        truth_ctr.push_back(state.true_ctr[cell]);
        truth_cvr.push_back(state.true_cvr[cell]);
        truth_value_mean.push_back(scenario.segments[k % state.num_segments].value_mean);
      }
  Table& shocks = results.Add("truth_shocks", "Injected shocks (ground truth for monitors)");
  auto& shock_name = shocks.Text("name", "");
  auto& shock_start = shocks.Int("start", "us", "");
  auto& shock_end = shocks.Int("end", "us", "");
  auto& shock_channels = shocks.Text("channels", "comma-separated channel names; empty = all");
  auto& shock_segments = shocks.Text("segments", "comma-separated segment names; empty = all");
  auto& shock_traffic = shocks.Real("traffic", "ratio", "multiplier");
  auto& shock_ctr = shocks.Real("ctr", "ratio", "multiplier");
  auto& shock_cvr = shocks.Real("cvr", "ratio", "multiplier");
  auto& shock_competing_bids = shocks.Real("competing_bids", "ratio", "multiplier");
  auto& shock_tracking = shocks.Real("conversion_tracking", "ratio", "fraction of conversions reported");
  auto& shock_shape = shocks.Text("shape", "step (full multipliers from start to end) or ramp (linear from 1 to them)");
  auto& shock_ramp_step = shocks.Int("ramp_step", "us_duration", "time between the steps of a ramp");
  std::vector<double>* shock_stage[kFunnelStages] = {nullptr, nullptr, nullptr};
  if (scenario.funnel)  // only with a funnel, so other scenarios' tables are unchanged
    for (int stage = 0; stage < kFunnelStages; ++stage)
      shock_stage[stage] = &shocks.Real(FunnelStageName(stage), "ratio", "multiplier of the funnel stage's rate");
  for (const auto& shock : scenario.shocks) {
    shock_name.push_back(shock.name);
    shock_start.push_back(shock.start);
    shock_end.push_back(shock.end);
    std::string channel_list, segment_list;
    for (int channel : shock.channels)
      channel_list += (channel_list.empty() ? "" : ",") + scenario.channels[channel].name;
    for (int segment : shock.segments)
      segment_list += (segment_list.empty() ? "" : ",") + scenario.segments[segment].name;
    shock_channels.push_back(channel_list);
    shock_segments.push_back(segment_list);
    shock_traffic.push_back(shock.traffic);
    shock_ctr.push_back(shock.ctr);
    shock_cvr.push_back(shock.cvr);
    shock_competing_bids.push_back(shock.competing_bids);
    shock_tracking.push_back(shock.conversion_tracking);
    shock_shape.push_back(shock.ramp ? "ramp" : "step");
    shock_ramp_step.push_back(shock.ramp_step);
    if (scenario.funnel)
      for (int stage = 0; stage < kFunnelStages; ++stage) shock_stage[stage]->push_back(shock.funnel_stage[stage]);
  }
  // Per-campaign truth totals (what the oracle comparison uses).
  Table& campaign_truth =
      results.Add("campaign_truth", "Per campaign over the run: spend and every conversion made (truth)");
  auto& campaign_truth_campaign = campaign_truth.Int("campaign", "index", "index into the campaigns table");
  auto& campaign_truth_spend = campaign_truth.Real("spend", "currency", "amount charged");
  auto& campaign_truth_conversions =
      campaign_truth.Real("conversions", "count", "conversions made by the run's end, reported or not");
  auto& campaign_truth_value = campaign_truth.Real("conversion_value", "currency", "their value");
  for (int c = 0; c < state.num_campaigns; ++c) {
    campaign_truth_campaign.push_back(c);
    campaign_truth_spend.push_back(MicrosToUnits(state.campaigns[c].ledger.spend_total()));
    campaign_truth_conversions.push_back(state.truth_conversions[c]);
    campaign_truth_value.push_back(state.truth_value[c]);
  }
  // Experiments: arms as configured, and every look of every analysis.
  Table& experiment_arms = results.Add("experiments", "One row per experiment arm; arm 0 is the control");
  auto& arm_experiment = experiment_arms.Text("experiment", "experiment name");
  auto& arm_index = experiment_arms.Int("arm", "index", "arm index within the experiment (0 = control)");
  auto& arm_campaign = experiment_arms.Int("campaign", "index", "the arm's campaign");
  auto& arm_weight = experiment_arms.Real("weight", "", "traffic weight");
  auto& arm_split = experiment_arms.Text("split", "user or opportunity");
  auto& arm_paused_at_end =
      experiment_arms.Int("paused_at_end", "bool", "1 if the arm's campaign was paused when the run ended");
  for (const auto& experiment : scenario.experiments)
    for (size_t k = 0; k < experiment.arms.size(); ++k) {
      arm_experiment.push_back(experiment.name);
      arm_index.push_back(static_cast<int64_t>(k));
      arm_campaign.push_back(experiment.arms[k]);
      arm_weight.push_back(experiment.weights[k]);
      arm_split.push_back(experiment.split_by_user ? "user" : "opportunity");
      arm_paused_at_end.push_back(state.campaigns[experiment.arms[k]].state.paused ? 1 : 0);
    }
  Table& looks = results.Add("experiment_looks", "Every look of every experiment analysis, per treatment arm");
  auto& look_time = looks.Int("time", "us", "simulated time of the control cycle");
  auto& look_experiment = looks.Text("experiment", "experiment name");
  auto& look_analysis = looks.Text("analysis", "the analysis's label or registered name");
  auto& look_index = looks.Int("look", "index", "1-based look of this analysis");
  auto& look_arm = looks.Int("arm", "index", "treatment arm index within the experiment (1..)");
  auto& look_metric = looks.Text("metric", "primary metric");
  auto& look_control_n = looks.Int("control_n", "count", "control trials (metric denominator); users with unit user");
  auto& look_control_x =
      looks.Int("control_x", "count", "control successes (metric numerator, rounded for value metrics)");
  auto& look_arm_n = looks.Int("arm_n", "count", "arm trials");
  auto& look_arm_x = looks.Int("arm_x", "count", "arm successes");
  auto& look_information = looks.Real(
      "information", "ratio",
      "information fraction: trials per arm / planned trials per arm (unit user: planned variance / variance)");
  auto& look_statistic = looks.Real(
      "statistic", "", "z statistic (pooled two-proportion; Welch or delta-method z for means and unit user)");
  auto& look_boundary =
      looks.Real("boundary", "", "|statistic| at or above it rejects at this look (inf: cannot reject)");
  auto& look_p_value =
      looks.Real("p_value", "", "two-sided p-value: fixed-horizon for fixed/naive, always-valid for msprt");
  auto& look_prob_beat = looks.Real("prob_beat", "", "Bayesian P(arm rate > control rate), uniform priors");
  auto& look_expected_loss = looks.Real("expected_loss", "", "Bayesian expected loss of shipping the arm (rate units)");
  auto& look_decision =
      looks.Text("decision",
                 "ab_test: continue, ship, stop, no_difference, guardrail_stop; factorial_test: significant, "
                 "not_significant, not_reached");
  auto& look_note = looks.Text("note", "why");
  auto& look_unit = looks.Text("unit", "request (cell counters: trials are requests, impressions or clicks) or user");
  auto& look_control_value = looks.Real("control_value", "", "the metric in the control (unadjusted)");
  auto& look_arm_value = looks.Real("arm_value", "", "the metric in the arm (unadjusted)");
  auto& look_estimate = looks.Real("estimate", "", "arm - control, CUPED-adjusted when CUPED applies");
  auto& look_std_error = looks.Real("std_error", "", "standard error of the estimate");
  auto& look_variance_ratio =
      looks.Real("variance_ratio", "ratio", "CUPED: variance of the estimate with / without it (1: not applied)");
  for (const ExperimentLook& look : cycle.looks()) {
    look_time.push_back(look.time);
    look_experiment.push_back(look.experiment);
    look_analysis.push_back(look.analysis);
    look_index.push_back(look.look);
    look_arm.push_back(look.arm);
    look_metric.push_back(look.metric);
    look_control_n.push_back(look.control_n);
    look_control_x.push_back(look.control_x);
    look_arm_n.push_back(look.arm_n);
    look_arm_x.push_back(look.arm_x);
    look_information.push_back(look.information);
    look_statistic.push_back(look.statistic);
    look_boundary.push_back(look.boundary);
    look_p_value.push_back(look.p_value);
    look_prob_beat.push_back(look.prob_beat);
    look_expected_loss.push_back(look.expected_loss);
    look_decision.push_back(look.decision);
    look_note.push_back(look.note);
    look_unit.push_back(look.unit);
    look_control_value.push_back(look.control_value);
    look_arm_value.push_back(look.arm_value);
    look_estimate.push_back(look.estimate);
    look_std_error.push_back(look.std_error);
    look_variance_ratio.push_back(look.variance_ratio);
  }
  // Monitors scored against the injected shocks.
  Table& scores = results.Add("monitor_scores", "Each monitor scored against the injected shocks (truth)");
  auto& score_monitor = scores.Text("monitor", "registered name");
  auto& score_alerts = scores.Int("alerts", "count", "alerts raised");
  auto& score_true_alerts =
      scores.Int("true_alerts", "count", "alerts inside a compatible shock window [start, end + alert_grace)");
  auto& score_shocks = scores.Int("shocks", "count", "shocks in the run");
  auto& score_detected = scores.Int("detected", "count", "shocks with at least one compatible alert");
  auto& score_recall = scores.Real("recall", "ratio", "detected / shocks");
  auto& score_precision = scores.Real("precision", "ratio", "true_alerts / alerts");
  auto& score_delay_median =
      scores.Real("delay_median_min", "min", "median detection delay (first compatible alert - shock start)");
  auto& score_delay_p90 = scores.Real("delay_p90_min", "min", "90th percentile of the detection delay");
  auto& score_false_alarms =
      scores.Real("false_alarms_per_day", "1/day", "alerts outside every shock window per shock-free day");
  auto& score_shock_free_days = scores.Real("shock_free_days", "day", "simulated days outside every shock window");
  std::vector<std::string> names;
  for (const auto& monitor : cycle.components().monitors)
    if (std::find(names.begin(), names.end(), monitor.name) == names.end()) names.push_back(monitor.name);
  for (const auto& score :
       ScoreMonitors(names, cycle.alerts(), scenario.shocks, scenario.duration, scenario.alert_grace)) {
    score_monitor.push_back(score.monitor);
    score_alerts.push_back(score.alerts);
    score_true_alerts.push_back(score.true_alerts);
    score_shocks.push_back(score.shocks);
    score_detected.push_back(score.detected);
    score_recall.push_back(score.recall);
    score_precision.push_back(score.precision);
    score_delay_median.push_back(score.delay_median_min);
    score_delay_p90.push_back(score.delay_p90_min);
    score_false_alarms.push_back(score.false_alarms_per_day);
    score_shock_free_days.push_back(score.shock_free_days);
  }
  results.int_attrs["alert_grace_us"] = scenario.alert_grace;
  results.text_attrs["adsim_version"] = AdsimVersion();
  results.int_attrs["schema_version"] = kSchemaVersion;
  results.text_attrs["boost_version"] = BoostVersion();
  results.text_attrs["seed"] = std::to_string(state.seed);
  results.text_attrs["scenario"] = scenario.source_text;
  results.text_attrs["scenario_name"] = scenario.name;
  results.text_attrs["scenario_source"] = scenario.source_name;
  results.text_attrs["start"] = scenario.start;
  results.int_attrs["duration_us"] = scenario.duration;
  results.int_attrs["bucket_us"] = scenario.bucket;
  results.int_attrs["control_cycle_us"] = scenario.control_cycle;
  results.int_attrs["opportunities"] = state.opportunities;
  results.int_attrs["events_truncated"] = recorder.events_truncated() ? 1 : 0;
  results.real_attrs["wall_time_s"] = wall_seconds;
}

}  // namespace adsim::engine

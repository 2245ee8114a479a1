// The control cycle (control_cycle.h): the snapshot and the call order.
// May not touch: counters (reads them), settings (only through ActionApplier), the market.
#include "core/engine/control_cycle.h"

#include <exception>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/pacing_target.h"
#include "core/user_observations.h"

namespace adsim::engine {

void RethrowWithContext(const char* kind, const std::string& name, const std::string& where, const std::string& file,
                        SimTime now) {
  const std::string context = std::string(kind) + " '" + name + "' (" + where + (file.empty() ? "" : " in " + file) +
                              ") failed at simulated time " + FormatDuration(now) + ": ";
  try {
    throw;
  } catch (const Error& error) {
    if (std::string(error.what()).find("at simulated time") != std::string::npos) throw;
    try {
      throw;
    } catch (const ConfigError& e) {
      throw ConfigError(context + e.what());
    } catch (const DataError& e) {
      throw DataError(context + e.what());
    } catch (const InvariantError& e) {
      throw InvariantError(context + e.what());
    } catch (const IoError& e) {
      throw IoError(context + e.what());
    } catch (const Error& e) {
      throw Error(context + e.what());
    }
  } catch (const std::exception& e) {
    throw Error(context + e.what());
  } catch (...) {
    throw Error(context + "an exception that is not a std::exception");
  }
}

Snapshot ControlCycle::BuildSnapshot(SimTime now) {
  const Scenario& scenario = state_.scenario;
  Snapshot snapshot;
  snapshot.time = now;
  snapshot.day_start = state_.day_start;
  snapshot.control_cycle = scenario.control_cycle;
  snapshot.num_channels = state_.num_channels;
  snapshot.num_segments = state_.num_segments;
  snapshot.num_creatives = state_.num_creatives;
  snapshot.cell_offset = state_.cell_offset;
  for (int campaign = 0; campaign < state_.num_campaigns; ++campaign) {
    CampaignRuntime& runtime = state_.campaigns[campaign];
    runtime.state.spend_today = MicrosToUnits(runtime.ledger.spend_today());
    runtime.state.spend_total = MicrosToUnits(runtime.ledger.spend_total());
    snapshot.campaigns.push_back(runtime.state);
    runtime.cycle_bid = runtime.state.bid;
    runtime.cycle_daily = runtime.state.daily_budget;
    runtime.cycle_total = runtime.state.total_budget;
    runtime.cycle_modifier = runtime.state.segment_modifier;
  }
  snapshot.total.resize(state_.num_cells);
  snapshot.last_cycle.resize(state_.num_cells);
  snapshot.today.resize(state_.num_cells);
  for (int i = 0; i < state_.num_cells; ++i) {
    snapshot.total[i] = ToObserved(state_.total[i]);
    snapshot.last_cycle[i] = ToObserved(Minus(state_.total[i], state_.cycle_base[i]));
    snapshot.today[i] = ToObserved(Minus(state_.total[i], state_.day_base[i]));
  }
  state_.cycle_base = state_.total;
  snapshot.hourly_traffic_share.resize(state_.num_channels);
  for (int channel = 0; channel < state_.num_channels; ++channel) {
    const auto& hour_of_day = scenario.channels[channel].hour_of_day;
    double sum = 0;
    for (double v : hour_of_day) sum += v;
    for (double v : hour_of_day) snapshot.hourly_traffic_share[channel].push_back(v / sum);
    snapshot.channel_names.push_back(scenario.channels[channel].name);
  }
  for (const auto& segment : scenario.segments) snapshot.segment_names.push_back(segment.name);
  for (const auto& campaign : scenario.campaigns) {
    snapshot.creative_names.emplace_back();
    for (const auto& creative : campaign.creatives) snapshot.creative_names.back().push_back(creative.name);
  }
  return snapshot;
}

void ControlCycle::Run(SimTime now) {
  const RunOptions& options = state_.options;
  const Scenario& scenario = state_.scenario;
  const std::string& file = scenario.source_name;
  if (options.cancel && options.cancel->load()) throw Error("run cancelled");
  if (options.progress) options.progress(static_cast<double>(now) / static_cast<double>(scenario.duration));
  // In-run lookalike audiences whose fit_at has come are fitted first, so
  // their modifiers apply from this cycle on (user_features.h).
  if (!state_.users.pending_lookalikes.empty()) {
    std::vector<std::pair<int, ModelFit>> fits;
    FitLookalikes(scenario, now, &state_.users, &fits);
    for (const auto& [audience, fit] : fits)
      recorder_.RecordModelFit(now, -1, "audience:" + scenario.audiences[static_cast<size_t>(audience)].name, fit);
  }
  Snapshot snapshot = BuildSnapshot(now);
  // What the advertiser observes per user (core/user_observations.h), for the
  // bidders that learn from it: views of the engine's per-user counters, in
  // which a conversion counts only once it has been reported.
  UserObservations users;
  if (state_.users.enabled()) {
    users.time = now;
    users.feature_count = state_.users.count;
    for (int segment = 0; segment < state_.num_segments; ++segment)
      users.segments.push_back({scenario.segments[segment].users, state_.users.values[segment].data(),
                                state_.users.clicks[segment].data(), state_.users.conversions[segment].data()});
  }
  for (int campaign = 0; campaign < state_.num_campaigns; ++campaign) {
    const ComponentSpec& spec = scenario.campaigns[campaign].bidder;
    try {
      auto* learner = dynamic_cast<UserOutcomeLearner*>(state_.campaigns[campaign].bidder.get());
      if (learner != nullptr && state_.users.enabled() && learner->LearnsFromUsers()) {
        learner->OnUserObservations(users, campaign);
        ModelFit fit;
        if (learner->LastModelFit(&fit))
          recorder_.RecordModelFit(now, campaign, spec.label.empty() ? spec.type : spec.label, fit);
      }
      state_.campaigns[campaign].bidder->OnCycle(snapshot, campaign);
    } catch (...) {
      RethrowWithContext("bidder", spec.label.empty() ? spec.type : spec.label, spec.where, file, now);
    }
  }
  // Monitors run before controllers, so a controller can react to this cycle's alerts.
  for (auto& monitor : components_.monitors) {
    const size_t before = snapshot.alerts.size();
    try {
      monitor.monitor->OnCycle(snapshot, &snapshot.alerts);
    } catch (...) {
      RethrowWithContext("monitor", monitor.name, monitor.where, file, now);
    }
    for (size_t i = before; i < snapshot.alerts.size(); ++i) {
      Alert& alert = snapshot.alerts[i];
      alert.time = now;
      alert.monitor = monitor.name;
      recorder_.RecordAlert(alert);
      alerts_.push_back(alert);
    }
  }
  std::vector<Action> actions;
  applier_.StartCycle();
  for (auto& controller : components_.controllers) {
    actions.clear();
    try {
      controller.controller->OnCycle(snapshot, controller.campaign, &actions);
    } catch (...) {
      RethrowWithContext("controller", controller.name, controller.where, file, now);
    }
    // A pacing controller reports the target it steered to (core/pacing_target.h).
    PacingTarget target;
    const auto* source = dynamic_cast<const PacingTargetSource*>(controller.controller.get());
    if (source && source->LastPacingTarget(&target) && target.campaign >= 0 && target.campaign < state_.num_campaigns)
      recorder_.RecordPacingTarget(now, controller.name, target, snapshot.campaigns[target.campaign]);
    for (const Action& action : actions) applier_.Apply(now, controller.name, controller.priority, action);
  }
  experiments_.UpdateWindows(snapshot, now);
  // Experiment analyses run last, from the experiment's start on: their
  // decisions (pausing arms) pass the guardrails like any action.
  for (auto& analysis : components_.analyses) {
    const ExperimentRuntime& experiment = experiments_.experiments[analysis.experiment];
    if (now <= experiment.start) continue;
    actions.clear();
    const size_t before = looks_.size();
    try {
      analysis.analysis->OnCycle(snapshot, experiment.data, &looks_, &actions);
    } catch (...) {
      RethrowWithContext("analysis", analysis.name, analysis.where, file, now);
    }
    for (size_t i = before; i < looks_.size(); ++i) {
      looks_[i].time = now;
      looks_[i].experiment = scenario.experiments[analysis.experiment].name;
      looks_[i].analysis = analysis.name;
    }
    for (const Action& action : actions) applier_.Apply(now, "experiment:" + analysis.name, 0, action);
  }
  experiments_.RebuildArms();
}

}  // namespace adsim::engine

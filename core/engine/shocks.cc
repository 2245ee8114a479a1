// Shocks (shocks.h): active shocks -> market conditions and response multipliers.
// May not touch: counters, campaigns, components, results tables.
#include "core/engine/shocks.h"

#include <algorithm>

namespace adsim::engine {

Shocks::Shocks(RunState& state) : state_(state) {
  const int channel_segments = state.num_channels * state.num_segments;
  state.conditions.num_segments = state.num_segments;
  state.conditions.traffic.assign(channel_segments, 1.0);
  state.conditions.competing_bids.assign(channel_segments, 1.0);
  state.ctr_multiplier.assign(channel_segments, 1.0);
  state.cvr_multiplier.assign(channel_segments, 1.0);
  state.tracking.assign(channel_segments, 1.0);
  if (state.scenario.funnel) state.funnel_multiplier.assign(static_cast<size_t>(channel_segments) * kFunnelStages, 1.0);
  if (state.scenario.funnel && state.scenario.journeys)
    state.funnel_direct_multiplier.assign(static_cast<size_t>(state.num_segments) * kFunnelStages, 1.0);
  state.platform_quality.Reset(state.num_segments, PlatformQualityHalfLives(state.scenario));
  active_.assign(state.scenario.shocks.size(), false);
}

void Shocks::ScheduleAll() {
  const Scenario& scenario = state_.scenario;
  for (size_t i = 0; i < scenario.shocks.size(); ++i) {
    if (scenario.shocks[i].start < scenario.duration)
      state_.Push(scenario.shocks[i].start, EventKind::kShockStart, static_cast<int64_t>(i));
    if (scenario.shocks[i].end < scenario.duration)
      state_.Push(scenario.shocks[i].end, EventKind::kShockEnd, static_cast<int64_t>(i));
  }
}

void Shocks::Handle(const Event& event) {
  const ShockSpec& shock = state_.scenario.shocks[event.payload];
  if (event.kind != EventKind::kShockStep) active_[event.payload] = event.kind == EventKind::kShockStart;
  Recompute(event.time);
  // A ramp moves towards its multipliers in steps until its end.
  const SimTime next = event.time + shock.ramp_step;
  if (shock.ramp && event.kind != EventKind::kShockEnd && next < shock.end && next < state_.scenario.duration)
    state_.Push(next, EventKind::kShockStep, event.payload);
}

void Shocks::Recompute(SimTime now) {
  const int channel_segments = state_.num_channels * state_.num_segments;
  std::fill(state_.conditions.traffic.begin(), state_.conditions.traffic.end(), 1.0);
  std::fill(state_.conditions.competing_bids.begin(), state_.conditions.competing_bids.end(), 1.0);
  state_.ctr_multiplier.assign(channel_segments, 1.0);
  state_.cvr_multiplier.assign(channel_segments, 1.0);
  state_.tracking.assign(channel_segments, 1.0);
  std::fill(state_.funnel_multiplier.begin(), state_.funnel_multiplier.end(), 1.0);
  std::fill(state_.funnel_direct_multiplier.begin(), state_.funnel_direct_multiplier.end(), 1.0);
  for (size_t i = 0; i < state_.scenario.shocks.size(); ++i) {
    if (!active_[i]) continue;
    const ShockSpec& shock = state_.scenario.shocks[i];
    // A ramp has moved the fraction f of the way from 1 to its multipliers.
    const double f =
        shock.ramp ? std::clamp(static_cast<double>(now - shock.start) / static_cast<double>(shock.end - shock.start),
                                0.0, 1.0)
                   : 1.0;
    auto at = [f](double multiplier) { return 1.0 + f * (multiplier - 1.0); };
    // A shock on every channel also reaches journeys' direct visits (no channel).
    if (!state_.funnel_direct_multiplier.empty() && shock.channels.empty())
      for (int segment = 0; segment < state_.num_segments; ++segment) {
        if (!shock.segments.empty() && !std::count(shock.segments.begin(), shock.segments.end(), segment)) continue;
        for (int stage = 0; stage < kFunnelStages; ++stage)
          state_.funnel_direct_multiplier[static_cast<size_t>(segment) * kFunnelStages + stage] *=
              at(shock.funnel_stage[stage]) * (stage == kPurchase ? at(shock.cvr) : 1.0);
      }
    for (int channel = 0; channel < state_.num_channels; ++channel) {
      if (!shock.channels.empty() && !std::count(shock.channels.begin(), shock.channels.end(), channel)) continue;
      for (int segment = 0; segment < state_.num_segments; ++segment) {
        if (!shock.segments.empty() && !std::count(shock.segments.begin(), shock.segments.end(), segment)) continue;
        const int channel_segment = state_.ChannelSegment(channel, segment);
        state_.conditions.traffic[channel_segment] *= at(shock.traffic);
        state_.conditions.competing_bids[channel_segment] *= at(shock.competing_bids);
        state_.ctr_multiplier[channel_segment] *= at(shock.ctr);
        state_.cvr_multiplier[channel_segment] *= at(shock.cvr);
        state_.tracking[channel_segment] *= at(shock.conversion_tracking);
        if (!state_.funnel_multiplier.empty())
          for (int stage = 0; stage < kFunnelStages; ++stage)
            state_.funnel_multiplier[static_cast<size_t>(channel_segment) * kFunnelStages + stage] *=
                at(shock.funnel_stage[stage]);
      }
    }
  }
  state_.platform_quality.OnLiveChange(now, state_.ctr_multiplier);
  state_.market->OnConditionsChanged(now, state_.conditions);
}

}  // namespace adsim::engine

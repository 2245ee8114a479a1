// Setup (setup.h): Scenario -> run state, experiments and components.
// The only caller of the registries (components, markets) in the kernel. May not touch: run logic.
#include "core/engine/setup.h"

#include <algorithm>
#include <cmath>

#include "core/market.h"
#include "core/registry.h"

namespace adsim::engine {

namespace {

// Cells, eligibility (brand safety applied once, here), truth per cell.
void SetUpCells(RunState& state) {
  const Scenario& scenario = state.scenario;
  state.num_channels = static_cast<int>(scenario.channels.size());
  state.num_segments = static_cast<int>(scenario.segments.size());
  state.num_campaigns = static_cast<int>(scenario.campaigns.size());
  const int channel_segments = state.num_channels * state.num_segments;
  for (const auto& campaign : scenario.campaigns) {
    state.cell_offset.push_back(state.num_cells);
    state.num_creatives.push_back(static_cast<int>(campaign.creatives.size()));
    state.num_cells += channel_segments * static_cast<int>(campaign.creatives.size());
  }
  state.total.assign(state.num_cells, {});
  state.cycle_base = state.day_base = state.total;
  state.market_total.assign(channel_segments, 0);
  // Eligibility per channel x segment, in campaign order (deterministic).
  state.eligible_offset.assign(channel_segments + 1, 0);
  for (int channel_segment = 0; channel_segment < channel_segments; ++channel_segment) {
    state.eligible_offset[channel_segment] = static_cast<int>(state.eligible.size());
    const int channel = channel_segment / state.num_segments, segment = channel_segment % state.num_segments;
    for (int c = 0; c < state.num_campaigns; ++c) {
      const auto& campaign = scenario.campaigns[c];
      const GuardrailSpec& guardrails = campaign.guardrails;
      // Brand safety is enforced here, once: a blocked segment or channel is
      // never offered to the campaign, so no bidder or action can buy it.
      const bool blocked =
          std::count(guardrails.blocked_segments.begin(), guardrails.blocked_segments.end(), segment) ||
          std::count(guardrails.blocked_channels.begin(), guardrails.blocked_channels.end(), channel);
      if (!blocked && std::count(campaign.channels.begin(), campaign.channels.end(), channel) &&
          std::count(campaign.segments.begin(), campaign.segments.end(), segment))
        state.eligible.push_back(c);
    }
  }
  state.eligible_offset[channel_segments] = static_cast<int>(state.eligible.size());
  // Truth per cell.
  state.true_ctr.assign(state.num_cells, 0.0);
  state.true_cvr.assign(state.num_cells, 0.0);
  if (scenario.funnel) state.funnel_rate.assign(static_cast<size_t>(state.num_cells) * kFunnelStages, 0.0);
  for (int c = 0; c < state.num_campaigns; ++c) {
    const auto& campaign = scenario.campaigns[c];
    for (int channel = 0; channel < state.num_channels; ++channel)
      for (int segment = 0; segment < state.num_segments; ++segment)
        for (int creative = 0; creative < state.num_creatives[c]; ++creative) {
          const auto& segment_spec = scenario.segments[segment];
          double ctr = segment_spec.ctr, cvr = segment_spec.cvr;
          auto it = segment_spec.creatives.find(campaign.name + "/" + campaign.creatives[creative].name);
          if (it != segment_spec.creatives.end()) {
            if (it->second.ctr) ctr = *it->second.ctr;
            if (it->second.cvr) cvr = *it->second.cvr;
          }
          const int cell = state.Cell(c, state.ChannelSegment(channel, segment), creative);
          state.true_ctr[cell] = std::min(1.0, ctr * scenario.channels[channel].ctr_factor);
          state.true_cvr[cell] = cvr;
          if (scenario.funnel) {  // the purchase after a click runs through the funnel's stages
            const FunnelSpec& funnel = *scenario.funnel;
            const auto creative_multiplier =
                funnel.creative_multipliers.find(campaign.name + "/" + campaign.creatives[creative].name);
            double product = 1.0;
            for (int stage = 0; stage < kFunnelStages; ++stage) {
              double rate = funnel.rates[segment][stage] * funnel.channel_multipliers[channel][stage];
              if (creative_multiplier != funnel.creative_multipliers.end()) rate *= creative_multiplier->second[stage];
              rate = std::min(1.0, rate);
              state.funnel_rate[static_cast<size_t>(cell) * kFunnelStages + stage] = rate;
              product *= rate;
            }
            state.true_cvr[cell] = product;
          }
        }
  }
}

// Fatigue per (campaign, segment, creative), shared by the cells of every
// channel: exposures count impressions on all channels.
void SetUpFatigue(RunState& state) {
  const Scenario& scenario = state.scenario;
  bool any_fatigue = false;
  for (const auto& segment : scenario.segments) {
    any_fatigue |= segment.fatigue.enabled();
    for (const auto& [key, rates] : segment.creatives) any_fatigue |= rates.fatigue && rates.fatigue->enabled();
  }
  if (!any_fatigue) return;
  state.fatigue_index.assign(state.num_cells, -1);
  state.cell_fatigue.assign(state.num_cells, {});
  for (int c = 0; c < state.num_campaigns; ++c) {
    const auto& campaign = scenario.campaigns[c];
    for (int segment = 0; segment < state.num_segments; ++segment)
      for (int creative = 0; creative < state.num_creatives[c]; ++creative) {
        const auto& segment_spec = scenario.segments[segment];
        FatigueSpec spec = segment_spec.fatigue;
        auto it = segment_spec.creatives.find(campaign.name + "/" + campaign.creatives[creative].name);
        if (it != segment_spec.creatives.end() && it->second.fatigue) spec = *it->second.fatigue;
        if (!spec.enabled()) continue;
        FatigueState fatigue;
        fatigue.step = std::exp2(-1.0 / spec.half_life);
        fatigue.inverse_half_life = 1.0 / spec.half_life;
        fatigue.inverse_recovery = spec.recovery > 0 ? 1.0 / static_cast<double>(spec.recovery) : 0.0;
        state.fatigue.push_back(fatigue);
        for (int channel = 0; channel < state.num_channels; ++channel) {
          const int cell = state.Cell(c, state.ChannelSegment(channel, segment), creative);
          state.fatigue_index[cell] = static_cast<int>(state.fatigue.size()) - 1;
          state.cell_fatigue[cell] = spec;
        }
      }
  }
}

}  // namespace

void SetUp(RunState& state, Experiments& experiments, Components& components) {
  const Scenario& scenario = state.scenario;
  SetUpCells(state);
  SetUpFatigue(state);
  SetUpUserFeatures(scenario, state.seed, &state.users);
  // Campaigns, bidders, controllers. Every name, scope and parameter is
  // checked first, so all the problems are reported together.
  ValidateComponents(scenario);
  const Registry& registry = Registry::Global();
  state.public_scenario = MakePublicScenario(scenario);
  auto context = [&state, &registry](int campaign, const ComponentSpec& spec, const ComponentInfo& info) {
    BuildContext build{&state.public_scenario, campaign, registry.Resolve(info, spec, state.scenario.source_name),
                       spec.where, MakeComponentSeed(state.seed, ComponentStreamPath(spec.where, info.name))};
    build.journeys = &state.journeys;
    return build;
  };
  experiments.experiment_of.assign(state.num_campaigns, -1);
  experiments.arm_of.assign(state.num_campaigns, -1);
  experiments.user_row.assign(state.num_campaigns, nullptr);
  state.oracle_campaign = state.options.oracle_campaign;
  state.truth_conversions.assign(state.num_campaigns, 0.0);
  state.truth_value.assign(state.num_campaigns, 0.0);
  for (size_t e = 0; e < scenario.experiments.size(); ++e) {
    const ExperimentSpec& spec = scenario.experiments[e];
    ExperimentRuntime experiment;
    experiment.key = StreamSeed(state.seed, "experiments/" + spec.name + "/assignment");
    experiment.by_user = spec.split_by_user;
    experiment.arms = spec.arms;
    experiment.weights = spec.weights;
    experiment.start = spec.start;
    experiment.started = spec.start == 0;
    experiment.at_start.assign(spec.arms.size(), {});
    experiment.late.assign(spec.arms.size(), {});
    experiment.data.since_start.assign(spec.arms.size(), {});
    for (size_t channel_segment = 0; channel_segment < spec.arms.size(); ++channel_segment) {
      experiments.experiment_of[spec.arms[channel_segment]] = static_cast<int>(e);
      experiments.arm_of[spec.arms[channel_segment]] = static_cast<int>(channel_segment);
    }
    bool wants_users = false;
    for (const auto& analysis_spec : spec.analyses) {
      const Registry::Entry info = registry.Require(ComponentKind::kAnalysis, analysis_spec, scenario.source_name);
      BuildContext build_context = context(-1, analysis_spec, *info);
      build_context.experiment = static_cast<int>(e);
      components.analyses.push_back({analysis_spec.label.empty() ? info->name : analysis_spec.label,
                                     analysis_spec.where, static_cast<int>(e), info->make_analysis(build_context)});
      if (components.analyses.back().analysis->WantsUserCounts()) {
        if (!spec.split_by_user)
          throw ConfigError({{scenario.source_name, analysis_spec.where, analysis_spec.line,
                              "an analysis by request (unit: request) under split: opportunity, or split: user",
                              "an analysis by user under split: opportunity (a user sees several arms)"}});
        wants_users = true;
      }
    }
    if (wants_users) {  // one row per user of the segments the arms target
      ExperimentData& data = experiment.data;
      data.users_kept = true;
      data.row_offset.assign(state.num_segments, -1);
      int64_t rows = 0;
      for (int segment : scenario.campaigns[spec.arms[0]].segments) {
        data.row_offset[segment] = rows;
        rows += scenario.segments[segment].users;
      }
      data.pre.assign(static_cast<size_t>(rows), {});
      data.arm.assign(spec.arms.size(), std::vector<UserCounts>(static_cast<size_t>(rows)));
      data.exposed.assign(spec.arms.size(), {});
      for (auto& list : data.exposed) list.reserve(static_cast<size_t>(rows));  // no allocation while running
    }
    experiments.experiments.push_back(std::move(experiment));
  }
  state.campaigns.resize(state.num_campaigns);
  state.account.SetOwner("the account");
  state.account.SetDailyBudget(Ledger::FromUnits(scenario.account_daily_budget));
  state.account.SetTotalBudget(Ledger::FromUnits(scenario.account_total_budget));
  for (int c = 0; c < state.num_campaigns; ++c) {
    const auto& campaign = scenario.campaigns[c];
    CampaignRuntime& runtime = state.campaigns[c];
    runtime.state.name = campaign.name;
    runtime.state.bid = runtime.state.initial_bid = campaign.bid;
    runtime.state.daily_budget = campaign.daily_budget;
    runtime.state.total_budget = campaign.total_budget;
    runtime.state.segment_modifier.assign(state.num_segments, 1.0);
    runtime.state.creative_paused.assign(campaign.creatives.size(), false);
    runtime.state.creative_weight.assign(campaign.creatives.size(), 1.0);
    runtime.state.goal = campaign.goal;
    runtime.state.goal_value = campaign.goal_value;
    runtime.ledger.SetOwner("campaign '" + campaign.name + "' (index " + std::to_string(c) + ")");
    runtime.ledger.SetDailyBudget(Ledger::FromUnits(campaign.daily_budget));
    runtime.ledger.SetTotalBudget(Ledger::FromUnits(campaign.total_budget));
    runtime.max_daily_budget_today = runtime.ledger.daily_budget();
    runtime.active_creatives.reserve(state.num_creatives[c]);
    runtime.creative_cumulative.reserve(state.num_creatives[c]);
    for (int creative = 0; creative < state.num_creatives[c]; ++creative) runtime.active_creatives.push_back(creative);
    runtime.creative_stream = Stream(state.seed, "campaigns/" + campaign.name + "/creatives");
    const Registry::Entry bidder = registry.Require(ComponentKind::kBidder, campaign.bidder, scenario.source_name);
    runtime.bidder = bidder->make_bidder(context(c, campaign.bidder, *bidder));
    for (const auto& spec : campaign.controllers) {
      const Registry::Entry info = registry.Require(ComponentKind::kController, spec, scenario.source_name);
      components.controllers.push_back({spec.label.empty() ? info->name : spec.label, spec.where, c,
                                        info->make_controller(context(c, spec, *info)), spec.priority});
    }
  }
  for (const auto& spec : scenario.controllers) {
    const Registry::Entry info = registry.Require(ComponentKind::kController, spec, scenario.source_name);
    components.controllers.push_back({spec.label.empty() ? info->name : spec.label, spec.where, -1,
                                      info->make_controller(context(-1, spec, *info)), spec.priority});
  }
  // Higher priority first; scenario order among equals.
  std::stable_sort(components.controllers.begin(), components.controllers.end(),
                   [](const ControllerRuntime& x, const ControllerRuntime& y) { return x.priority > y.priority; });
  for (const auto& spec : scenario.monitors) {
    const Registry::Entry info = registry.Require(ComponentKind::kMonitor, spec, scenario.source_name);
    components.monitors.push_back(
        {spec.label.empty() ? info->name : spec.label, spec.where, info->make_monitor(context(-1, spec, *info))});
  }
  state.market = MakeMarket(scenario, state.seed);
}

}  // namespace adsim::engine

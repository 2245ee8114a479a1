// Owns creative_rotation: running a registered creative-selection controller
// (creative_thompson, creative_epsilon_greedy, creative_ucb1, creative_even,
// or any controller that sets creative weights) outside a run, on per-cycle
// counts taken from a log, and returning the rotation it would have used in
// each cycle. python/adsim/_ope.py turns that rotation into the action
// probabilities of an off-policy evaluation (docs/ope.md, "Policies"). The
// controller gets a one-campaign, one-channel, one-segment snapshot whose
// cells are the creatives; nothing else of a run exists here.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "core/registry.h"
#include "python/bindings/module.h"

namespace adsim::bindings {
namespace {

// Rotation weights normalised over the unpaused creatives (what a bid request
// shows): weight / sum of the unpaused weights, 0 for paused creatives.
std::vector<double> Shares(const CampaignState& state) {
  double sum = 0.0;
  for (size_t creative = 0; creative < state.creative_weight.size(); ++creative)
    if (!state.creative_paused[creative]) sum += state.creative_weight[creative];
  std::vector<double> shares(state.creative_weight.size(), 0.0);
  for (size_t creative = 0; creative < shares.size(); ++creative)
    if (!state.creative_paused[creative] && sum > 0) shares[creative] = state.creative_weight[creative] / sum;
  return shares;
}

// Returns (cycles + 1) x K shares: row c is the rotation in force during cycle
// c (row 0 the initial even rotation), row `cycles` the one after the last.
py::array_t<double> CreativeRotation(const std::string& name, const std::map<std::string, double>& params,
                                     const py::array_t<double, py::array::c_style | py::array::forcecast>& impressions,
                                     const py::array_t<double, py::array::c_style | py::array::forcecast>& clicks,
                                     int64_t control_cycle_us, uint64_t seed) {
  if (impressions.ndim() != 2 || clicks.ndim() != 2 || impressions.shape(0) != clicks.shape(0) ||
      impressions.shape(1) != clicks.shape(1) || impressions.shape(1) < 1)
    throw ConfigError("creative_rotation: expected impressions and clicks of the same shape (cycles, creatives)");
  if (control_cycle_us <= 0) throw ConfigError("creative_rotation: expected a control cycle > 0 microseconds");
  const int cycles = static_cast<int>(impressions.shape(0));
  const int creatives = static_cast<int>(impressions.shape(1));
  ComponentSpec spec;
  spec.type = name;
  spec.where = "policy";
  for (const auto& [key, value] : params) {
    ParamValue parameter;
    parameter.number = value;
    spec.params[key] = parameter;
  }
  const Registry& registry = Registry::Global();
  const Registry::Entry info = registry.Require(ComponentKind::kController, spec, "<ope>");
  PublicScenario scenario;
  scenario.source_name = "<ope>";
  scenario.control_cycle = control_cycle_us;
  scenario.duration = control_cycle_us * (cycles + 1);
  scenario.bucket = control_cycle_us;
  scenario.channels.push_back(PublicScenario::Channel{});
  scenario.channels[0].name = "log";
  scenario.segments.push_back(PublicScenario::Segment{});
  scenario.segments[0].name = "log";
  CampaignSpec campaign;
  campaign.name = "log";
  campaign.channels = {0};
  campaign.segments = {0};
  for (int creative = 0; creative < creatives; ++creative)
    campaign.creatives.push_back(CreativeSpec{std::to_string(creative)});
  scenario.campaigns.push_back(campaign);
  const BuildContext context{&scenario, 0, registry.Resolve(*info, spec, "<ope>"), spec.where,
                             MakeComponentSeed(seed, ComponentStreamPath(spec.where, info->name))};
  if (!info->make_controller)
    throw ConfigError("policy '" + name + "': expected a controller that sets creative weights");
  std::unique_ptr<Controller> controller = info->make_controller(context);

  Snapshot snapshot;
  snapshot.control_cycle = control_cycle_us;
  snapshot.num_channels = 1;
  snapshot.num_segments = 1;
  snapshot.num_creatives = {creatives};
  snapshot.cell_offset = {0};
  snapshot.channel_names = {"log"};
  snapshot.segment_names = {"log"};
  snapshot.hourly_traffic_share = {std::vector<double>(24, 1.0 / 24)};
  snapshot.creative_names = {{}};
  for (const CreativeSpec& creative : campaign.creatives) snapshot.creative_names[0].push_back(creative.name);
  CampaignState state;
  state.name = campaign.name;
  state.segment_modifier = {1.0};
  state.creative_paused.assign(creatives, false);
  state.creative_weight.assign(creatives, 1.0);
  snapshot.total.assign(creatives, ObservedStats{});
  snapshot.today.assign(creatives, ObservedStats{});

  py::array_t<double> shares({cycles + 1, creatives});
  auto out = shares.mutable_unchecked<2>();
  const auto shown = impressions.unchecked<2>();
  const auto clicked = clicks.unchecked<2>();
  const std::vector<double> initial = Shares(state);
  for (int creative = 0; creative < creatives; ++creative) out(0, creative) = initial[creative];
  std::vector<Action> actions;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    snapshot.time = control_cycle_us * (cycle + 1);
    snapshot.last_cycle.assign(creatives, ObservedStats{});
    for (int creative = 0; creative < creatives; ++creative) {
      const double n = shown(cycle, creative), k = clicked(cycle, creative);
      if (!(n >= 0) || !(k >= 0) || k > n || n != std::floor(n) || k != std::floor(k))
        throw ConfigError("creative_rotation: cycle " + std::to_string(cycle) + ", creative " +
                          std::to_string(creative) + ": expected whole counts with 0 <= clicks <= impressions");
      ObservedStats& stats = snapshot.last_cycle[creative];
      stats.requests = stats.bids = stats.impressions = static_cast<int64_t>(n);
      stats.clicks = static_cast<int64_t>(k);
      snapshot.total[creative].Add(stats);
      snapshot.today[creative].Add(stats);
    }
    snapshot.campaigns = {state};
    actions.clear();
    controller->OnCycle(snapshot, 0, &actions);
    for (const Action& action : actions) {
      if (action.creative < 0 || action.creative >= creatives) continue;
      if (action.kind == ActionKind::kSetCreativeWeight) state.creative_weight[action.creative] = action.value;
      if (action.kind == ActionKind::kPauseCreative) state.creative_paused[action.creative] = true;
      if (action.kind == ActionKind::kResumeCreative) state.creative_paused[action.creative] = false;
    }
    const std::vector<double> now = Shares(state);
    for (int creative = 0; creative < creatives; ++creative) out(cycle + 1, creative) = now[creative];
  }
  return shares;
}

}  // namespace

void BindCreativePolicy(py::module_& m) {
  m.def("creative_rotation", &CreativeRotation, py::arg("name"), py::arg("params"), py::arg("impressions"),
        py::arg("clicks"), py::arg("control_cycle_us"), py::arg("seed"),
        "Runs a registered creative controller on per-cycle (impressions, clicks) per creative; returns the "
        "rotation shares in force in each cycle, (cycles + 1) x creatives.");
}

}  // namespace adsim::bindings

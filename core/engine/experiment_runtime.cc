// Experiments at run time (experiment_runtime.h): the per-cycle parts.
// May not touch: budgets, bids, results tables.
#include "core/engine/experiment_runtime.h"

namespace adsim::engine {

void Experiments::CountConversion(const PendingConversion& conversion) {
  ExperimentRuntime& experiment = experiments[experiment_of[conversion.campaign]];
  const int arm = arm_of[conversion.campaign];
  if (conversion.click_time < experiment.start && experiment.started) {
    ObservedStats& late = experiment.late[arm];
    ++late.conversions;
    late.conversion_value += conversion.value;
    late.conversion_value_sq += conversion.value * conversion.value;
  }
  if (!experiment.data.users_kept || experiment.data.row_offset[conversion.segment] < 0) return;
  const int64_t row = experiment.data.row_offset[conversion.segment] + conversion.user;
  UserCounts& counts =
      conversion.click_time < experiment.start ? experiment.data.pre[row] : experiment.data.arm[arm][row];
  ++counts.conversions;
  counts.conversion_value += static_cast<float>(conversion.value);
}

void Experiments::UpdateWindows(const Snapshot& snapshot, SimTime now) {
  for (ExperimentRuntime& experiment : experiments) {
    for (size_t k = 0; k < experiment.arms.size(); ++k) {
      const ObservedStats total = snapshot.CampaignTotal(snapshot.total, experiment.arms[k]);
      if (!experiment.started && now >= experiment.start) experiment.at_start[k] = total;
      ObservedStats& since_start = experiment.data.since_start[k];
      since_start = total;
      since_start.Subtract(experiment.at_start[k]);
      since_start.Subtract(experiment.late[k]);
    }
    experiment.started |= now >= experiment.start;
  }
}

void Experiments::RebuildArms() {
  for (ExperimentRuntime& experiment : experiments) {
    experiment.active_arms.clear();
    experiment.active_cumulative.clear();
    double sum = 0;
    for (size_t k = 0; k < experiment.arms.size(); ++k) {
      if (state_.campaigns[experiment.arms[k]].state.paused) continue;
      sum += experiment.weights[k];
      experiment.active_arms.push_back(experiment.arms[k]);
      experiment.active_cumulative.push_back(sum);
    }
    experiment.stamp = -1;
  }
}

}  // namespace adsim::engine

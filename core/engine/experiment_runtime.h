// Experiments at run time: which arm serves an opportunity (inline, hot), the
// per-user counters of experiments whose analyses want users, and, once per
// control cycle, the arms' totals since the experiment's start and the set of
// running arms. Built by setup.cc; analyses themselves run in control_cycle.cc.
//
// Owns: assignment, per-user rows, the arms' windows (ExperimentData).
// May not touch: budgets, bids, results tables; it reads whether a campaign
// is paused.
#pragma once

#include <cstdint>
#include <vector>

#include "core/engine/run_state.h"
#include "core/random.h"
#include "core/strategy.h"

namespace adsim::engine {

// Arm assignment of one experiment: a uniform number per user (or per
// opportunity), mapped to an arm by the cumulative weights of the arms still
// running (a paused arm's traffic goes to the others in proportion).
struct ExperimentRuntime {
  uint64_t key = 0;  // seeds the assignment hash
  bool by_user = true;
  std::vector<int> arms;  // campaign indices
  std::vector<double> weights;
  std::vector<double> active_cumulative;  // cumulative weights of the running arms (rebuilt each cycle)
  std::vector<int> active_arms;           // campaign indices of the running arms
  int64_t stamp = -1;                     // opportunity counter at which `assigned` was drawn
  int assigned = -1;                      // campaign index assigned to the current opportunity
  SimTime start = 0;                      // before it, every unit goes to the control arm
  bool started = false;                   // the arms' totals at `start` are recorded
  // Per arm: totals at start; pre-period conversions reported after it.
  std::vector<ObservedStats> at_start, late;
  ExperimentData data;  // what the analyses see
  // The user's counters for the arm (or the pre-period) serving this
  // opportunity; marks the user exposed on the first in-period request.
  UserCounts* UserRow(int arm, int segment, int64_t user, SimTime time) {
    const int64_t offset = data.row_offset[segment];
    if (offset < 0) return nullptr;
    const int64_t row = offset + user;
    if (time < start) return &data.pre[row];
    UserCounts& counts = data.arm[arm][row];
    if (counts.requests == 0) data.exposed[arm].push_back(row);
    return &counts;
  }
};

class Experiments {
 public:
  explicit Experiments(const RunState& state) : state_(state) {}

  std::vector<ExperimentRuntime> experiments;
  std::vector<int> experiment_of;  // per campaign: experiment index, -1 if not an arm
  std::vector<int> arm_of;         // per campaign: arm index within its experiment
  // Per campaign: the current user's experiment counters (null unless the
  // campaign is an arm of an experiment that keeps users).
  std::vector<UserCounts*> user_row;

  bool IsArm(int campaign) const { return experiment_of[campaign] >= 0; }

  // Whether arm `campaign` serves the opportunity; counts the request in the
  // user's counters when the experiment keeps them.
  bool ServesArm(int campaign, const Opportunity& opportunity) {
    ExperimentRuntime& experiment = experiments[experiment_of[campaign]];
    if (AssignedArm(experiment, opportunity) != campaign) return false;
    UserCounts* user = experiment.data.users_kept ? experiment.UserRow(arm_of[campaign], opportunity.segment,
                                                                       opportunity.user, opportunity.time)
                                                  : nullptr;
    if (user) ++user->requests;
    user_row[campaign] = user;
    return true;
  }

  // A reported conversion of an experiment arm: in the arm's user counters,
  // and set apart when its click came before the experiment's start.
  void CountConversion(const PendingConversion& conversion);
  // Once per control cycle, after the controllers: the arms' counters since
  // each experiment's start.
  void UpdateWindows(const Snapshot& snapshot, SimTime now);
  // The running arms and their cumulative weights (after pauses).
  void RebuildArms();

 private:
  int AssignedArm(ExperimentRuntime& experiment, const Opportunity& opportunity) {
    if (experiment.stamp == state_.opportunities) return experiment.assigned;
    experiment.stamp = state_.opportunities;
    if (opportunity.time < experiment.start)  // pre-period
      return experiment.assigned = state_.campaigns[experiment.arms[0]].state.paused ? -1 : experiment.arms[0];
    const int running = static_cast<int>(experiment.active_arms.size());
    if (running == 0) return experiment.assigned = -1;
    const uint64_t unit = experiment.by_user ? (static_cast<uint64_t>(opportunity.segment) << 48) ^
                                                   static_cast<uint64_t>(opportunity.user)
                                             : opportunity.response_key;
    const double u = static_cast<double>(Mix64(experiment.key ^ Mix64(unit)) >> 11) * 0x1.0p-53 *
                     experiment.active_cumulative[running - 1];
    int i = 0;
    while (i + 1 < running && u >= experiment.active_cumulative[i]) ++i;
    return experiment.assigned = experiment.active_arms[i];
  }

  const RunState& state_;
};

}  // namespace adsim::engine

// PacingTarget and PacingTargetSource: what a pacing controller reports about
// the spend it steers towards, for the result's pacing_target table.
//
// An optional interface: a controller that paces a budget (pid_pacing)
// inherits PacingTargetSource besides Controller, and the control cycle asks
// it, right after each OnCycle, for the target of that cycle. Controllers
// that do not pace do not inherit it and write nothing.
#pragma once

namespace adsim {

// The spend a pacing controller steered towards at one control cycle.
struct PacingTarget {
  int campaign = -1;
  bool flight = false;      // false: today's spend against today's plan; true: spend since the start
  double target_spend = 0;  // cumulative spend (today's or the flight's) aimed at, currency
  double budget = 0;        // what is paced: today's plan, or the total budget, currency
};

class PacingTargetSource {
 public:
  virtual ~PacingTargetSource() = default;
  // The target of the OnCycle that just returned. Return false when the
  // controller paced nothing in that cycle (no budget, a spent total). Must
  // not change the controller's state: a run's numbers do not depend on
  // whether it is called.
  virtual bool LastPacingTarget(PacingTarget* target) const = 0;
};

}  // namespace adsim

// The control cycle: builds the Snapshot (only what an advertiser knows at
// time t) and calls the per-cycle components in their order: every bidder's
// OnCycle, the monitors (their alerts go to the snapshot and the recorder),
// the controllers by priority (their actions to the action applier), the
// experiments' windows, the analyses (from each experiment's start), and the
// experiments' running arms. An exception from a component is rethrown with
// its kind, registered name (or label), scenario field path and file, and the
// simulated time.
//
// Owns: the controllers, monitors and analyses (built by setup.cc), the
// alerts and experiment looks of the run (for the end-of-run tables).
// May not touch: counters (it reads them), budgets and settings (only through
// ActionApplier), the market.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/engine/action_applier.h"
#include "core/engine/experiment_runtime.h"
#include "core/engine/recorder.h"
#include "core/engine/run_state.h"
#include "core/strategy.h"

namespace adsim::engine {

struct ControllerRuntime {
  std::string name;   // label or registered name
  std::string where;  // scenario field path, e.g. campaigns[0].controllers[1]
  int campaign;       // -1: scenario-wide
  std::unique_ptr<Controller> controller;
  int priority = 0;
};

struct MonitorRuntime {
  std::string name;
  std::string where;
  std::unique_ptr<Monitor> monitor;
};

struct AnalysisRuntime {
  std::string name;  // label or type
  std::string where;
  int experiment;
  std::unique_ptr<ExperimentAnalysis> analysis;
};

// The per-cycle components of a run, built by setup.cc (controllers sorted by
// priority, higher first, scenario order among equals).
struct Components {
  std::vector<ControllerRuntime> controllers;
  std::vector<MonitorRuntime> monitors;
  std::vector<AnalysisRuntime> analyses;
};

class ControlCycle {
 public:
  ControlCycle(RunState& state, Recorder& recorder, ActionApplier& applier, Experiments& experiments,
               Components components)
      : state_(state),
        recorder_(recorder),
        applier_(applier),
        experiments_(experiments),
        components_(std::move(components)) {}

  // One control cycle at `now` (a kCycle event).
  void Run(SimTime now);

  const Components& components() const { return components_; }
  const std::vector<Alert>& alerts() const { return alerts_; }
  const std::vector<ExperimentLook>& looks() const { return looks_; }

 private:
  Snapshot BuildSnapshot(SimTime now);

  RunState& state_;
  Recorder& recorder_;
  ActionApplier& applier_;
  Experiments& experiments_;
  Components components_;
  std::vector<Alert> alerts_;  // every alert of the run, for scoring
  std::vector<ExperimentLook> looks_;
};

// Called inside a catch block: rethrows the exception being handled (as the
// same adsim::Error kind; any other std::exception as adsim::Error) with the
// component's context in front: "<kind> '<name>' (<where> in <file>) failed
// at simulated time <t>: <what>". An adsim::Error that already names the
// simulated time (a Python component's, wrapped by the bindings) passes
// unchanged.
[[noreturn]] void RethrowWithContext(const char* kind, const std::string& name, const std::string& where,
                                     const std::string& file, SimTime now);

}  // namespace adsim::engine

// UserObservations, ModelFit and UserOutcomeLearner: what an advertiser
// observes per user (public features, clicks on its ads, conversions reported
// so far), handed each control cycle to a bidder that learns a per-user model
// from it, and the fit that bidder reports for the result's model_fits table
// (docs/audiences.md, "predictive_cpa learning online").
//
// An optional interface, like core/pacing_target.h: a bidder that learns from
// per-user outcomes (predictive_cpa with `learning: online`) inherits
// UserOutcomeLearner besides Bidder; the control cycle of a scenario with
// `users.features` hands it the observations right before its OnCycle, then
// asks it for the fit. Bidders that do not inherit it see nothing new. The
// observations hold no truth: the conversion counts are those reported by the
// cycle's time (counted at their arrival, lost ones never), never a
// conversion that has happened and not yet arrived.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"

namespace adsim {

// Views into the engine's per-user tables, valid during the call only.
struct UserObservations {
  struct Segment {
    int64_t users = 0;
    const float* features = nullptr;       // users x feature_count, row-major
    const int32_t* clicks = nullptr;       // per user: clicks on our campaigns' ads so far
    const int32_t* conversions = nullptr;  // per user: conversions reported to us so far
  };
  SimTime time = 0;  // the control cycle's time
  int feature_count = 0;
  std::vector<Segment> segments;  // in the scenario's segment order
};

// A logistic model's fit at one control cycle: coefficients on
// [1, feature_0, ..., feature_{K-1}] (intercept first) and their standard
// errors, with the data behind them.
struct ModelFit {
  std::vector<double> coefficients, standard_errors;
  int64_t users = 0;     // rows of the fit: users with at least one click
  double trials = 0;     // clicks, after the delay correction (effective clicks)
  double successes = 0;  // reported conversions
  int iterations = 0;    // Newton iterations of this refit
};

class UserOutcomeLearner {
 public:
  virtual ~UserOutcomeLearner() = default;
  // Whether this instance learns from the observations (a bidder may inherit
  // the interface and not use it, e.g. predictive_cpa with `learning:
  // offline`). Asked once, before the run; false = never called.
  virtual bool LearnsFromUsers() const = 0;
  // Called once per control cycle, before the bidder's OnCycle, in scenarios
  // with `users.features`. May allocate and be slow-ish (per cycle); must be
  // deterministic. Must not keep the pointers beyond the call.
  virtual void OnUserObservations(const UserObservations& users, int campaign) = 0;
  // The fit of the OnUserObservations that just returned; false when it did
  // not refit. Must not change the bidder's state.
  virtual bool LastModelFit(ModelFit* fit) const = 0;
};

}  // namespace adsim

// The user response: what a user does after one of our campaigns wins a slot
// (click, conversion, its delay and value, whether tracking reports it). The
// seam that a log replay (logged outcomes) and journeys (per-user state) plug
// into: the run loop calls it once per slot we win, through one virtual call,
// and never for an opportunity we lose (docs/engine.md, "User response").
//
// Owns: the response draws (ResponseRng keyed by the opportunity and slot)
// and, for the synthetic model, creative fatigue exposure.
// May not touch: counters, budgets, the event heap, results tables: the run
// loop books what the response says.
#pragma once

#include "core/engine/run_state.h"

namespace adsim::engine {

// One slot of one opportunity won by one of our campaigns.
struct Win {
  int campaign = 0;
  int cell = 0;
  int creative = 0;
  int slot = 0;
  int channel_segment = 0;
};

struct Response {
  bool click = false;
  bool converts = false;       // a conversion follows the click (only with click)
  int funnel_stages = 0;       // funnel only: stages after the click reached (1 visit, 2 cart, 3 purchase)
  double delay_us = 0.0;       // conversion delay after the click, in us (before the 1 us minimum)
  double value = 0.0;          // conversion value
  double tracking_draw = 0.0;  // uniform; reported when below the tracking fraction at arrival
};

class UserResponse {
 public:
  virtual ~UserResponse() = default;
  // Called once per slot one of our campaigns won, in slot order, after the
  // impression is charged (impression billing). Must draw only from the
  // opportunity's response key and the slot (common random numbers), and
  // must not look at what any strategy did beyond the win itself.
  virtual Response Respond(const Opportunity& opportunity, const Win& win) = 0;
};

// The synthetic model: the true click rate of the cell (with fatigue, the
// click-rate shock, the user's propensity and the slot's click factor), the
// true conversion rate (with its shock), the segment's delay and value
// distributions. Draw order per slot: click, conversion, delay, value, tracking.
// With a funnel (docs/funnel.md) the conversion draw is one draw per stage
// (visit, cart, purchase, stopping at the first stage not entered), each with
// the cell's stage rate times the stage's shock multiplier (the purchase also
// times the cvr shock).
class SyntheticResponse final : public UserResponse {
 public:
  explicit SyntheticResponse(RunState& state) : state_(state) {}
  Response Respond(const Opportunity& opportunity, const Win& win) override;

 private:
  RunState& state_;
};

// The log replay's response (docs/replay.md): the outcome the log holds for
// the request (Opportunity::logged): for a request the logger won, its logged
// click and conversion, with the conversion arriving at its logged time
// through the engine's delayed-reporting path; for one it lost, an outcome
// drawn from the replay market's fill-in model for the creative that won
// (LoggedOutcome::model). An opportunity without a logged outcome (a
// synthetic channel beside replayed ones) gets the synthetic response.
// Counts our wins on logged and on modelled requests (the result's
// replay_wins_* attributes).
class ReplayResponse final : public UserResponse {
 public:
  // `creatives_per_campaign`: how many creatives each campaign has, in
  // scenario order (the layout of LoggedOutcome::model).
  ReplayResponse(const std::vector<int>& creatives_per_campaign, UserResponse& synthetic);
  Response Respond(const Opportunity& opportunity, const Win& win) override;
  int64_t wins_logged() const { return wins_logged_; }
  int64_t wins_modelled() const { return wins_modelled_; }

 private:
  std::vector<int> creative_offset_;  // per campaign: its first creative's entry in LoggedOutcome::model
  UserResponse& synthetic_;
  int64_t wins_logged_ = 0;
  int64_t wins_modelled_ = 0;
};

}  // namespace adsim::engine

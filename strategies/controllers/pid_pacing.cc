// pid_pacing: spends a campaign's daily budget along the day's traffic curve
// (or evenly in time), and its total (lifetime) budget along the flight's
// expected traffic, by steering its base bid with a PID controller.
//
// Each control cycle, at time t:
//   daily budget only:
//     target(t) = share of the day's expected traffic before t (curve "traffic"),
//                 or the elapsed share of the day (curve "even"), renormalised
//                 over what is left of the first day when the run starts mid-day;
//     e(t)      = target(t) - spend_today / daily_budget   (> 0: underspending);
//   total budget only (lifetime pacing):
//     F(t)      = share of the flight's expected traffic before t, from the
//                 channels' hour-of-day and day-of-week profiles (FlightTrafficCurve),
//                 or t / duration (curve "even");
//     e(t)      = (total_budget * F(t) - spend_total) / (average day's budget),
//                 the average day's budget being total_budget * 1 day / duration;
//   both (and pace_total): today's plan is the smaller of the daily budget and
//     the lifetime plan's share of today, what was left of the total at the
//     start of the day spread over the rest of the flight by F:
//       left     = total_budget - spend before today
//       plan     = min(daily_budget, left * (F(day end) - F(day start)) / (1 - F(day start)))
//       target   = min(daily_budget * daily target(t), left * (F(t) - F(day start)) / (1 - F(day start)))
//       e(t)     = (target - spend_today) / plan;
//   I        += e * dt_hours (clamped to +-integral_limit);
//   bid       = reference_bid * exp(kp * e + ki * I + kd * de/dt_hours),
// clamped to [min_multiplier, max_multiplier] x reference bid, with
// conditional integration as anti-windup (the integral is frozen while the
// output is saturated in the direction of the error). The integral carries
// over from day to day: it holds the bid level learned on earlier days. The
// reference bid is the campaign's bid when the run starts. The request is
// limited to within min(max_change, review_threshold) of the current bid, so
// the guardrails never hold it; they still bound every change.
#include <algorithm>
#include <cmath>

#include "core/pacing_target.h"
#include "core/registry.h"
#include "strategies/lib/traffic_curve.h"

namespace adsim::controllers {
namespace {

class PidPacing final : public Controller, public PacingTargetSource {
 public:
  PidPacing(const BuildContext& ctx)
      : scenario_(*ctx.scenario),
        kp_(ctx.params.Number("kp")),
        ki_(ctx.params.Number("ki")),
        kd_(ctx.params.Number("kd")),
        min_mult_(ctx.params.Number("min_multiplier")),
        max_mult_(ctx.params.Number("max_multiplier")),
        integral_limit_(ctx.params.Number("integral_limit")),
        even_(ctx.params.String("curve") == "even"),
        pace_total_(ctx.params.Bool("pace_total")),
        flight_(*ctx.scenario, ctx.campaign, even_) {}

  void OnCycle(const Snapshot& snap, int campaign, std::vector<Action>* actions) override {
    const CampaignState& st = snap.campaigns[campaign];
    has_target_ = false;
    if (reference_bid_ <= 0) reference_bid_ = st.initial_bid;
    // A spent total budget ends the flight: raising the bid would buy nothing.
    if (std::isfinite(st.total_budget) && st.spend_total >= st.total_budget) return;
    const double hours = static_cast<double>(snap.control_cycle) / kMicrosPerHour;
    const bool total = std::isfinite(st.total_budget);
    double e;
    if (std::isfinite(st.daily_budget)) {
      if (st.daily_budget <= 0) return;  // nothing may be spent: nothing to pace
      // The first day may start mid-day: TargetSpendFraction paces what is left of it.
      double plan = st.daily_budget;
      double target = st.daily_budget * TargetSpendFraction(snap, scenario_, campaign, even_);
      if (total && pace_total_) {
        // The lifetime plan: what was left of the total at the start of the
        // day, spread over the rest of the flight along its expected traffic.
        const SimTime day_end =
            snap.day_start == 0 ? kMicrosPerDay - scenario_.start_offset_in_day : snap.day_start + kMicrosPerDay;
        const double left = std::max(0.0, st.total_budget - (st.spend_total - st.spend_today));
        const double f0 = flight_.Share(snap.day_start);
        const double rest = std::max(1e-12, 1.0 - f0);
        plan = std::min(plan, left * (flight_.Share(day_end) - f0) / rest);
        target = std::min(target, left * (flight_.Share(snap.time) - f0) / rest);
      }
      if (plan <= 0) return;  // the lifetime plan leaves nothing for today
      e = (target - st.spend_today) / plan;
      SetTarget(campaign, false, target, plan);
    } else if (total) {
      if (st.total_budget <= 0) return;
      // In units of an average day's budget, so the gains mean the same as
      // with a daily budget whatever the flight's length.
      const double day_budget = st.total_budget * static_cast<double>(kMicrosPerDay) /
                                static_cast<double>(std::max<SimTime>(scenario_.duration, kMicrosPerDay));
      e = (st.total_budget * flight_.Share(snap.time) - st.spend_total) / day_budget;
      SetTarget(campaign, true, st.total_budget * flight_.Share(snap.time), st.total_budget);
    } else {
      return;  // nothing to pace
    }
    const double deriv = has_prev_ ? (e - prev_error_) / hours : 0.0;
    prev_error_ = e;
    has_prev_ = true;
    // Conditional integration (anti-windup): the integral moves only while the
    // output is inside its bounds or the error pulls it back inside, so a long
    // saturated stretch does not leave a debt that takes hours to unwind.
    const double trial = std::clamp(integral_ + e * hours, -integral_limit_, integral_limit_);
    const double u = kp_ * e + ki_ * trial + kd_ * deriv;
    const bool saturated_high = u > std::log(max_mult_) && e > 0;
    const bool saturated_low = u < std::log(min_mult_) && e < 0;
    if (!saturated_high && !saturated_low) integral_ = trial;
    const double mult = std::clamp(std::exp(kp_ * e + ki_ * integral_ + kd_ * deriv), min_mult_, max_mult_);
    Action a;
    a.kind = ActionKind::kSetBid;
    a.campaign = campaign;
    // Ask only for what the guardrails would apply this cycle: a request
    // beyond review_threshold would be held (not applied) cycle after cycle,
    // freezing the bid far from where the law wants it.
    const GuardrailSpec& g = scenario_.campaigns[campaign].guardrails;
    const double step = std::min(g.max_change, g.review_threshold);
    a.value = std::clamp(reference_bid_ * mult, st.bid * (1 - step), st.bid * (1 + step));
    a.reason = "pacing error " + std::to_string(e);
    a.metric = "pacing_error";  // (target spend - spend) / plan; the controller drives it to 0
    a.observed = e;
    a.threshold = 0.0;
    if (std::fabs(a.value - st.bid) > 1e-9 * std::max(1.0, st.bid)) actions->push_back(a);
  }

  bool LastPacingTarget(PacingTarget* target) const override {
    if (has_target_) *target = target_;
    return has_target_;
  }

 private:
  void SetTarget(int campaign, bool flight, double target_spend, double budget) {
    target_ = {campaign, flight, target_spend, budget};
    has_target_ = true;
  }

  const PublicScenario& scenario_;
  double kp_, ki_, kd_, min_mult_, max_mult_, integral_limit_;
  bool even_, pace_total_;
  FlightTrafficCurve flight_;
  double reference_bid_ = 0;
  double integral_ = 0, prev_error_ = 0;
  bool has_prev_ = false;
  PacingTarget target_;  // the target of the last OnCycle, for the result's pacing_target table
  bool has_target_ = false;
};

ADSIM_REGISTER_CONTROLLER(
    PidPacing, "pid_pacing",
    "PID pacing: steers the base bid so spend follows the expected traffic to the daily and lifetime budgets.",
    NumberParam("kp", 3.0, "proportional gain on the normalised cumulative spend error", 0, 100),
    NumberParam("ki", 1.0, "integral gain, per hour", 0, 100), NumberParam("kd", 0.0, "derivative gain, hours", 0, 100),
    NumberParam("min_multiplier", 0.05, "lowest bid as a multiple of the reference bid", 0, 1),
    NumberParam("max_multiplier", 5.0, "highest bid as a multiple of the reference bid", 1, 1000),
    NumberParam("integral_limit", 5.0, "anti-windup bound on the integral term, hours", 0, 1000),
    StringParam("curve", "traffic", "target curve: 'traffic' (expected traffic share) or 'even' (time)",
                {"traffic", "even"}),
    BoolParam("pace_total", true,
              "with both budgets, also keep today's spend within the lifetime plan of the total budget"));

}  // namespace
}  // namespace adsim::controllers

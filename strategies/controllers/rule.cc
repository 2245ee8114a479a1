// rule: one declarative rule on a campaign, evaluated each control cycle on
// the snapshot, e.g. "if CPA over the last 2 h exceeds 1.3 x target for 2
// cycles, lower the bid by 10%" or "if ROAS is 1.5 x target and budget
// remains, raise the daily budget by 20%". Several rules on one campaign are
// several instances (give each a label); their `priority` (a component key,
// next to type and params) decides which wins a setting within a cycle.
//
//   value     = metric over the last window_hours (campaign totals; cpa =
//               spend / conversions, roas = value / spend, ctr, cvr, cpc)
//   reference = threshold x the campaign's goal (relative_to: goal) or
//               threshold itself (relative_to: absolute)
//   condition = value above (or below) reference, with at least
//               min_evidence of the metric's denominator in the window, and
//               budget left today if require_budget_left
//   fires when the condition has held for `for_cycles` consecutive cycles
//   and no firing happened within `cooldown_hours`; the action is one of
//   scale_bid, scale_daily_budget (value x (1 + amount)), pause, resume.
#include <cmath>
#include <deque>

#include "core/registry.h"

namespace adsim::controllers {
namespace {

class Rule final : public Controller {
 public:
  explicit Rule(const BuildContext& ctx)
      : metric_(ctx.params.String("metric")),
        above_(ctx.params.String("condition") == "above"),
        threshold_(ctx.params.Number("threshold")),
        relative_to_goal_(ctx.params.String("relative_to") == "goal"),
        window_(std::max<int64_t>(
            1, static_cast<int64_t>(ctx.params.Number("window_hours") * kMicrosPerHour) / ctx.scenario->control_cycle)),
        for_cycles_(static_cast<int>(ctx.params.Number("for_cycles"))),
        action_(ctx.params.String("action")),
        amount_(ctx.params.Number("amount")),
        require_budget_(ctx.params.Bool("require_budget_left")),
        min_evidence_(ctx.params.Number("min_evidence")),
        cooldown_(static_cast<SimTime>(ctx.params.Number("cooldown_hours") * kMicrosPerHour)) {}

  void OnCycle(const Snapshot& snap, int campaign, std::vector<Action>* actions) override {
    if (snap.time == 0) return;
    history_.push_back(snap.CampaignTotal(snap.last_cycle, campaign));
    while (static_cast<int64_t>(history_.size()) > window_) history_.pop_front();
    // A rule "over the last N hours" waits for N hours of history: early
    // windows see spend before its (delayed) conversions.
    if (static_cast<int64_t>(history_.size()) < window_) return;
    ObservedStats w;
    for (const auto& o : history_) w.Add(o);
    const CampaignState& st = snap.campaigns[campaign];
    double num = 0, den = 0;
    if (metric_ == "cpa") {
      num = w.spend;
      den = static_cast<double>(w.conversions);
    } else if (metric_ == "roas") {
      num = w.conversion_value;
      den = w.spend;
    } else if (metric_ == "ctr") {
      num = static_cast<double>(w.clicks);
      den = static_cast<double>(w.impressions);
    } else if (metric_ == "cvr") {
      num = static_cast<double>(w.conversions);
      den = static_cast<double>(w.clicks);
    } else {
      num = w.spend;
      den = static_cast<double>(w.clicks);
    }  // cpc
    double reference = threshold_;
    if (relative_to_goal_) {
      const bool has_goal =
          (metric_ == "cpa" && st.goal == GoalKind::kCpa) || (metric_ == "roas" && st.goal == GoalKind::kRoas);
      if (!has_goal) return;  // nothing to compare with
      reference = threshold_ * st.goal_value;
    }
    bool holds = den >= std::max(min_evidence_, 1e-12);
    if (holds) {
      const double value = num / den;
      holds = above_ ? value > reference : value < reference;
      last_value_ = value;
    }
    if (holds && require_budget_) holds = !std::isfinite(st.daily_budget) || st.spend_today < st.daily_budget;
    streak_ = holds ? streak_ + 1 : 0;
    if (streak_ < for_cycles_ || snap.time < quiet_until_) return;
    quiet_until_ = snap.time + cooldown_;
    streak_ = 0;
    Action a;
    a.campaign = campaign;
    a.reason = metric_ + " " + std::to_string(last_value_) + (above_ ? " above " : " below ") +
               std::to_string(reference) + " for " + std::to_string(for_cycles_) + " cycles";
    a.metric = metric_;
    a.observed = last_value_;
    a.threshold = reference;
    if (action_ == "scale_bid") {
      a.kind = ActionKind::kSetBid;
      a.value = st.bid * (1 + amount_);
    } else if (action_ == "scale_daily_budget") {
      if (!std::isfinite(st.daily_budget)) return;
      a.kind = ActionKind::kSetDailyBudget;
      a.value = st.daily_budget * (1 + amount_);
    } else {
      a.kind = action_ == "pause" ? ActionKind::kPauseCampaign : ActionKind::kResumeCampaign;
    }
    actions->push_back(a);
  }

 private:
  std::string metric_;
  bool above_;
  double threshold_;
  bool relative_to_goal_;
  int64_t window_;
  int for_cycles_;
  std::string action_;
  double amount_;
  bool require_budget_;
  double min_evidence_;
  SimTime cooldown_;
  std::deque<ObservedStats> history_;
  int streak_ = 0;
  SimTime quiet_until_ = 0;
  double last_value_ = 0;
};

ADSIM_REGISTER_CONTROLLER(
    Rule, "rule",
    "Declarative rule: if a windowed metric is above/below a threshold for N cycles, act (with cooldown).",
    StringParam("metric", "cpa", "the metric over the window", {"cpa", "roas", "ctr", "cvr", "cpc"}),
    StringParam("condition", "above", "fire when the metric is above or below the reference", {"above", "below"}),
    NumberParam("threshold", 1.3, "reference = threshold x goal (relative_to goal) or threshold", 0, 1e12),
    StringParam("relative_to", "goal", "goal (the campaign's CPA or ROAS target) or absolute", {"goal", "absolute"}),
    NumberParam("window_hours", 2, "window of the metric", 0.01, 100000),
    NumberParam("for_cycles", 2, "consecutive cycles the condition must hold", 1, 100000),
    StringParam("action", "scale_bid", "what to do", {"scale_bid", "scale_daily_budget", "pause", "resume"}),
    NumberParam("amount", -0.1, "relative change for scale actions (-0.1 = lower by 10%)", -1, 100),
    BoolParam("require_budget_left", false, "only while today's budget is not spent"),
    NumberParam("min_evidence", 1, "denominator needed in the window (conversions for cpa, ...)", 0, 1e15),
    NumberParam("cooldown_hours", 4, "quiet time after the rule fires", 0, 100000));

}  // namespace
}  // namespace adsim::controllers

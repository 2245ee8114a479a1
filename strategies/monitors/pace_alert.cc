// pace_alert: predictive alerts. Each control cycle it projects every
// campaign's end-of-day spend, CPA and ROAS from the pace so far along the
// day's expected traffic curve (monitors::ForecastDay) and alerts before a
// target is breached: the daily budget exhausted before the day ends, the CPA
// above its goal, the ROAS below its goal. One alert per campaign, kind and day.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/argument_checks.h"
#include "core/registry.h"
#include "strategies/lib/traffic_curve.h"
#include "strategies/monitors/lib/detectors.h"

namespace adsim::monitors {
namespace {

class PaceAlert final : public Monitor {
 public:
  explicit PaceAlert(const BuildContext& ctx) : scenario_(*ctx.scenario) {
    targets_.confidence = ctx.params.Number("confidence");
    targets_.min_elapsed_share = ctx.params.Number("min_elapsed_share");
    targets_.min_conversions = ctx.params.Number("min_conversions");
    targets_.overdispersion = ctx.params.Number("overdispersion");
  }

  void OnCycle(const Snapshot& snap, std::vector<Alert>* alerts) override {
    const SimTime tod = ((snap.time + scenario_.start_offset_in_day) % kMicrosPerDay + kMicrosPerDay) % kMicrosPerDay;
    const int64_t day = (snap.time + scenario_.start_offset_in_day) / kMicrosPerDay;
    for (size_t c = 0; c < snap.campaigns.size(); ++c) {
      const CampaignState& st = snap.campaigns[c];
      const ObservedStats today = snap.CampaignTotal(snap.today, static_cast<int>(c));
      monitors::DayProgress progress;
      progress.time_of_day = tod;
      progress.spend_usd = today.spend;
      progress.spend_events = today.impressions;
      progress.conversions = static_cast<double>(today.conversions);
      progress.value_usd = today.conversion_value;
      monitors::PaceTargets t = targets_;
      t.daily_budget_usd = std::isfinite(st.daily_budget) ? st.daily_budget : monitors::kUnknown;
      t.target_cpa_usd = st.goal == GoalKind::kCpa ? st.goal_value : monitors::kUnknown;
      t.target_roas = st.goal == GoalKind::kRoas ? st.goal_value : monitors::kUnknown;
      if (tod == 0 || progress.spend_events == 0) continue;
      const monitors::PaceForecast f = monitors::ForecastDay(Curve(static_cast<int>(c)), progress, t);
      auto raise = [&](const char* kind, double value, double expected, const std::string& message) {
        int64_t& last = last_day_[{static_cast<int>(c), kind}];
        if (last == day + 1) return;  // already raised today (stored as day + 1; 0 = never)
        last = day + 1;
        Alert a;
        a.campaign = static_cast<int>(c);
        a.metric = kind;
        a.value = value;
        a.expected = expected;
        a.score = expected != 0 ? value / expected - 1 : 0;
        a.severity = "warning";
        a.message = message;
        alerts->push_back(a);
      };
      if (f.budget_alert) {
        // Never a forecast for a time that has passed: a budget already spent
        // is reported as a fact, a projection with its interval.
        // Spent: a campaign stops bidding when the rest of its budget cannot
        // pay for a bid, so "reached" is within 0.1% of the budget.
        if (progress.spend_usd >= 0.999 * t.daily_budget_usd) {
          raise("spend_forecast", progress.spend_usd, t.daily_budget_usd,
                "daily budget already spent by " + FormatTime(tod) + " (" + FormatMoney(progress.spend_usd) + " of " +
                    FormatMoney(t.daily_budget_usd) + ")");
        } else {
          raise("spend_forecast", f.projected_spend_usd, t.daily_budget_usd,
                "daily budget " + FormatMoney(t.daily_budget_usd) + " projected to run out at about " +
                    FormatTime(std::max(f.projected_exhaustion, tod)) + ": day's spend projected " +
                    FormatMoney(f.projected_spend_usd) + ", " + FormatNumber(100 * (2 * t.confidence - 1)) +
                    "% interval " + FormatMoney(f.spend_low_usd) + " to " + FormatMoney(f.spend_high_usd) + ", from " +
                    FormatNumber(std::round(1000 * f.elapsed_share) / 10) + "% of the day's traffic");
        }
      }
      if (f.cpa_alert) raise("cpa_forecast", f.projected_cpa_usd, t.target_cpa_usd, "CPA projected above target");
      if (f.roas_alert) raise("roas_forecast", f.projected_roas, t.target_roas, "ROAS projected below target");
    }
  }

 private:
  static std::string FormatMoney(double usd) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", usd);
    return buf;
  }
  static std::string FormatTime(SimTime tod) {
    if (tod == kNever) return "(never)";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(tod / kMicrosPerHour),
                  static_cast<int>((tod / kMicrosPerMinute) % 60));
    return buf;
  }
  // The campaign's expected traffic by hour: its channels' hourly profiles
  // weighted by their volumes (public knowledge, as for pacing).
  monitors::TrafficCurve Curve(int campaign) {
    auto it = curves_.find(campaign);
    if (it != curves_.end()) return it->second;
    const std::array<double, 24> w = CampaignHourlyTraffic(scenario_, campaign);
    const std::vector<double> shares(w.begin(), w.end());
    double total = 0;
    for (double v : shares) total += v;
    monitors::TrafficCurve curve = total > 0 ? monitors::TrafficCurve{shares} : monitors::TrafficCurve::Uniform(24);
    curves_.emplace(campaign, curve);
    return curve;
  }

  const PublicScenario& scenario_;
  monitors::PaceTargets targets_;
  std::map<int, monitors::TrafficCurve> curves_;
  std::map<std::pair<int, std::string>, int64_t> last_day_;
};

ADSIM_REGISTER_MONITOR(
    PaceAlert, "pace_alert",
    "Predictive alerts: projects end-of-day spend, CPA and ROAS from the pace so far and alerts before a breach.",
    NumberParam("confidence", 0.9, "one-sided confidence that the breach happens", 0.5, 0.9999),
    NumberParam("min_elapsed_share", 0.0,
                "share of the day's traffic before the first alert; 0 = from the first cycle (the prediction interval "
                "is wide early on and states the uncertainty)",
                0.0, 1.0),
    NumberParam("min_conversions", 5, "conversions needed before CPA or ROAS alerts", 0, 1e9),
    NumberParam("overdispersion", 1.0, "variance multiplier for day-to-day variation", 1.0, 100));

}  // namespace
}  // namespace adsim::monitors

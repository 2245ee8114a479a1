// Monitors in the engine: alerts reach the result and the controllers in the
// same cycle, scoring against injected shocks is exact on hand-made cases, and
// the shipped monitors detect what they are for without a flood of false alarms.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/monitor_scoring.h"
#include "core/registry.h"
#include "strategies/monitors/lib/detectors.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;

ShockSpec Shock(SimTime start, SimTime end, std::vector<int> channels = {}) {
  ShockSpec s;
  s.start = start;
  s.end = end;
  s.channels = std::move(channels);
  return s;
}

Alert At(const std::string& monitor, SimTime t, int channel = -1) {
  Alert a;
  a.monitor = monitor;
  a.time = t;
  a.channel = channel;
  return a;
}

TEST(MonitorScoring, HandWorkedRecallPrecisionDelayAndFalseAlarms) {
  const SimTime h = kMicrosPerHour;
  // Two shocks over 4 days, grace 2h: [24h, 30h) on channel 0 and [60h, 62h) everywhere.
  // Windows with grace: [24h, 32h) and [60h, 64h): 12h covered, 84h = 3.5 days shock-free.
  const std::vector<ShockSpec> shocks = {Shock(24 * h, 30 * h, {0}), Shock(60 * h, 62 * h)};
  const std::vector<Alert> alerts = {
      At("m", 25 * h, 0),  // detects shock 1 after 60 min
      At("m", 26 * h, 0),  // second true alert
      At("m", 27 * h, 1),  // channel 1 is not shocked: not explained, but inside a window (not a false alarm)
      At("m", 63 * h),     // detects shock 2 after 180 min (inside grace)
      At("m", 10 * h),     // false alarm
      At("m", 80 * h),     // false alarm
      At("other", 50 * h),
  };
  const auto scores = ScoreMonitors({"m", "other"}, alerts, shocks, 96 * h, 2 * h);
  ASSERT_EQ(scores.size(), 2u);
  const MonitorScore& m = scores[0];
  EXPECT_EQ(m.alerts, 6);
  EXPECT_EQ(m.true_alerts, 3);
  EXPECT_EQ(m.detected, 2);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.precision, 0.5);
  // Delays 60 and 180 min: median 120, p90 = 60 + 0.9 x 120 = 168.
  EXPECT_DOUBLE_EQ(m.delay_median_min, 120.0);
  EXPECT_DOUBLE_EQ(m.delay_p90_min, 168.0);
  EXPECT_DOUBLE_EQ(m.shock_free_days, 3.5);
  EXPECT_DOUBLE_EQ(m.false_alarms_per_day, 2 / 3.5);
  EXPECT_DOUBLE_EQ(scores[1].recall, 0.0);
  EXPECT_TRUE(std::isnan(scores[1].delay_median_min));
}

// Raises one alert at a given cycle.
class OneAlert final : public Monitor {
 public:
  explicit OneAlert(const BuildContext& ctx) : at_(static_cast<int>(ctx.params.Number("at_cycle"))) {}
  void OnCycle(const Snapshot&, std::vector<Alert>* alerts) override {
    if (++cycle_ != at_) return;
    Alert a;
    a.campaign = 0;
    a.metric = "test";
    a.severity = "critical";
    alerts->push_back(a);
  }

 private:
  int at_, cycle_ = 0;
};
const Registration kOneAlert({.name = "test_one_alert",
                              .kind = ComponentKind::kMonitor,
                              .description = "test: one alert",
                              .params = {NumberParam("at_cycle", 5, "cycle")},
                              .campaign_scoped = false,
                              .origin = "C++",
                              .make_bidder = nullptr,
                              .make_controller = nullptr,
                              .make_monitor = [](const BuildContext& ctx) -> std::unique_ptr<Monitor> {
                                return std::make_unique<OneAlert>(ctx);
                              }});

// Pauses a campaign named by a critical alert, in the cycle that raised it.
class Escalate final : public Controller {
 public:
  void OnCycle(const Snapshot& snap, int, std::vector<Action>* actions) override {
    for (const Alert& a : snap.alerts) {
      if (a.severity != "critical" || a.campaign < 0) continue;
      Action act;
      act.kind = ActionKind::kPauseCampaign;
      act.campaign = a.campaign;
      act.reason = "critical alert from " + a.monitor;
      actions->push_back(act);
    }
  }
};
const Registration kEscalate({.name = "test_escalate",
                              .kind = ComponentKind::kController,
                              .description = "test: pause on critical alerts",
                              .params = {},
                              .campaign_scoped = false,
                              .origin = "C++",
                              .make_bidder = nullptr,
                              .make_controller = [](const BuildContext&) -> std::unique_ptr<Controller> {
                                return std::make_unique<Escalate>();
                              }});

TEST(Monitors, AlertsReachTheResultAndControllersInTheSameCycle) {
  const Results r = RunScenario(test::Parse(test::SmallScenario(
      "monitors: [{type: test_one_alert, params: {at_cycle: 5}}]\ncontrollers: [test_escalate]\n")));
  const auto& at = Col<int64_t>(r, "alerts", "time");
  ASSERT_EQ(at.size(), 1u);
  EXPECT_EQ(at[0], 4 * 15 * kMicrosPerMinute);  // cycle 5: cycles run at 0, 15, 30, 45 and 60 min
  EXPECT_EQ(Col<std::string>(r, "alerts", "monitor")[0], "test_one_alert");
  const auto& kind = Col<std::string>(r, "actions", "kind");
  ASSERT_EQ(kind.size(), 1u);
  EXPECT_EQ(kind[0], "pause_campaign");
  EXPECT_EQ(Col<int64_t>(r, "actions", "time")[0], at[0]);
  EXPECT_EQ(Col<std::string>(r, "actions", "reason")[0], "critical alert from test_one_alert");
  EXPECT_EQ(Col<std::string>(r, "monitor_scores", "monitor")[0], "test_one_alert");
}

std::string CtrScenario(const std::string& extra) {
  return "name: ctr\nseed: 5\nduration: 4d\ncontrol_cycle: 15m\n"
         "channels:\n  - name: display\n    traffic: {per_hour: 40000}\n"
         "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
         "segments:\n  - {name: s, users: 200000, ctr: 0.01, cvr: 0.05}\n"
         "campaigns:\n  - {name: k, bid: 0.003}\n"
         "monitors: [kpi_cusum]\n" +
         extra;
}

TEST(KpiCusum, DetectsAClickRateDropQuicklyAndRarelyAlarmsOtherwise) {
  // A click-rate drop to 60% from day 2, 00:00 for 12 h.
  const Results shocked = RunScenario(test::Parse(
      CtrScenario("shocks: [{name: drop, start: 2d, end: 2d12h, multiply: {ctr: 0.6}}]\nalert_grace: 2h\n")));
  EXPECT_DOUBLE_EQ(Col<double>(shocked, "monitor_scores", "recall")[0], 1.0);
  // The CUSUM standardises with the series' own scale (binomial variance
  // plus the extra variance it measures), about 2 per-cycle standard
  // deviations for this 40% drop: with k = 0.5 and h = 5 it crosses after
  // about 5 / (2 - 0.5) = 3-4 cycles (measured: 90 minutes); allow eight
  // (2 hours).
  EXPECT_LE(Col<double>(shocked, "monitor_scores", "delay_median_min")[0], 120.0);
  // Without the shock: one series watched for 4 days = 384 cycles. One-sided
  // (drop) CUSUM, k = 0.5, h = 5: its in-control ARL is about twice the
  // two-sided 465, so the expected number of false alarms is under 384 / 930
  // = 0.41; the bound 0.41 + 4 sqrt(0.41) (Poisson) allows 2.
  const Results quiet = RunScenario(test::Parse(CtrScenario("")));
  EXPECT_LE(Col<int64_t>(quiet, "alerts", "time").size(), 2u);
  // The ARL used above is Siegmund's approximation for one side, k = 0.5,
  // h = 5 (938; the two-sided 465 of the published tables is half of it).
}

// The KPI monitors run the named detectors of series_detect.h (the ones
// `adsim detect` runs): each one detects the kind of shock it is meant for,
// every alert carries the detector's score in [0, 1] at or above the
// threshold its parameters map to, and a level shift that persists raises
// one alert, not one per cooldown.
std::string KpiScenario(const std::string& monitor, const std::string& shocks) {
  // Ten times CtrScenario's traffic (CTR 1%): a 40% drop is then about 6 of
  // the series' standard deviations per cycle (measured: z = -5.9 at the
  // first shocked cycle), enough for the point detectors (ewma, seasonal,
  // tail). At CtrScenario's traffic it is about 2 per cycle, which only the
  // CUSUM accumulates: the others take it as the new level after 3 cycles
  // without an alert (the re-level rule).
  std::string s = CtrScenario(shocks + "alert_grace: 2h\n");
  s.replace(s.find("per_hour: 40000"), std::string("per_hour: 40000").size(), "per_hour: 400000");
  s.replace(s.find("monitors: [kpi_cusum]"), std::string("monitors: [kpi_cusum]").size(),
            "monitors: [" + monitor + "]");
  return s;
}

struct KpiCase {
  std::string monitor;
  double threshold;  // the score threshold the monitor's parameters map to
};
const std::vector<KpiCase>& KpiCases() {
  static const std::vector<KpiCase> kCases = {
      // CUSUM, k 0.5, h 5, one side: 1 - e^(-5).
      {"{type: kpi_cusum, params: {side: drop}}", 1.0 - std::exp(-5.0)},
      // EWMA level, L 2.9 sd below (the default): 1 - P(Z >= 2.9).
      {"{type: kpi_ewma, params: {side: drop}}", 1.0 - 0.5 * std::erfc(2.9 / std::sqrt(2.0))},
      // Hour-of-day profile (2 days of 15-min cycles per slot visit count 8).
      {"{type: kpi_seasonal, params: {side: drop, threshold: 4}}", 1.0 - 0.5 * std::erfc(4.0 / std::sqrt(2.0))},
      {"{type: kpi_tail, params: {side: drop}}", 1.0 - 1e-3},
  };
  return kCases;
}

TEST(KpiMonitors, EachDetectsAClickRateDropWithAScoreInZeroOne) {
  // A click-rate drop to 60% on day 2, 12:00-24:00 (after the seasonal
  // detector's 2 days of slot visits): about 9,000 impressions per cycle at
  // CTR 1% make it 3.8 standard errors per cycle.
  for (const KpiCase& c : KpiCases()) {
    const Results r = RunScenario(
        test::Parse(KpiScenario(c.monitor, "shocks: [{name: drop, start: 2d12h, end: 3d, multiply: {ctr: 0.6}}]\n")));
    EXPECT_DOUBLE_EQ(Col<double>(r, "monitor_scores", "recall")[0], 1.0) << c.monitor;
    EXPECT_LE(Col<double>(r, "monitor_scores", "delay_median_min")[0], 60.0) << c.monitor;
    const auto& score = Col<double>(r, "alerts", "score");
    ASSERT_FALSE(score.empty()) << c.monitor;
    for (double x : score) {
      EXPECT_LE(x, 1.0) << c.monitor;
      EXPECT_GE(x, c.threshold * (1.0 - 1e-12)) << c.monitor;
    }
  }
}

TEST(KpiMonitors, APersistingLevelShiftRaisesOneAlert) {
  // The click rate drops to 60% at day 2, 12:00 and stays there for the last
  // 36 hours (144 cycles, 18 cooldowns of 8 cycles): the adapting baselines
  // take the new level after the alert, so no further alert follows.
  for (const KpiCase& c : KpiCases()) {
    if (c.monitor.find("kpi_tail") != std::string::npos) continue;  // a window, not a level: see below
    const Results r = RunScenario(
        test::Parse(KpiScenario(c.monitor, "shocks: [{name: shift, start: 2d12h, end: 4d, multiply: {ctr: 0.6}}]\n")));
    const auto& time = Col<int64_t>(r, "alerts", "time");
    const auto in_shift = std::count_if(time.begin(), time.end(), [](int64_t t) { return t >= 60 * kMicrosPerHour; });
    EXPECT_EQ(in_shift, 1) << c.monitor;
  }
}

TEST(KpiMonitors, TrendDetectsARampThatJumpDetectorsCanMiss) {
  // The click rate ramps down to 40% over day 2 12:00 - day 3 12:00.
  const Results r = RunScenario(test::Parse(
      KpiScenario("{type: kpi_trend, params: {side: drop}}",
                  "shocks: [{name: drift, start: 2d12h, end: 3d12h, shape: ramp, multiply: {ctr: 0.4}}]\n")));
  EXPECT_DOUBLE_EQ(Col<double>(r, "monitor_scores", "recall")[0], 1.0);
  for (double x : Col<double>(r, "alerts", "score")) {
    EXPECT_LE(x, 1.0);
    EXPECT_GE(x, 1.0 - 1e-3);
  }
}

TEST(KpiMonitors, ParametersMappingOutsideTheDetectorsRangeNameTheMonitorField) {
  try {
    RunScenario(test::Parse(KpiScenario("{type: kpi_cusum, params: {h: 0.2, k: 0.5}}", "")));
    ADD_FAILURE() << "h 0.2 (score threshold 1 - e^-0.2 < 0.5) must be refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("monitors[0].params"), std::string::npos) << e.what();
  }
}

// Conversions reported 6 h (exponential mean) after the click on average,
// traffic that jumps sixfold at 07:00 and falls back at 21:00, and two cvr
// CUSUMs on the same series: one dividing the conversions reported in a
// cycle by its clicks ("raw"), one by its matured clicks
// (conversion_delay_hours: 6, the true mean). About 90 clicks per 15-minute cycle at night and 500
// by day, conversion rate 0.1.
std::string DelayedCvrScenario(const std::string& shocks) {
  return "name: cvr\nseed: 11\nduration: 4d\ncontrol_cycle: 15m\nalert_grace: 2h\n"
         "channels:\n  - name: display\n    traffic:\n      per_hour: 100000\n"
         "      hour_of_day: [0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 1.5, 1.5, 1.5, 1.5, 1.5,\n"
         "                    1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 0.5, 0.5, 0.5]\n"
         "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
         "segments:\n  - {name: s, users: 200000, ctr: 0.02, cvr: 0.1,\n"
         "     conversion_delay: {distribution: exponential, mean: 6h}}\n"
         "campaigns:\n  - {name: k, bid: 0.006}\n"
         "monitors:\n"
         "  - {type: kpi_cusum, label: raw, params: {metric: cvr, side: drop, min_trials: 20}}\n"
         "  - {type: kpi_cusum, label: corrected, params: {metric: cvr, side: drop, min_trials: 20, "
         "conversion_delay_hours: 6}}\n"
         "  - {type: kpi_cusum, label: fitted, params: {metric: cvr, side: drop, min_trials: 20, "
         "conversion_delay_fit_cycles: 192}}\n" +
         shocks;
}

int AlertsOf(const Results& r, const std::string& monitor) {
  const auto& m = Col<std::string>(r, "alerts", "monitor");
  return static_cast<int>(std::count(m.begin(), m.end(), monitor));
}

TEST(KpiCusum, ConversionDelayCorrectionRemovesTheMorningFalseDrops) {
  // No shock. At 07:00 the clicks per cycle jump sixfold while the
  // conversions reported still come mostly from the night's clicks: for the
  // first cycles of the day the raw ratio is about a fifth of the conversion
  // rate, some 6 standard errors (sqrt(0.1 x 0.9 / 500) = 13% of the rate)
  // below it, and it recovers over hours. Its CUSUM fires every morning.
  const Results r = RunScenario(test::Parse(DelayedCvrScenario("")));
  const int raw = AlertsOf(r, "raw"), corrected = AlertsOf(r, "corrected"), fitted = AlertsOf(r, "fitted");
  // The corrected ratio is in control: one-sided CUSUM k = 0.5, h = 5, ARL0
  // about 930 cycles (see above), 384 cycles watched: expected false alarms
  // under 0.41, and 0.41 + 4 sqrt(0.41) (Poisson) allows 2.
  EXPECT_LE(corrected, 2);
  // The delay fitted from the first 2 days of counts (no alert before): the
  // same bound over the 192 cycles charted live.
  EXPECT_LE(fitted, 2);
  // The raw ratio: at least one false drop on each of the 3 mornings after
  // the first day (the warm-up).
  EXPECT_GE(raw, 3);
  RecordProperty("delayed_cvr_alerts", std::to_string(raw) + " raw, " + std::to_string(corrected) + " corrected, " +
                                           std::to_string(fitted) + " fitted");
}

TEST(KpiCusum, ConversionDelayCorrectionStillDetectsARealConversionRateDrop) {
  // The conversion rate halves from day 2, 08:00 for 12 h. The conversions
  // reported in a cycle come from post-shock clicks in a share of about
  // 1 - e^{-tau / 6h} after tau hours (steady daytime clicks), so the
  // corrected ratio's expected standardised deficit grows as
  // 0.5 p0 (1 - e^{-tau/6h}) / se with se = sqrt(p0 (1 - p0) / 500) (p0 =
  // 0.1): summing (deficit - k), the expected CUSUM path reaches h = 5 after
  // 13 cycles (195 min). Allow 6 hours, nearly twice that, for the noise.
  const Results r = RunScenario(
      test::Parse(DelayedCvrScenario("shocks: [{name: drop, start: 2d8h, end: 2d20h, multiply: {cvr: 0.5}}]\n")));
  const auto& monitor = Col<std::string>(r, "monitor_scores", "monitor");
  std::string delays;
  for (const std::string name : {"corrected", "fitted"}) {  // fitted: from the first 2 days, before the shock
    const auto it = std::find(monitor.begin(), monitor.end(), name);
    ASSERT_NE(it, monitor.end());
    const size_t i = static_cast<size_t>(it - monitor.begin());
    EXPECT_DOUBLE_EQ(Col<double>(r, "monitor_scores", "recall")[i], 1.0) << name;
    EXPECT_LE(Col<double>(r, "monitor_scores", "delay_median_min")[i], 360.0) << name;
    EXPECT_GT(Col<double>(r, "monitor_scores", "delay_median_min")[i], 0.0) << name;
    delays += name + " " + std::to_string(Col<double>(r, "monitor_scores", "delay_median_min")[i]) + " ";
  }
  RecordProperty("delayed_cvr_drop_delay_min", delays);
}

TEST(KpiCusum, ConversionDelayParametersAreCheckedWithTheirField) {
  const std::string base = DelayedCvrScenario("");
  const std::string head = base.substr(0, base.find("conversion_delay_hours: 6"));
  for (const auto& [bad, field] : std::vector<std::pair<std::string, std::string>>{
           {"conversion_delay_hours: -2}}\n", "monitors[1].params.conversion_delay_hours"},
           {"conversion_delay_fit_cycles: 1}}\n", "monitors[1].params.conversion_delay_fit_cycles"}}) {
    try {
      RunScenario(test::Parse(head + bad));
      ADD_FAILURE() << bad << " must be refused";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
}

TEST(PaceAlert, WarnsEarlyWhenAFixedBidWillExhaustTheBudget) {
  // A fixed bid that spends the 40 daily budget by mid-morning: the forecast
  // must alert before the money runs out, every day.
  const Results r =
      RunScenario(test::Parse("name: pace\nseed: 3\nduration: 3d\ncontrol_cycle: 15m\n"
                              "channels:\n  - name: display\n    traffic: {per_hour: 40000}\n"
                              "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
                              "segments:\n  - {name: s, ctr: 0.01, cvr: 0.05}\n"
                              "campaigns:\n  - {name: k, bid: 0.004, budget: {daily: 40}}\n"
                              "monitors: [pace_alert]\n"));
  const auto& t = Col<int64_t>(r, "alerts", "time");
  const auto& metric = Col<std::string>(r, "alerts", "metric");
  ASSERT_EQ(t.size(), 3u);  // one per day
  const auto& day_spend = Col<double>(r, "daily", "spend");
  for (size_t i = 0; i < t.size(); ++i) {
    EXPECT_EQ(metric[i], "spend_forecast");
    EXPECT_EQ(t[i] / kMicrosPerDay, static_cast<int64_t>(i));
    EXPECT_LT(t[i] % kMicrosPerDay, 12 * kMicrosPerHour) << "day " << i;
    EXPECT_GE(day_spend[i], 0.999 * 40);  // the budget did run out: the alert was right
  }
}

TEST(PaceAlert, WarnsBeforeAFrontLoadedBudgetIsGone) {
  // A fixed bid with a daily budget of 20 that it spends in the small hours,
  // before 10% of the day's traffic has passed. The forecast runs from the
  // first cycle with its prediction interval (min_elapsed_share 0), so the
  // alert must come before the bucket in which the budget runs out, each day,
  // worded as a projection (a time of day not yet passed). With the old
  // default (wait for 10% of the traffic) it came after the money was gone.
  const std::string scenario =
      "name: pace\nseed: 3\nduration: 3d\ncontrol_cycle: 15m\nbucket: 15m\n"
      "channels:\n  - name: display\n    traffic: {per_hour: 40000}\n"
      "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
      "segments:\n  - {name: s, ctr: 0.01, cvr: 0.05}\n"
      "campaigns:\n  - {name: k, bid: 0.004, budget: {daily: 20}}\n";
  // The start of the bucket in which day d's cumulative spend reaches the budget.
  auto exhausted = [](const Results& r, int64_t day) {
    const auto& start = Col<int64_t>(r, "aggregates", "bucket_start");
    const auto& spend = Col<double>(r, "aggregates", "spend");
    std::map<int64_t, double> by_bucket;
    for (size_t i = 0; i < start.size(); ++i)
      if (start[i] / kMicrosPerDay == day) by_bucket[start[i]] += spend[i];
    double total = 0;
    for (const auto& [bucket, amount] : by_bucket) {
      total += amount;
      if (total >= 0.999 * 20) return bucket;
    }
    return kNever;
  };
  for (const bool old_default : {false, true}) {
    const Results r = RunScenario(
        test::Parse(scenario + (old_default ? "monitors: [{type: pace_alert, params: {min_elapsed_share: 0.1}}]\n"
                                            : "monitors: [pace_alert]\n")));
    const auto& t = Col<int64_t>(r, "alerts", "time");
    const auto& message = Col<std::string>(r, "alerts", "message");
    ASSERT_EQ(t.size(), 3u) << "one per day";
    for (size_t i = 0; i < t.size(); ++i) {
      const SimTime gone = exhausted(r, static_cast<int64_t>(i));
      ASSERT_NE(gone, kNever) << "day " << i << ": the budget did run out";
      if (old_default) {
        EXPECT_GT(t[i], gone) << "day " << i;  // too late: the bug this default fixed
        EXPECT_NE(message[i].find("already spent"), std::string::npos) << message[i];
        continue;
      }
      EXPECT_LE(t[i], gone) << "day " << i << ": " << message[i];
      // "... projected to run out at about HH:MM: ..." with HH:MM not before the alert.
      const size_t at = message[i].find("at about ");
      ASSERT_NE(at, std::string::npos) << message[i];
      const int hh = std::stoi(message[i].substr(at + 9, 2)), mm = std::stoi(message[i].substr(at + 12, 2));
      EXPECT_GE(hh * kMicrosPerHour + mm * kMicrosPerMinute, (t[i] % kMicrosPerDay) - kMicrosPerMinute) << message[i];
      EXPECT_NE(message[i].find("% interval"), std::string::npos) << message[i];
    }
  }
}

}  // namespace
}  // namespace adsim

namespace adsim {
namespace {

std::string RuleScenario(const std::string& campaign, const std::string& monitor, const std::string& shocks = "") {
  return "name: rules\nseed: 8\nduration: 3d\ncontrol_cycle: 15m\n"
         "channels:\n  - name: display\n    traffic: {per_hour: 40000}\n"
         "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
         "segments:\n  - {name: s, users: 200000, ctr: 0.01, cvr: 0.05}\n"
         "campaigns:\n  - " +
         campaign + "\nmonitors: [" + monitor + "]\n" + shocks;
}

TEST(AlertRule, PerformanceDropFiresInTheShockAndNowhereElse) {
  // CTR x0.5 from 36h to 48h; rule: 2-hour CTR below 0.7 x the previous 24 h,
  // with at least 5,000 impressions. Over 2 h (about 25,000 impressions, 250
  // clicks) the CTR estimate has a relative SE of 6%: a 50% drop is far below
  // 0.7, while ordinary noise stays far above it.
  const Results r = RunScenario(test::Parse(
      RuleScenario("{name: k, bid: 0.003}",
                   "{type: alert_rule, params: {rule: performance_drop, metric: ctr, threshold: 0.7, window_hours: 2, "
                   "baseline_hours: 24, min_evidence: 5000, cooldown_hours: 24}}",
                   "shocks: [{name: drop, start: 36h, end: 48h, multiply: {ctr: 0.5}}]\nalert_grace: 2h\n")));
  const auto& t = Col<int64_t>(r, "alerts", "time");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_GE(t[0], 36 * kMicrosPerHour);
  EXPECT_LE(t[0], 38 * kMicrosPerHour);  // once the 2-hour window is mostly shocked
  EXPECT_DOUBLE_EQ(Col<double>(r, "monitor_scores", "precision")[0], 1.0);
}

TEST(AlertRule, OpportunityNeedsBudgetLeft) {
  // CTR x1.8 from 36h to 48h; opportunity when the 2-hour CTR is above 1.4 x baseline.
  const std::string monitor =
      "{type: alert_rule, params: {rule: opportunity, metric: ctr, threshold: 1.4, window_hours: 2, "
      "baseline_hours: 24, min_evidence: 5000, cooldown_hours: 24}}";
  const std::string shock = "shocks: [{name: up, start: 36h, end: 48h, multiply: {ctr: 1.8}}]\n";
  const Results open = RunScenario(test::Parse(RuleScenario("{name: k, bid: 0.003}", monitor, shock)));
  EXPECT_EQ(Col<int64_t>(open, "alerts", "time").size(), 1u);
  // The same market with a daily budget spent by the early morning: no budget left, no opportunity alert.
  const Results spent =
      RunScenario(test::Parse(RuleScenario("{name: k, bid: 0.003, budget: {daily: 8}}", monitor, shock)));
  EXPECT_EQ(Col<int64_t>(spent, "alerts", "time").size(), 0u);
}

TEST(AlertRule, OverAndUnderpacing) {
  // Overpacing: a fixed bid that spends its 40 budget by mid-morning runs far
  // ahead of the traffic curve (ratio > 1.5) each day.
  const Results over = RunScenario(test::Parse(RuleScenario(
      "{name: k, bid: 0.004, budget: {daily: 40}}",
      "{type: alert_rule, params: {rule: overpacing, threshold: 1.5, min_elapsed: 0.05, cooldown_hours: 24}}")));
  const auto& t = Col<int64_t>(over, "alerts", "time");
  ASSERT_EQ(t.size(), 3u);
  for (int64_t x : t) EXPECT_LT(x % kMicrosPerDay, 10 * kMicrosPerHour);
  // Underpacing: a budget ten times what the bid can spend.
  const Results under = RunScenario(
      test::Parse(RuleScenario("{name: k, bid: 0.0015, budget: {daily: 5000}}",
                               "{type: alert_rule, params: {rule: underpacing, threshold: 0.5, cooldown_hours: 24}}")));
  EXPECT_EQ(Col<int64_t>(under, "alerts", "time").size(), 3u);
  EXPECT_EQ(Col<std::string>(under, "alerts", "metric")[0], "pacing_ratio");
}

}  // namespace
}  // namespace adsim

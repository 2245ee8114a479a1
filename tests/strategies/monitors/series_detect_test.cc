// The detectors on timestamped series (strategies/monitors/lib/series_detect.h):
// the properties the docs promise (one alarm per persisting level shift, the
// gap rule, scores in [0, 1] and monotone in the surprise, the shared
// cooldown, side selection, a nominal false alarm rate on heavy-tailed
// seasonal series with the log transform) and the CSV bad row policy.
// Statistical checks use fixed seeds and tolerances of 4 binomial standard
// errors.
#include "strategies/monitors/lib/series_detect.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <numbers>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace adsim::monitors {
namespace {

using Rng = boost::random::mt19937_64;

constexpr SimTime kStart = 1'772'409'600LL * kMicrosPerSecond;  // 2026-03-02T00:00:00Z, a Monday

// Log of an hourly cost with a daily rhythm (amplitude 0.35 in log units).
double Rhythm(SimTime t) {
  const double hour = static_cast<double>((t / kMicrosPerHour) % 24);
  return std::log(0.8) + 0.35 * std::sin(2 * std::numbers::pi * (hour - 9) / 24);
}

SeriesPoint At(SimTime t, double value) {
  SeriesPoint p;
  p.time = t;
  p.value = value;
  return p;
}

std::unique_ptr<SeriesDetector> Named(const std::string& name, std::map<std::string, std::string> params = {}) {
  if (params.count("transform") == 0) params["transform"] = "log";
  return MakeNamedDetector(name, params);
}

TEST(SeriesDetect, PersistingLevelShiftRaisesOneAlarmThenAdapts) {
  // 10 days of a log-normal hourly cost (sd 0.12 in logs; with a daily rhythm
  // for the seasonal detectors, flat for the profile-free ones), then the
  // level rises by 80% for 5 days. Under the model a false alarm at the
  // default threshold 0.999 has probability 1e-3 an hour (about 0.05 in the
  // 48 hours after the shift): the shift must give exactly one alarm in
  // those 48 hours, within 6 hours, and at the end the baseline must be the
  // new level.
  // (`cusum` alone is not in the list: on this series it alarms again 35
  // hours after the shift, while its level is re-estimated; see the docs.)
  for (const std::string name : {"default", "seasonal", "seasonal_cusum", "ewma"}) {
    const bool seasonal = name != "ewma" && name != "cusum";
    Rng rng(11);
    boost::random::normal_distribution<double> noise(0.0, 0.12);
    auto d = Named(name);
    const SimTime shift = kStart + 10 * kMicrosPerDay;
    auto level = [&](SimTime t) { return (seasonal ? Rhythm(t) : std::log(0.8)) + (t >= shift ? std::log(1.8) : 0.0); };
    std::vector<SimTime> alarms;
    SeriesVerdict last;
    for (SimTime t = kStart; t < kStart + 15 * kMicrosPerDay; t += kMicrosPerHour) {
      last = d->Update(At(t, std::exp(level(t) + noise(rng))));
      if (last.alarm) alarms.push_back((t - kStart) / kMicrosPerHour);
    }
    const auto in_window = std::count_if(alarms.begin(), alarms.end(), [](SimTime h) { return h >= 240 && h < 288; });
    ::testing::Message hours;
    for (const SimTime h : alarms) hours << h << " ";
    EXPECT_EQ(in_window, 1) << name << ": alarms at hours " << hours;
    EXPECT_TRUE(std::count(alarms.begin(), alarms.end(), 240) +
                    std::count_if(alarms.begin(), alarms.end(), [](SimTime h) { return h > 240 && h <= 246; }) ==
                1)
        << name << ": alarms at hours " << hours;
    // The last point's baseline is the new level's (within 3 residual sds in logs).
    EXPECT_NEAR(std::log(last.baseline), level(kStart + 15 * kMicrosPerDay - kMicrosPerHour), 3 * 0.12) << name;
  }
}

TEST(SeriesDetect, DayLongGapRestartsTheLevel) {
  // Five days at one level, a 24-hour gap, then the level is 50% higher.
  // The gap rule (spacing > 6 typical spacings) restarts the level from the
  // points after the gap: no alarm at the reconnect, and the baseline is the
  // new level after the re-warm. With the rule off (gap_factor huge) the same
  // series alarms at the reconnect.
  for (const bool rule : {true, false}) {
    Rng rng(12);
    boost::random::normal_distribution<double> noise(0.0, 0.1);
    auto d = Named("ewma", {{"gap_factor", rule ? "6" : "1e9"}});
    const SimTime back = kStart + 6 * kMicrosPerDay;
    int alarms_after_gap = 0;
    bool saw_gap_note = false;
    SeriesVerdict v;
    for (SimTime t = kStart; t < kStart + 8 * kMicrosPerDay; t += kMicrosPerHour) {
      if (t >= back - kMicrosPerDay && t < back) continue;
      v = d->Update(At(t, std::exp((t >= back ? std::log(1.5) : 0.0) + noise(rng))));
      if (t >= back && t < back + 12 * kMicrosPerHour) alarms_after_gap += v.alarm ? 1 : 0;
      if (t == back) saw_gap_note = v.reason.find("gap of 25 h") != std::string::npos;
    }
    if (rule) {
      EXPECT_TRUE(saw_gap_note);
      EXPECT_EQ(alarms_after_gap, 0);
      EXPECT_NEAR(std::log(v.baseline), std::log(1.5), 3 * 0.1);
    } else {
      EXPECT_FALSE(saw_gap_note);
      EXPECT_GE(alarms_after_gap, 1);
    }
  }
}

TEST(SeriesDetect, ScoresAreInUnitIntervalAndMonotoneInSurprise) {
  // Every named detector: scores in [0, 1] on a noisy series. Then, from one
  // warmed-up state, the score of a probe point rises with its distance from
  // the baseline, on both sides (side both).
  for (const auto& info : NamedDetectors()) {
    Rng rng(13);
    boost::random::normal_distribution<double> noise(0.0, 0.3);
    auto d = Named(info.name);
    for (SimTime t = kStart; t < kStart + 6 * kMicrosPerDay; t += kMicrosPerHour) {
      const SeriesVerdict v = d->Update(At(t, std::exp(Rhythm(t) + noise(rng))));
      ASSERT_GE(v.score, 0.0) << info.name;
      ASSERT_LE(v.score, 1.0) << info.name;
    }
  }
  // The point scores (not the CUSUM's, which is monotone in its sum, the
  // accumulated surprise, and can fall when one point goes against it).
  for (const std::string name : {"seasonal", "ewma", "tail"}) {
    std::vector<SeriesPoint> history;
    Rng rng(14);
    boost::random::normal_distribution<double> noise(0.0, 0.2);
    for (SimTime t = kStart; t < kStart + 5 * kMicrosPerDay; t += kMicrosPerHour)
      history.push_back(At(t, std::exp(Rhythm(t) + noise(rng))));
    const SimTime probe_time = kStart + 5 * kMicrosPerDay;
    // The expectation for the probe does not depend on the probe's value
    // (a point is scored before it is learnt): probe at baseline * e^{+-s}.
    double baseline = 0.0;
    {
      auto d = Named(name);
      for (const auto& p : history) d->Update(p);
      baseline = d->Update(At(probe_time, 1.0)).baseline;
    }
    for (const int sign : {1, -1}) {
      double previous = -1.0;
      for (double surprise = 0.0; surprise <= 3.0; surprise += 0.1) {
        auto d = Named(name, {{"cooldown_hours", "0"}});
        for (const auto& p : history) d->Update(p);
        const double score = d->Update(At(probe_time, baseline * std::exp(sign * surprise))).score;
        EXPECT_GE(score, previous) << name << " surprise " << sign * surprise;
        previous = score;
      }
      EXPECT_GT(previous, 0.999) << name;  // 3 log units is at least 10 residual sds here: certain
    }
  }
}

TEST(SeriesDetect, CooldownIsSharedByEveryDetector) {
  AlertCooldown cooldown(3 * kMicrosPerHour);
  EXPECT_TRUE(cooldown.Admit(0));
  EXPECT_FALSE(cooldown.Admit(2 * kMicrosPerHour));
  EXPECT_TRUE(cooldown.Admit(3 * kMicrosPerHour));
  // Two spikes (x20) eight hours apart after a calm week: every point
  // detector fires on both, and the second is suppressed by a 12-hour
  // cooldown (fired, no alarm), and allowed with a 2-hour one.
  for (const std::string name : {"seasonal", "seasonal_cusum", "ewma", "cusum", "tail"}) {
    for (const std::string hours : {"12", "2"}) {
      Rng rng(15);
      boost::random::normal_distribution<double> noise(0.0, 0.1);
      // tail restarts its window after an alarm: a window of 6 is full again by the second spike.
      auto d = name == "tail" ? Named(name, {{"cooldown_hours", hours}, {"window", "6"}})
                              : Named(name, {{"cooldown_hours", hours}});
      const SimTime spike = kStart + 7 * kMicrosPerDay;
      std::vector<SeriesVerdict> at_spikes;
      for (SimTime t = kStart; t <= spike + 8 * kMicrosPerHour; t += kMicrosPerHour) {
        const bool is_spike = t == spike || t == spike + 8 * kMicrosPerHour;
        const SeriesVerdict v = d->Update(At(t, std::exp(Rhythm(t) + noise(rng)) * (is_spike ? 20.0 : 1.0)));
        if (is_spike) at_spikes.push_back(v);
      }
      ASSERT_EQ(at_spikes.size(), 2u);
      EXPECT_TRUE(at_spikes[0].fired && at_spikes[0].alarm) << name;
      EXPECT_TRUE(at_spikes[1].fired) << name << " " << at_spikes[1].reason;
      EXPECT_EQ(at_spikes[1].alarm, hours == "2") << name << " " << at_spikes[1].reason;
    }
  }
}

TEST(SeriesDetect, SideSelectsTheDirection) {
  // A x10 spike and a x0.1 drop: side upper scores the drop ~0 and fires on
  // the spike only, side lower the reverse, both fires on both.
  for (const std::string side : {"upper", "lower", "both"}) {
    for (const double factor : {10.0, 0.1}) {
      Rng rng(16);
      boost::random::normal_distribution<double> noise(0.0, 0.1);
      auto d = Named("seasonal", {{"side", side}});
      const SimTime probe = kStart + 6 * kMicrosPerDay;
      SeriesVerdict v;
      for (SimTime t = kStart; t <= probe; t += kMicrosPerHour)
        v = d->Update(At(t, std::exp(Rhythm(t) + noise(rng)) * (t == probe ? factor : 1.0)));
      const bool armed = side == "both" || (side == "upper") == (factor > 1);
      EXPECT_EQ(v.alarm, armed) << side << " x" << factor << ": " << v.reason;
      if (!armed) {
        EXPECT_LT(v.score, 1e-6) << side << " x" << factor;
      }
    }
  }
}

TEST(SeriesDetect, LogTransformKeepsFalseAlarmRateNominalOnHeavyTails) {
  // 200 days of an anomaly-free hourly log-normal cost (sd 0.8 in logs:
  // the 1-in-10,000 hour is e^{3.72 * 0.8} = 20 times the median) with a
  // daily rhythm. With the log transform the residuals are normal, so the
  // share of scored points with score >= 0.99 is 0.01 and >= 0.999 is 0.001,
  // up to the estimation error of the baseline; tolerance 4 binomial se.
  // Without it (transform none) the heavy upper tail makes >= 0.999 far more
  // frequent than nominal.
  for (const std::string transform : {"log", "none"}) {
    Rng rng(17);
    boost::random::normal_distribution<double> noise(0.0, 0.8);
    auto d = Named("seasonal", {{"transform", transform}});
    int scored = 0, over_99 = 0, over_999 = 0, points = 0;
    for (SimTime t = kStart; t < kStart + 200 * kMicrosPerDay; t += kMicrosPerHour) {
      const SeriesVerdict v = d->Update(At(t, std::exp(Rhythm(t) + noise(rng))));
      if (++points <= 7 * 24) continue;  // the first week: warm-up and the 1/t start of the estimates
      ++scored;
      over_99 += v.score >= 0.99 ? 1 : 0;
      over_999 += v.score >= 0.999 ? 1 : 0;
    }
    const double n = scored;
    const double se_99 = std::sqrt(0.01 * 0.99 / n), se_999 = std::sqrt(0.001 * 0.999 / n);
    if (transform == "log") {
      EXPECT_NEAR(over_99 / n, 0.01, 4 * se_99) << over_99 << " of " << n;
      EXPECT_NEAR(over_999 / n, 0.001, 4 * se_999) << over_999 << " of " << n;
    } else {
      EXPECT_GT(over_999 / n, 0.001 + 4 * se_999) << over_999 << " of " << n;
    }
  }
}

TEST(SeriesDetect, RejectsUnknownDetectorsAndParameters) {
  EXPECT_THROW(MakeNamedDetector("nope", {}), ConfigError);
  EXPECT_THROW(MakeNamedDetector("seasonal", {{"lambda", "abc"}}), ConfigError);
  EXPECT_THROW(MakeNamedDetector("seasonal", {{"window", "3"}}), ConfigError);
  EXPECT_THROW(MakeNamedDetector("seasonal", {{"side", "up"}}), ConfigError);
  try {
    MakeNamedDetector("seasonal", {{"lamda", "0.1"}});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("lambda"), std::string::npos) << e.what();  // lists the valid names
  }
}

TEST(SeriesDetect, ParsesIsoTimestamps) {
  SimTime instant = 0, clock = 0;
  ASSERT_TRUE(ParseIsoTimestamp("2026-03-02T00:00:00", &instant, &clock));
  EXPECT_EQ(instant, kStart);
  ASSERT_TRUE(ParseIsoTimestamp("2026-03-02 01:30", &instant, &clock));
  EXPECT_EQ(instant, kStart + 90 * kMicrosPerMinute);
  ASSERT_TRUE(ParseIsoTimestamp("2026-03-02T02:00:00.25+02:00", &instant, &clock));
  EXPECT_EQ(clock, kStart + 2 * kMicrosPerHour + 250'000);  // the wall clock, for the slot
  EXPECT_EQ(instant, kStart + 250'000);                     // the instant, for order and gaps
  ASSERT_TRUE(ParseIsoTimestamp("2026-03-02Z", &instant, &clock));
  ASSERT_TRUE(ParseIsoTimestamp("2024-02-29", &instant, &clock));
  for (const char* bad : {"", "2026-3-2", "2026-02-30", "2025-02-29", "2026-03-02T25:00", "2026-03-02T10:00+5",
                          "yesterday", "2026-03-02T10:00:00Q"})
    EXPECT_FALSE(ParseIsoTimestamp(bad, &instant, &clock)) << bad;
}

TEST(SeriesDetect, CsvBadRowsAreCountedWithLineNumbersAndKeptInTheOutput) {
  std::istringstream in(
      "timestamp,value\n"
      "2026-03-02T00:00:00,1.0\n"    // line 2
      "2026-03-02T01:00:00,abc\n"    // 3 bad_value
      "2026-03-02T02:00:00,\n"       // 4 missing
      "2026-03-02T03:00:00,-1\n"     // 5 non_positive (log)
      "2026-03-02T04:00:00,1.1\n"    // 6
      "2026-03-02T04:00:00,1.2\n"    // 7 duplicate
      "2026-03-02T03:30:00,1.2\n"    // 8 out_of_order
      "03/02/2026 05:00,1.0\n"       // 9 bad_timestamp
      "2026-03-02T06:00:00,0.9\n");  // 10
  const DetectReport r = DetectCsv(in, "mem.csv", DetectOptions{});
  ASSERT_EQ(r.rows.size(), 9u);
  std::vector<std::pair<int, std::string>> issues;
  for (const auto& i : r.issues) issues.emplace_back(i.line, i.kind);
  const std::vector<std::pair<int, std::string>> expected = {{3, "bad_value"},    {4, "missing"},
                                                             {5, "non_positive"}, {7, "duplicate"},
                                                             {8, "out_of_order"}, {9, "bad_timestamp"}};
  EXPECT_EQ(issues, expected);
  EXPECT_EQ(r.rows[5].verdict.reason, "skipped: timestamp 2026-03-02T04:00:00 repeats line 6");
  EXPECT_TRUE(r.rows[8].scored);
  const std::string summary = r.Summary("mem.csv");
  EXPECT_NE(summary.find("9 rows, 3 scored"), std::string::npos) << summary;
  EXPECT_NE(summary.find("1 duplicate (line 7)"), std::string::npos) << summary;
  // With transform none a negative value is scored.
  std::istringstream again("timestamp,value\n2026-03-02T00:00:00,-1\n");
  DetectOptions none;
  none.params["transform"] = "none";
  EXPECT_TRUE(DetectCsv(again, "mem.csv", none).issues.empty());
  // A header without the column: ConfigError naming it and what was found.
  std::istringstream wrong("time,cpc\n2026-03-02T00:00:00,1\n");
  try {
    DetectCsv(wrong, "mem.csv", DetectOptions{});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("timestamp"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("time,cpc"), std::string::npos) << e.what();
  }
  std::istringstream empty("timestamp,value\n");
  EXPECT_THROW(DetectCsv(empty, "mem.csv", DetectOptions{}), DataError);
}

TEST(SeriesDetect, RateSeriesUseTheBinomialVariance) {
  // A click-through rate of 2% with 500 to 5000 impressions an hour and no
  // anomaly: the binomial variance p (1 - p) / n is part of each point's
  // scale, so the share of scores >= 0.99 stays near 0.01 although the
  // trials vary tenfold (tolerance 4 binomial se over 100 days).
  Rng rng(18);
  boost::random::normal_distribution<double> unit(0.0, 1.0);
  auto d = Named("ewma", {{"transform", "none"}});
  int scored = 0, over_99 = 0;
  for (int h = 0; h < 100 * 24; ++h) {
    const double n = std::round(500.0 + 4500.0 * (0.5 + 0.5 * std::sin(h * 0.7)));
    SeriesPoint p;
    p.time = kStart + h * kMicrosPerHour;
    p.trials = n;
    p.successes = std::clamp(std::round(0.02 * n + std::sqrt(0.02 * 0.98 * n) * unit(rng)), 0.0, n);
    const SeriesVerdict v = d->Update(p);
    if (h < 7 * 24) continue;
    ++scored;
    over_99 += v.score >= 0.99 ? 1 : 0;
  }
  const double n = scored;
  EXPECT_NEAR(over_99 / n, 0.01, 4 * std::sqrt(0.01 * 0.99 / n)) << over_99 << " of " << n;
}

}  // namespace
}  // namespace adsim::monitors

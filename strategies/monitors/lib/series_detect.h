// adsim::monitors: detectors on timestamped KPI series, shared by the
// in-simulation KPI monitors (strategies/monitors/kpi_*.cc), `adsim detect`
// (core/cli/detect.cc) and adsim.detect (python/bindings/detect.cc). Owns:
//   - AdaptiveDetector: a robust, slowly adapting baseline (EW location and
//     scale with Huber-clipped updates, optional hour-of-day / hour-of-week
//     profile from the clock), a point score, an optional level-shift CUSUM
//     on its residuals, the gap rule and the re-level rule;
//   - SeriesDetector: the common interface, with WindowTail and
//     TrendDetector (detectors.h) wrapped behind it;
//   - AlertCooldown: the one alert suppression every detector uses;
//   - the named detectors (`adsim detect --list`) and their parameters;
//   - DetectCsv: reading a `timestamp,value[,successes,trials]` CSV, the bad
//     row policy, and running a named detector over it.
// Every score is in [0, 1] (1 - the tail probability of the point, or of the
// CUSUM excursion, under the detector's model) and the alarm is score >=
// threshold, outside the cooldown. The models, defaults and rules are in
// docs/monitoring-detectors.md ("Detectors on timestamped series").
#pragma once

#include <array>
#include <istream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/types.h"
#include "strategies/monitors/lib/detectors.h"

namespace adsim::monitors {

// Hour-of-week offset of the Unix epoch (1970-01-01 was a Thursday): slots of
// Unix times count from Monday 00:00.
inline constexpr SimTime kUnixEpochOffsetInWeek = 3 * kMicrosPerDay;

// One alert suppression for every detector: after an alarm, further alarms
// of the same series are suppressed until `cooldown` has passed.
class AlertCooldown {
 public:
  explicit AlertCooldown(SimTime cooldown = 0) : cooldown_(cooldown) {}
  // Whether an alarm at `time` is raised; a raised alarm starts the cooldown.
  bool Admit(SimTime time);
  void Reset() { quiet_until_ = std::numeric_limits<SimTime>::min(); }

 private:
  SimTime cooldown_;
  SimTime quiet_until_ = std::numeric_limits<SimTime>::min();
};

// One observation of a series. For rates give successes and trials (value is
// then ignored and computed as successes / trials).
struct SeriesPoint {
  SimTime time = 0;         // instant (microseconds), strictly increasing
  SimTime clock = kNever;   // wall-clock time for the seasonal slot; kNever: `time`
  double value = kUnknown;  // the observation
  double successes = kUnknown, trials = kUnknown;
};

struct SeriesVerdict {
  double score = 0.0;          // in [0, 1]
  bool fired = false;          // ready and score >= threshold (before the cooldown)
  bool alarm = false;          // fired and not suppressed by the cooldown
  int direction = 0;           // +1 above the baseline, -1 below, 0 none
  double baseline = kUnknown;  // expected value, in the series' units
  double scale = kUnknown;     // sd of the residual, in transformed units (log units with transform log)
  double value = kUnknown;     // the observation (for rates successes / trials)
  std::string reason;          // why the score is what it is (or why the point was not scored)
};

enum class Transform { kNone, kLog };

struct AdaptiveParams {
  int period = 24;             // seasonal slots from the clock: 0 none, 24 hour of day, 168 hour of week
  double lambda = 0.02;        // adaptation of the level per point
  double season_gamma = 0.1;   // adaptation of a slot's offset per visit of the slot
  double scale_lambda = 0.02;  // adaptation of the residual variance per point
  int warmup = 48;             // points before any alarm (the estimates use 1/t weights until then)
  int min_seasons = 3;         // with a period: visits of the slot before its point can alarm
  double clip = 3.0;           // updates use residuals clipped at clip * scale (Huber)
  bool point = true;           // point score: 1 - tail probability of the standardised residual
  bool cusum = false;          // level-shift CUSUM on the standardised residuals
  double k = 0.5;              // CUSUM reference value (a shift of 2k scales)
  double threshold = 0.999;    // score that fires
  Side side = Side::kBoth;
  Transform transform = Transform::kLog;
  double gap_factor = 6.0;                       // a spacing > gap_factor * typical spacing is a gap (reset rule)
  int gap_rewarm = 3;                            // points after a gap before alarms resume
  int relevel_after = 3;                         // points in a row beyond relevel_z scales, one side: the new level
  double relevel_z = 2.0;                        // (under the model 3 in a row happen 2.4e-5 of the time)
  SimTime cooldown = 12 * kMicrosPerHour;        // shared alert suppression
  SimTime slot_offset = kUnixEpochOffsetInWeek;  // hour of week of time 0 (Unix: Thursday)
};

// Interface of every detector on a series. Update() takes points in strictly
// increasing time; it must not throw for a valid point (the callers check
// the values: finite, > 0 with a log transform, 0 <= successes <= trials).
class SeriesDetector {
 public:
  virtual ~SeriesDetector() = default;
  virtual SeriesVerdict Update(const SeriesPoint& point) = 0;
  // Whether the detector takes the log of its values (they must be > 0).
  virtual bool UsesLog() const = 0;
};

class AdaptiveDetector final : public SeriesDetector {
 public:
  explicit AdaptiveDetector(const AdaptiveParams& params);
  SeriesVerdict Update(const SeriesPoint& point) override;
  bool UsesLog() const override { return p_.transform == Transform::kLog; }

 private:
  void Learn(double residual, int slot, double clip_at);
  void Restart();  // the gap rule: level and CUSUM restart, scale and profile kept
  AdaptiveParams p_;
  AlertCooldown cooldown_;
  double level_ = 0.0, variance_ = 0.0;
  std::vector<double> offset_;  // per slot
  std::vector<int> visits_;     // per slot
  int64_t points_ = 0, level_points_ = 0, since_gap_ = 0;
  SimTime last_time_ = 0;
  std::array<SimTime, 15> spacing_{};  // last spacings, for the typical spacing
  int spacings_ = 0;
  double cusum_hi_ = 0.0, cusum_lo_ = 0.0;
  double excursion_sum_ = 0.0;  // residuals summed while a CUSUM sum is positive
  int excursion_n_ = 0;
  int run_side_ = 0, run_n_ = 0;
  double run_level_ = 0.0, run_variance_ = 0.0;         // before the run
  std::array<double, 16> run_residuals_{};              // against run_level_
  std::array<std::pair<int, double>, 16> run_slots_{};  // slot and its offset before each run point
};

// A named detector (`adsim detect --list`) with its parameters as text.
struct NamedDetectorInfo {
  std::string name, description;
  std::vector<std::pair<std::string, std::string>> defaults;  // parameter, default value
};
const std::vector<NamedDetectorInfo>& NamedDetectors();
// Builds a named detector; `params` override its defaults. Throws
// ConfigError naming an unknown detector or parameter, or a bad value, with
// the valid choices.
std::unique_ptr<SeriesDetector> MakeNamedDetector(const std::string& name,
                                                  const std::map<std::string, std::string>& params);

// ---------------------------------------------------------------------------
// Running a named detector over a CSV series.
struct DetectOptions {
  std::string detector = "default";
  std::map<std::string, std::string> params;
  std::string timestamp_column = "timestamp", value_column = "value";
  std::string successes_column, trials_column;  // both or neither: a rate series
};

struct DetectRow {
  int line = 0;             // 1-based line of the input
  std::string timestamp;    // as written
  double value = kUnknown;  // as read (NaN if unreadable)
  bool scored = false;      // false: skipped by the bad row policy (reason says why)
  SeriesVerdict verdict;
};

struct DetectIssue {
  int line = 0;
  std::string kind;  // bad_timestamp, bad_value, missing, non_positive, duplicate, out_of_order, bad_counts
  std::string message;
};

struct DetectReport {
  std::vector<DetectRow> rows;
  std::vector<DetectIssue> issues;
  int alarms = 0;
  std::map<std::string, int> issue_counts;               // kind -> rows
  std::string Summary(const std::string& source) const;  // the stderr summary
};

// Parses an ISO 8601 timestamp: YYYY-MM-DD, optionally followed by 'T' or ' '
// and HH:MM[:SS[.ffffff]], optionally by 'Z' or +HH:MM / -HH:MM / +HHMM.
// Sets `instant` (UTC microseconds since the Unix epoch) and `clock` (the
// wall-clock time as written, for seasonal slots). False if unparsable.
bool ParseIsoTimestamp(const std::string& text, SimTime* instant, SimTime* clock);

// Reads the CSV (header row, comma separated, no quoted commas) and runs the
// detector. Throws ConfigError for bad options or a header without the
// columns, DataError for a file with no data row; bad rows are reported.
DetectReport DetectCsv(std::istream& in, const std::string& source_name, const DetectOptions& options);

// Writes the report as CSV: timestamp,value,score,alarm,baseline,scale,reason.
void WriteDetectCsv(const DetectReport& report, std::ostream& out);

}  // namespace adsim::monitors

// Implementation of the detectors on timestamped series (series_detect.h):
// the adaptive baseline, the wrapped window detectors, the named detectors
// and the CSV runner with its bad row policy.
#include "strategies/monitors/lib/series_detect.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/argument_checks.h"
#include "core/error.h"
#include "core/normal.h"

namespace adsim::monitors {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Short(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", v);
  return buffer;
}

// Shortest text that reads back as the same double; empty for NaN.
std::string Exact(double v) {
  if (std::isnan(v)) return "";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, result.ptr);
}

SimTime MedianSpacing(const std::array<SimTime, 15>& ring, int n) {
  std::array<SimTime, 15> copy = ring;
  const int count = std::min(n, static_cast<int>(ring.size()));
  std::nth_element(copy.begin(), copy.begin() + count / 2, copy.begin() + count);
  return copy[count / 2];
}

}  // namespace

bool AlertCooldown::Admit(SimTime time) {
  if (time < quiet_until_) return false;
  quiet_until_ = cooldown_ > 0 ? time + cooldown_ : std::numeric_limits<SimTime>::min();
  return true;
}

// ---------------------------------------------------------------------------
// AdaptiveDetector

AdaptiveDetector::AdaptiveDetector(const AdaptiveParams& params) : p_(params), cooldown_(params.cooldown) {
  static constexpr ArgumentChecks kArgs("adsim::monitors::AdaptiveDetector");
  if (p_.period != 0 && p_.period != 24 && p_.period != 168)
    kArgs.Fail("period", "0 (none), 24 (hour of day) or 168 (hour of week)", std::to_string(p_.period));
  kArgs.Range(p_.lambda, 0.0, 1.0, true, false, "lambda");
  kArgs.Range(p_.season_gamma, 0.0, 1.0, true, false, "season_gamma");
  kArgs.Range(p_.scale_lambda, 0.0, 1.0, true, false, "scale_lambda");
  kArgs.AtLeast(p_.warmup, 2, "warmup");
  kArgs.AtLeast(p_.min_seasons, 1, "min_seasons");
  kArgs.Positive(p_.clip, "clip");
  kArgs.Positive(p_.k, "k");
  kArgs.Range(p_.threshold, 0.0, 1.0, true, false, "threshold");
  kArgs.Positive(p_.gap_factor, "gap_factor");
  kArgs.AtLeast(p_.gap_rewarm, 0, "gap_rewarm");
  kArgs.AtLeast(p_.relevel_after, 1, "relevel_after");
  kArgs.Positive(p_.relevel_z, "relevel_z");
  if (p_.relevel_after > static_cast<int>(run_residuals_.size()))
    kArgs.Fail("relevel_after", "at most " + std::to_string(run_residuals_.size()), std::to_string(p_.relevel_after));
  if (!p_.point && !p_.cusum) kArgs.Fail("point/cusum", "at least one score", "neither");
  since_gap_ = p_.gap_rewarm;  // no gap before the first point
  offset_.assign(p_.period > 0 ? p_.period : 1, 0.0);
  visits_.assign(offset_.size(), 0);
}

void AdaptiveDetector::Restart() {
  level_points_ = 0;
  since_gap_ = 0;
  cusum_hi_ = cusum_lo_ = 0.0;
  excursion_sum_ = 0.0;
  excursion_n_ = 0;
  run_side_ = run_n_ = 0;
}

void AdaptiveDetector::Learn(double residual, int slot, double clip_at) {
  const double psi = std::clamp(residual, -clip_at, clip_at);
  ++level_points_;
  const double lambda = std::max(p_.lambda, 1.0 / static_cast<double>(level_points_));
  level_ += lambda * psi;
  if (p_.period > 0) {
    // What the level did not absorb goes to the slot's offset.
    const double rest = psi * (1.0 - lambda);
    const double gamma = std::max(p_.season_gamma, 1.0 / static_cast<double>(visits_[slot] + 1));
    offset_[slot] += gamma * rest;
  }
  ++visits_[slot];
}

SeriesVerdict AdaptiveDetector::Update(const SeriesPoint& point) {
  SeriesVerdict v;
  const bool rate = !std::isnan(point.trials);
  const double x = rate ? point.successes / point.trials : point.value;
  v.value = x;
  const bool log = p_.transform == Transform::kLog;
  const double y = log ? std::log(x) : x;
  std::string note;
  // The gap rule: a spacing longer than gap_factor times the typical one
  // (the median of the last 15 spacings) restarts the level.
  if (points_ > 0) {
    const SimTime spacing = point.time - last_time_;
    if (spacings_ >= 3 &&
        static_cast<double>(spacing) > p_.gap_factor * static_cast<double>(MedianSpacing(spacing_, spacings_))) {
      Restart();
      note = "gap of " + Short(static_cast<double>(spacing) / kMicrosPerHour) + " h: level restarted; ";
    } else if (spacing > 0) {
      spacing_[spacings_ % spacing_.size()] = spacing;
      ++spacings_;
    }
  }
  last_time_ = point.time;
  const SimTime clock = point.clock == kNever ? point.time : point.clock;
  const int slot = p_.period > 0 ? SeasonalBaseline::SlotOf(clock, p_.period, p_.slot_offset) : 0;

  const bool has_level = level_points_ > 0;
  const double expected = has_level ? level_ + offset_[slot] : y;
  double binomial = 0.0;
  if (rate) {
    const double p = std::clamp(log ? std::exp(expected) : expected, 1e-9, 1.0 - 1e-9);
    binomial = log ? (1.0 - p) / (point.trials * p) : p * (1.0 - p) / point.trials;
  }
  // The estimated level and offset add their own variance to the residual's
  // (an EW mean with weight w has variance w / (2 - w) of one point's).
  const double inflation =
      1.0 + p_.lambda / (2.0 - p_.lambda) + (p_.period > 0 ? p_.season_gamma / (2.0 - p_.season_gamma) : 0.0);
  const double sd = std::sqrt(variance_ * inflation + binomial);
  const double r = y - expected;
  const double z = sd > 0 ? r / sd : (r == 0 ? 0.0 : (r > 0 ? kInf : -kInf));
  v.baseline = log ? std::exp(expected) : expected;
  v.scale = sd;
  const bool ready = points_ >= p_.warmup && since_gap_ >= p_.gap_rewarm && sd > 0 &&
                     (p_.period == 0 || visits_[slot] >= p_.min_seasons);

  double point_score = 0.0, cusum_score = 0.0;
  int point_direction = 0, cusum_direction = 0;
  if (ready) {
    if (p_.point) {
      point_score = 1.0 - ArmedTail(p_.side, NormalUpperTail(z), NormalCdf(z));
      point_direction = z > 0 ? 1 : (z < 0 ? -1 : 0);
    }
    if (p_.cusum) {
      // Page's sums; for N(0, 1) residuals against a shift of 2k the
      // log-likelihood ratio is 2k S, and P(S ever reaches s) <= e^{-2k s}.
      const double zc = std::clamp(z, -4.0 * p_.clip, 4.0 * p_.clip);
      cusum_hi_ = std::max(0.0, cusum_hi_ + zc - p_.k);
      cusum_lo_ = std::max(0.0, cusum_lo_ - zc - p_.k);
      if (cusum_hi_ > 0 || cusum_lo_ > 0) {
        excursion_sum_ += r;
        ++excursion_n_;
      } else {
        excursion_sum_ = 0.0;
        excursion_n_ = 0;
      }
      const double upper = std::exp(-2.0 * p_.k * cusum_hi_), lower = std::exp(-2.0 * p_.k * cusum_lo_);
      cusum_score = 1.0 - ArmedTail(p_.side, upper, lower);
      cusum_direction = cusum_hi_ >= cusum_lo_ ? 1 : -1;
    }
  }
  const bool cusum_wins = cusum_score > point_score;
  v.score = std::max(point_score, cusum_score);
  v.direction = cusum_wins ? cusum_direction : point_direction;
  v.fired = ready && v.score >= p_.threshold && v.direction != 0;
  if (!ready) {
    v.reason = note + (since_gap_ < p_.gap_rewarm ? "re-warming after a gap"
                       : sd > 0                   ? "warm-up"
                                                  : "warm-up (no spread yet)");
  } else if (cusum_wins) {
    v.reason = note + "cusum " + (cusum_direction > 0 ? "upper" : "lower") + " sum " +
               Short(cusum_direction > 0 ? cusum_hi_ : cusum_lo_) + " (p <= " + Short(1.0 - cusum_score) + ")";
  } else {
    v.reason = note + "z = " + Short(z) + " (p = " + Short(1.0 - point_score) + ")";
  }

  // Learning. Every point joins the baseline clipped (a spike moves it by at
  // most lambda * clip scales). The re-level rule: relevel_after points in a
  // row beyond relevel_z scales on one side are a shift that persists; the
  // level, the offsets and the variance are put back as they were before the
  // run, and the level then moves by the median of the run's residuals
  // against it. A CUSUM alarm moves the level by the mean residual of its
  // excursion.
  const int run_direction = ready && std::abs(z) >= p_.relevel_z ? (z > 0 ? 1 : -1) : 0;
  if (run_direction == 0 || run_direction != run_side_) {
    run_n_ = 0;
    run_side_ = run_direction;
    run_level_ = level_;
    run_variance_ = variance_;
  }
  if (run_direction != 0) {
    run_slots_[run_n_] = {slot, offset_[slot]};
    run_residuals_[run_n_++] = y - (run_level_ + offset_[slot]);
  }
  const double clip_at = points_ >= p_.warmup && variance_ > 0 ? p_.clip * std::sqrt(variance_) : kInf;
  if (has_level) {
    const double e2 = std::min(r * r, clip_at * clip_at) - binomial;
    const double w = std::max(p_.scale_lambda, 1.0 / static_cast<double>(std::max<int64_t>(points_, 1)));
    variance_ = std::max(0.0, variance_ + w * (e2 - variance_));
  }
  Learn(has_level ? r : y - offset_[slot] - level_, slot, has_level ? clip_at : kInf);
  if (!has_level) level_ = y - offset_[slot];
  ++points_;
  ++since_gap_;
  if (run_n_ >= p_.relevel_after) {
    for (int i = run_n_ - 1; i >= 0; --i) offset_[run_slots_[i].first] = run_slots_[i].second;
    std::array<double, 16> copy = run_residuals_;
    std::nth_element(copy.begin(), copy.begin() + run_n_ / 2, copy.begin() + run_n_);
    level_ = run_level_ + copy[run_n_ / 2];
    variance_ = run_variance_;
    // The new level is known from run_n_ points only: the following points
    // refine it with weights 1 / count (a running mean) until lambda.
    level_points_ = run_n_;
    cusum_hi_ = cusum_lo_ = excursion_sum_ = 0.0;
    excursion_n_ = 0;
    v.reason += "; " + std::to_string(run_n_) + " in a row beyond " + Short(p_.relevel_z) +
                " scales: accepted as the new level";
    run_n_ = run_side_ = 0;
  } else if (v.fired && cusum_wins) {
    level_ += excursion_n_ > 0 ? excursion_sum_ / excursion_n_ : 0.0;
    level_points_ = std::max(1, excursion_n_);
    cusum_hi_ = cusum_lo_ = excursion_sum_ = 0.0;
    excursion_n_ = 0;
    v.reason += "; level moved to the excursion's mean";
  }
  if (v.fired) {
    v.alarm = cooldown_.Admit(point.time);
    if (!v.alarm) v.reason += "; suppressed (cooldown)";
  }
  return v;
}

// ---------------------------------------------------------------------------
// Window detectors (WindowTail, TrendDetector) behind the same interface:
// score = 1 - their p-value, the gap rule and a fired point restart the
// window (a new detector), the shared cooldown.

namespace {

struct WindowParams {
  bool trend = false;
  int window = 24;
  double threshold = 0.999;
  Side side = Side::kBoth;
  Transform transform = Transform::kLog;
  double gap_factor = 6.0;
  SimTime cooldown = 12 * kMicrosPerHour;
};

class WindowDetector final : public SeriesDetector {
 public:
  explicit WindowDetector(const WindowParams& params) : p_(params), cooldown_(params.cooldown) { Restart(); }
  bool UsesLog() const override { return p_.transform == Transform::kLog; }

  SeriesVerdict Update(const SeriesPoint& point) override {
    SeriesVerdict v;
    const bool rate = !std::isnan(point.trials);
    const double x = rate ? point.successes / point.trials : point.value;
    v.value = x;
    const bool log = UsesLog();
    const double y = log ? std::log(x) : x;
    std::string note;
    if (seen_) {
      const SimTime spacing = point.time - last_time_;
      if (spacings_ >= 3 &&
          static_cast<double>(spacing) > p_.gap_factor * static_cast<double>(MedianSpacing(spacing_, spacings_))) {
        Restart();
        note = "gap of " + Short(static_cast<double>(spacing) / kMicrosPerHour) + " h: window restarted; ";
      } else if (spacing > 0) {
        spacing_[spacings_ % spacing_.size()] = spacing;
        ++spacings_;
      }
    }
    seen_ = true;
    last_time_ = point.time;
    const DetectorResult r = tail_ ? tail_->Update(y) : trend_->Update(y);
    if (!std::isnan(r.expected)) v.baseline = log ? std::exp(r.expected) : r.expected;
    if (!r.ready) {
      v.reason = note + "warm-up (filling the window)";
      return v;
    }
    v.scale = tail_ ? r.statistic : std::abs(r.score) > 0 ? std::abs(r.statistic / r.score) : kUnknown;
    v.score = 1.0 - r.p_value;
    v.direction = r.score > 0 ? 1 : (r.score < 0 ? -1 : 0);
    v.fired = v.score >= p_.threshold && v.direction != 0;
    v.reason = note + (tail_ ? "z = " : "slope t = ") + Short(r.score) + " (p = " + Short(r.p_value) + ")";
    if (v.fired) {
      Restart();
      v.reason += "; window restarted";
      v.alarm = cooldown_.Admit(point.time);
      if (!v.alarm) v.reason += "; suppressed (cooldown)";
    }
    return v;
  }

 private:
  void Restart() {
    if (p_.trend) {
      TrendParams t;
      t.window = p_.window;
      t.alpha = 0.5;  // unused: the score is compared with the threshold here
      t.side = p_.side;
      trend_ = std::make_unique<TrendDetector>(t);
    } else {
      WindowTailParams t;
      t.window = p_.window;
      t.alpha = 0.5;
      t.side = p_.side;
      tail_ = std::make_unique<WindowTail>(t);
    }
  }
  WindowParams p_;
  AlertCooldown cooldown_;
  std::unique_ptr<WindowTail> tail_;
  std::unique_ptr<TrendDetector> trend_;
  bool seen_ = false;
  SimTime last_time_ = 0;
  std::array<SimTime, 15> spacing_{};
  int spacings_ = 0;
};

using Defaults = std::vector<std::pair<std::string, std::string>>;

Defaults CommonDefaults() {
  return {
      {"threshold", "0.999"}, {"side", "both"}, {"transform", "auto"}, {"cooldown_hours", "12"}, {"gap_factor", "6"}};
}
Defaults AdaptiveDefaults(const std::string& period) {
  Defaults d = CommonDefaults();
  const Defaults own = {{"period", period},  {"lambda", "0.02"},     {"season_gamma", "0.1"}, {"scale_lambda", "0.02"},
                        {"warmup", "48"},    {"min_seasons", "3"},   {"clip", "3"},           {"k", "0.5"},
                        {"gap_rewarm", "3"}, {"relevel_after", "3"}, {"relevel_z", "2"}};
  d.insert(d.end(), own.begin(), own.end());
  return d;
}
Defaults WindowDefaults(const std::string& window) {
  Defaults d = CommonDefaults();
  d.emplace_back("window", window);
  return d;
}

}  // namespace

const std::vector<NamedDetectorInfo>& NamedDetectors() {
  static const std::vector<NamedDetectorInfo> kDetectors = {
      {"default", "the recommended detector for a cost or price series, no tuning: currently `seasonal_cusum`",
       AdaptiveDefaults("day")},
      {"seasonal",
       "hour-of-day (or week) profile plus a robust adaptive level and scale; point score 1 - p of the residual",
       AdaptiveDefaults("day")},
      {"seasonal_cusum", "`seasonal` plus a level-shift CUSUM on its residuals; score = the larger of the two",
       AdaptiveDefaults("day")},
      {"ewma", "robust adaptive EW level and scale, no profile; point score 1 - p of the residual",
       AdaptiveDefaults("none")},
      {"cusum", "level-shift CUSUM on the residuals of the robust adaptive EW level; score 1 - Lorden bound",
       AdaptiveDefaults("none")},
      {"tail", "mean and sd of the last `window` points; score 1 - the predictive t tail probability",
       WindowDefaults("24")},
      {"trend", "OLS slope over the last `window` points; score 1 - the t-test p-value", WindowDefaults("48")},
  };
  return kDetectors;
}

std::unique_ptr<SeriesDetector> MakeNamedDetector(const std::string& name,
                                                  const std::map<std::string, std::string>& params) {
  const auto& all = NamedDetectors();
  const auto it = std::find_if(all.begin(), all.end(), [&](const NamedDetectorInfo& d) { return d.name == name; });
  if (it == all.end()) {
    std::string names;
    for (const auto& d : all) names += (names.empty() ? "" : ", ") + d.name;
    throw ConfigError({{"--detector", "detector", 0, "one of " + names, name}});
  }
  std::map<std::string, std::string> values(it->defaults.begin(), it->defaults.end());
  std::vector<ConfigIssue> issues;
  for (const auto& [key, value] : params) {
    if (values.count(key) == 0) {
      std::string keys;
      for (const auto& [k, unused] : it->defaults) keys += (keys.empty() ? "" : ", ") + k;
      issues.push_back({"--param", key, 0, "a parameter of " + name + ": " + keys, key + "=" + value});
      continue;
    }
    values[key] = value;
  }
  if (!issues.empty()) throw ConfigError(issues);
  auto number = [&](const std::string& key, double lo, double hi) {
    const std::string& text = values.at(key);
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v < lo || v > hi)
      throw ConfigError({{"--param", key, 0, "a number in [" + Short(lo) + ", " + Short(hi) + "]", text}});
    return v;
  };
  auto choice = [&](const std::string& key, const std::vector<std::string>& choices) {
    const std::string& text = values.at(key);
    if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
      std::string list;
      for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
      throw ConfigError({{"--param", key, 0, "one of " + list, text}});
    }
    return text;
  };
  const std::string side_text = choice("side", {"both", "upper", "lower"});
  const Side side = side_text == "upper" ? Side::kUpper : side_text == "lower" ? Side::kLower : Side::kBoth;
  // "auto" is resolved by the caller (log for levels, none for rates); here it means log.
  const Transform transform =
      choice("transform", {"auto", "log", "none"}) == "none" ? Transform::kNone : Transform::kLog;
  const double threshold = number("threshold", 0.5, 1.0 - 1e-15);
  const auto cooldown = static_cast<SimTime>(std::llround(number("cooldown_hours", 0, 1e5) * kMicrosPerHour));
  const double gap_factor = number("gap_factor", 1.0, 1e9);
  if (name == "tail" || name == "trend") {
    WindowParams w;
    w.trend = name == "trend";
    w.window = static_cast<int>(number("window", w.trend ? 4 : 3, 100000));
    w.threshold = threshold;
    w.side = side;
    w.transform = transform;
    w.gap_factor = gap_factor;
    w.cooldown = cooldown;
    return std::make_unique<WindowDetector>(w);
  }
  AdaptiveParams a;
  const std::string period = choice("period", {"none", "day", "week"});
  a.period = period == "day" ? 24 : period == "week" ? 168 : 0;
  a.lambda = number("lambda", 1e-6, 1.0);
  a.season_gamma = number("season_gamma", 1e-6, 1.0);
  a.scale_lambda = number("scale_lambda", 1e-6, 1.0);
  a.warmup = static_cast<int>(number("warmup", 2, 1e7));
  a.min_seasons = static_cast<int>(number("min_seasons", 1, 1e6));
  a.clip = number("clip", 0.1, 100);
  a.k = number("k", 0.01, 100);
  a.gap_rewarm = static_cast<int>(number("gap_rewarm", 0, 1e6));
  a.relevel_after = static_cast<int>(number("relevel_after", 1, 16));
  a.relevel_z = number("relevel_z", 0.5, 100);
  a.threshold = threshold;
  a.side = side;
  a.transform = transform;
  a.gap_factor = gap_factor;
  a.cooldown = cooldown;
  a.cusum = name == "cusum" || name == "seasonal_cusum" || name == "default";
  a.point = name != "cusum";
  return std::make_unique<AdaptiveDetector>(a);
}

// ---------------------------------------------------------------------------
// CSV

namespace {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {  // Howard Hinnant's algorithm
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(const std::string& s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::string Trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '"')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r' || s[b - 1] == '"')) --b;
  return s.substr(a, b - a);
}

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) out.push_back(Trim(field));
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// Missing (empty, NA, NaN, null) -> 1; unparsable -> 2; ok -> 0.
int ParseNumber(const std::string& text, double* out) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.empty() || lower == "na" || lower == "nan" || lower == "null" || lower == "none") return 1;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return 2;
  *out = v;
  return 0;
}

std::string LinesText(const std::vector<int>& lines) {
  std::string s;
  for (size_t i = 0; i < lines.size() && i < 10; ++i) s += (i ? ", " : "") + std::to_string(lines[i]);
  if (lines.size() > 10) s += ", ... (" + std::to_string(lines.size()) + " in all)";
  return s;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

bool ParseIsoTimestamp(const std::string& text, SimTime* instant, SimTime* clock) {
  const std::string& s = text;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(s, 0, 4, &year) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &month) || s[7] != '-' ||
      !Digits(s, 8, 2, &day))
    return false;
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] || (month == 2 && day == 29 && !leap)) return false;
  size_t pos = 10;
  SimTime micros = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    if (!Digits(s, pos + 1, 2, &hour) || pos + 3 >= s.size() + 0 || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &minute))
      return false;
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, pos + 1, 2, &second)) return false;
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        SimTime scale = 100000;
        const size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          micros += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return false;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return false;
  }
  int offset_minutes = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      pos = s.size();
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh = 0, om = 0;
      const int sign = s[pos] == '+' ? 1 : -1;
      if (!Digits(s, pos + 1, 2, &oh)) return false;
      size_t next = pos + 3;
      if (next < s.size() && s[next] == ':') ++next;
      if (!Digits(s, next, 2, &om) || next + 2 != s.size() || oh > 23 || om > 59) return false;
      offset_minutes = sign * (oh * 60 + om);
      pos = s.size();
    } else {
      return false;
    }
  }
  const SimTime local = DaysFromCivil(year, month, day) * kMicrosPerDay + hour * kMicrosPerHour +
                        minute * kMicrosPerMinute + second * kMicrosPerSecond + micros;
  *clock = local;
  *instant = local - offset_minutes * kMicrosPerMinute;
  return true;
}

std::string DetectReport::Summary(const std::string& source) const {
  int scored = 0;
  for (const auto& r : rows) scored += r.scored ? 1 : 0;
  std::string s = source + ": " + std::to_string(rows.size()) + " rows, " + std::to_string(scored) + " scored, " +
                  std::to_string(alarms) + " alarms";
  if (issues.empty()) return s + "; no bad rows";
  s += "; skipped " + std::to_string(rows.size() - scored) + " rows:";
  std::map<std::string, std::vector<int>> by_kind;
  for (const auto& i : issues) by_kind[i.kind].push_back(i.line);
  for (const auto& [kind, lines] : by_kind)
    s += "\n  " + std::to_string(lines.size()) + " " + kind + " (line" + (lines.size() > 1 ? "s " : " ") +
         LinesText(lines) + ")";
  return s;
}

DetectReport DetectCsv(std::istream& in, const std::string& source, const DetectOptions& options) {
  if (options.successes_column.empty() != options.trials_column.empty())
    throw ConfigError({{"options", options.successes_column.empty() ? "successes_column" : "trials_column", 0,
                        "both a successes and a trials column, or neither", "only one"}});
  const bool rate = !options.successes_column.empty();
  std::map<std::string, std::string> params = options.params;
  if (params.count("transform") == 0 || params["transform"] == "auto") params["transform"] = rate ? "none" : "log";
  std::unique_ptr<SeriesDetector> detector = MakeNamedDetector(options.detector, params);
  const bool log = detector->UsesLog();

  std::string line;
  int line_number = 0;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    ++line_number;
    if (!Trim(line).empty()) {
      header = Split(line);
      break;
    }
  }
  if (header.empty()) throw DataError(source + ": empty file: expected a header row such as `timestamp,value`");
  auto column = [&](const std::string& name) -> int {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      std::string found;
      for (const auto& h : header) found += (found.empty() ? "" : ",") + h;
      throw ConfigError({{source, "header (line " + std::to_string(line_number) + ")", line_number,
                          "a column named '" + name + "'", found}});
    }
    return static_cast<int>(it - header.begin());
  };
  const int time_col = column(options.timestamp_column);
  const int value_col = rate ? -1 : column(options.value_column);
  const int succ_col = rate ? column(options.successes_column) : -1;
  const int trial_col = rate ? column(options.trials_column) : -1;
  // With counts, a value column is optional (echoed if present).
  const int echo_col =
      rate ? static_cast<int>(std::find(header.begin(), header.end(), options.value_column) - header.begin())
           : value_col;

  DetectReport report;
  SimTime last_instant = 0;
  int last_line = 0;
  std::string last_text;
  bool any = false;
  while (std::getline(in, line)) {
    ++line_number;
    if (Trim(line).empty()) continue;
    const std::vector<std::string> f = Split(line);
    DetectRow row;
    row.line = line_number;
    auto get = [&](int c) { return c >= 0 && c < static_cast<int>(f.size()) ? f[c] : std::string(); };
    row.timestamp = get(time_col);
    std::string kind, message;
    SeriesPoint point;
    double value = kUnknown;
    if (echo_col >= 0 && echo_col < static_cast<int>(header.size())) ParseNumber(get(echo_col), &value);
    row.value = value;
    if (row.timestamp.empty()) {
      kind = "missing";
      message = "no timestamp";
    } else if (!ParseIsoTimestamp(row.timestamp, &point.time, &point.clock)) {
      kind = "bad_timestamp";
      message = "timestamp '" + row.timestamp + "' is not ISO 8601 (YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM])";
    } else if (!rate) {
      const int status = ParseNumber(get(value_col), &point.value);
      if (status == 1) {
        kind = "missing";
        message = "no value";
      } else if (status == 2) {
        kind = "bad_value";
        message = "value '" + get(value_col) + "' is not a finite number";
      } else if (log && point.value <= 0) {
        kind = "non_positive";
        message = "value " + get(value_col) + " <= 0 cannot be log-transformed (use --param transform=none)";
      }
    } else {
      const int s1 = ParseNumber(get(succ_col), &point.successes), s2 = ParseNumber(get(trial_col), &point.trials);
      if (s1 == 1 || s2 == 1) {
        kind = "missing";
        message = "no " + (s1 == 1 ? options.successes_column : options.trials_column);
      } else if (s1 == 2 || s2 == 2 || point.successes < 0 || point.trials <= 0 || point.successes > point.trials) {
        kind = "bad_counts";
        message = options.successes_column + " '" + get(succ_col) + "', " + options.trials_column + " '" +
                  get(trial_col) + "': expected 0 <= successes <= trials and trials > 0";
      } else if (log && point.successes <= 0) {
        kind = "non_positive";
        message = "a rate of 0 cannot be log-transformed (use --param transform=none)";
      }
      if (std::isnan(row.value) && kind.empty()) row.value = point.successes / point.trials;
    }
    if (kind.empty() && any) {
      if (point.time == last_instant) {
        kind = "duplicate";
        message = "timestamp " + row.timestamp + " repeats line " + std::to_string(last_line);
      } else if (point.time < last_instant) {
        kind = "out_of_order";
        message = "timestamp " + row.timestamp + " is earlier than line " + std::to_string(last_line) + " (" +
                  last_text + ")";
      }
    }
    if (!kind.empty()) {
      row.verdict.reason = "skipped: " + message;
      report.issues.push_back({line_number, kind, message});
      ++report.issue_counts[kind];
    } else {
      row.scored = true;
      row.verdict = detector->Update(point);
      report.alarms += row.verdict.alarm ? 1 : 0;
      any = true;
      last_instant = point.time;
      last_line = line_number;
      last_text = row.timestamp;
    }
    report.rows.push_back(std::move(row));
  }
  if (report.rows.empty()) throw DataError(source + ": no data rows after the header");
  return report;
}

void WriteDetectCsv(const DetectReport& report, std::ostream& out) {
  out << "timestamp,value,score,alarm,baseline,scale,reason\n";
  for (const auto& r : report.rows) {
    out << CsvField(r.timestamp) << ',' << Exact(r.value) << ',';
    if (r.scored) {
      out << Exact(r.verdict.score) << ',' << (r.verdict.alarm ? 1 : 0) << ',' << Exact(r.verdict.baseline) << ','
          << Exact(r.verdict.scale);
    } else {
      out << ",0,,";  // skipped: no score, baseline or scale; alarm 0
    }
    out << ',' << CsvField(r.verdict.reason) << '\n';
  }
}

}  // namespace adsim::monitors

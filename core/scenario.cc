#include "core/scenario.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/random/gamma_distribution.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/market.h"
#include "core/random.h"
#include "core/scenario_limits.h"

namespace adsim {

bool ParseDuration(const std::string& text, SimTime* out) {
  // A sequence of <number><unit> with units d, h, m, s, ms, us; e.g. "1h30m".
  if (text.empty()) return false;
  size_t i = 0;
  long double total = 0;
  bool any = false;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
    if (j == i) return false;
    long double value;
    const std::string number = text.substr(i, j - i);
    if (std::count(number.begin(), number.end(), '.') > 1 || number == ".") return false;  // "1.2.3h"
    try {
      size_t used = 0;
      value = std::stold(number, &used);
      if (used != number.size()) return false;
    } catch (...) {
      return false;
    }
    size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string unit = text.substr(j, k - j);
    long double scale;
    if (unit == "d")
      scale = kMicrosPerDay;
    else if (unit == "h")
      scale = kMicrosPerHour;
    else if (unit == "m" || unit == "min")
      scale = kMicrosPerMinute;
    else if (unit == "s")
      scale = kMicrosPerSecond;
    else if (unit == "ms")
      scale = 1000;
    else if (unit == "us")
      scale = 1;
    else
      return false;
    total += value * scale;
    any = true;
    i = k;
  }
  if (!any || total > 1e17L) return false;
  *out = static_cast<SimTime>(std::llround(static_cast<double>(total)));
  return true;
}

std::string FormatDuration(SimTime t) {
  if (t == 0) return "0s";
  std::ostringstream os;
  if (t < 0) {
    os << "-";
    t = -t;
  }
  const std::pair<SimTime, const char*> units[] = {
      {kMicrosPerDay, "d"},    {kMicrosPerHour, "h"}, {kMicrosPerMinute, "m"},
      {kMicrosPerSecond, "s"}, {1000, "ms"},          {1, "us"}};
  for (auto [scale, name] : units) {
    if (t >= scale) {
      os << t / scale << name;
      t %= scale;
    }
  }
  return os.str();
}

int Scenario::ChannelIndex(const std::string& n) const {
  for (size_t i = 0; i < channels.size(); ++i)
    if (channels[i].name == n) return static_cast<int>(i);
  return -1;
}
int Scenario::SegmentIndex(const std::string& n) const {
  for (size_t i = 0; i < segments.size(); ++i)
    if (segments[i].name == n) return static_cast<int>(i);
  return -1;
}
int Scenario::CampaignIndex(const std::string& n) const {
  for (size_t i = 0; i < campaigns.size(); ++i)
    if (campaigns[i].name == n) return static_cast<int>(i);
  return -1;
}

namespace {

// yaml-cpp throws on type queries of a missing key's node: these never do.
bool IsScalarNode(const YAML::Node& n) { return n.IsDefined() && n.IsScalar(); }
bool IsMapNode(const YAML::Node& n) { return n.IsDefined() && n.IsMap(); }
bool IsSequenceNode(const YAML::Node& n) { return n.IsDefined() && n.IsSequence(); }
bool IsMissing(const YAML::Node& n) { return !n.IsDefined() || n.IsNull(); }

// The distributions a numeric field may be given (docs/scenario.md, "Distributions").
const std::vector<std::string>& DistributionNames() {
  static const std::vector<std::string> names = {"beta", "lognormal", "normal", "uniform", "choice"};
  return names;
}

// `{NAME: [...]}` with NAME a distribution: only meaningful where a number is expected.
bool IsDistributionNode(const YAML::Node& n) {
  if (!IsMapNode(n) || n.size() != 1) return false;
  const auto& names = DistributionNames();
  return std::find(names.begin(), names.end(), n.begin()->first.Scalar()) != names.end();
}

std::string Describe(const YAML::Node& n) {
  if (IsMissing(n)) return "nothing";
  if (IsDistributionNode(n))
    return "a distribution '" + n.begin()->first.Scalar() + "' (distributions are allowed only on real-valued fields)";
  if (IsMapNode(n)) return "a mapping";
  if (IsSequenceNode(n)) return "a list of " + std::to_string(n.size());
  return "'" + n.Scalar() + "'";
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
  return s;
}

// Collects issues while reading; every accessor returns a usable value so the
// reader can go on and report everything in one pass.
class Reader {
 public:
  // With `sample_seed`, distributions are drawn from it; without, a
  // representative value stands in (validation).
  explicit Reader(std::string file, std::optional<uint64_t> sample_seed = std::nullopt)
      : file_(std::move(file)), sample_seed_(sample_seed) {}
  std::vector<SampledField>& sampled() { return sampled_; }

  void Issue(const YAML::Node& at, const std::string& path, const std::string& expected, const std::string& found) {
    int line = 0;
    if (at.IsDefined()) line = at.Mark().line + 1;
    if (line <= 0) line = last_line_;
    issues_.push_back({file_, path, line, expected, found});
  }
  void IssueAtLine(int line, const std::string& path, const std::string& expected, const std::string& found) {
    issues_.push_back({file_, path, line, expected, found});
  }
  void Track(const YAML::Node& n) {
    if (n.IsDefined() && n.Mark().line >= 0) last_line_ = n.Mark().line + 1;
  }
  std::vector<ConfigIssue>& issues() { return issues_; }

  // Checks that a mapping has only known keys.
  bool Map(const YAML::Node& n, const std::string& path, const std::vector<std::string>& keys) {
    Track(n);
    if (!IsMapNode(n)) {
      Issue(n, path, "a mapping with keys " + JoinNames(keys), Describe(n));
      return false;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = it->first.Scalar();
      if (std::find(keys.begin(), keys.end(), k) == keys.end())
        Issue(it->first, Child(path, k), "one of the keys " + JoinNames(keys), "unknown key '" + k + "'");
    }
    return true;
  }

  static std::string Child(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string Item(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

  double Number(const YAML::Node& parent, const std::string& path, const std::string& key, double def, double lo,
                double hi, bool required = false, const char* unit = "") {
    const YAML::Node n = parent[key];
    const std::string p = Child(path, key);
    if (IsMissing(n)) {
      if (required)
        Issue(n.IsDefined() ? n : parent, p, std::string("a number") + unit, "nothing (the field is required)");
      return def;
    }
    return NumberAt(n, p, def, lo, hi, unit);
  }

  double NumberAt(const YAML::Node& n, const std::string& p, double def, double lo, double hi, const char* unit = "") {
    Track(n);
    if (IsMapNode(n) && n.size() == 1) return DistributionAt(n, p, def, lo, hi);
    double v;
    if (!IsScalarNode(n) || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
      Issue(n, p, std::string("a number") + unit, Describe(n));
      return def;
    }
    if (v < lo || v > hi) {
      std::ostringstream os;
      os << "a number in [" << lo << ", " << hi << "]" << unit;
      Issue(n, p, os.str(), n.Scalar());
      return def;
    }
    return v;
  }

  int64_t Integer(const YAML::Node& parent, const std::string& path, const std::string& key, int64_t def, int64_t lo,
                  int64_t hi) {
    const YAML::Node n = parent[key];
    const std::string p = Child(path, key);
    if (IsMissing(n)) return def;
    Track(n);
    int64_t v;
    if (!IsScalarNode(n) || !YAML::convert<int64_t>::decode(n, v)) {
      Issue(n, p,
            IsDistributionNode(n) ? "a whole number (distributions are allowed only on real-valued fields)"
                                  : "a whole number",
            Describe(n));
      return def;
    }
    if (v < lo || v > hi) {
      Issue(n, p, "a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]", n.Scalar());
      return def;
    }
    return v;
  }

  bool Bool(const YAML::Node& parent, const std::string& path, const std::string& key, bool def) {
    const YAML::Node n = parent[key];
    if (IsMissing(n)) return def;
    Track(n);
    bool v;
    if (!IsScalarNode(n) || !YAML::convert<bool>::decode(n, v)) {
      Issue(n, Child(path, key), "true or false", Describe(n));
      return def;
    }
    return v;
  }

  std::string String(const YAML::Node& parent, const std::string& path, const std::string& key, const std::string& def,
                     bool required = false) {
    const YAML::Node n = parent[key];
    if (IsMissing(n)) {
      if (required) Issue(n.IsDefined() ? n : parent, Child(path, key), "a string", "nothing (the field is required)");
      return def;
    }
    Track(n);
    if (!IsScalarNode(n)) {
      Issue(n, Child(path, key), "a string", Describe(n));
      return def;
    }
    return n.Scalar();
  }

  std::string Choice(const YAML::Node& parent, const std::string& path, const std::string& key, const std::string& def,
                     const std::vector<std::string>& choices) {
    std::string v = String(parent, path, key, def);  // not const: returned by move
    if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
      Issue(parent[key], Child(path, key), "one of " + JoinNames(choices), "'" + v + "'");
      return def;
    }
    return v;
  }

  SimTime Duration(const YAML::Node& parent, const std::string& path, const std::string& key, SimTime def, SimTime lo,
                   bool required = false) {
    const YAML::Node n = parent[key];
    const std::string p = Child(path, key);
    if (IsMissing(n)) {
      if (required)
        Issue(n.IsDefined() ? n : parent, p, "a duration such as '15m', '1h' or '7d'",
              "nothing (the field is required)");
      return def;
    }
    Track(n);
    SimTime v;
    if (!IsScalarNode(n) || !ParseDuration(n.Scalar(), &v)) {
      Issue(n, p, "a duration such as '15m', '1h30m' or '7d' (units d, h, m, s, ms, us)", Describe(n));
      return def;
    }
    if (v < lo) {
      Issue(n, p, "a duration of at least " + FormatDuration(lo), "'" + n.Scalar() + "'");
      return def;
    }
    return v;
  }

  // A list of names resolved against known names; "all" or absence means every one.
  std::vector<int> Names(const YAML::Node& parent, const std::string& path, const std::string& key,
                         const std::vector<std::string>& known, const char* what, bool empty_is_all) {
    std::vector<int> out;
    const YAML::Node n = parent[key];
    const std::string p = Child(path, key);
    if (IsMissing(n) || (IsScalarNode(n) && n.Scalar() == "all")) {
      if (empty_is_all)
        for (size_t i = 0; i < known.size(); ++i) out.push_back(static_cast<int>(i));
      return out;
    }
    Track(n);
    if (!IsSequenceNode(n)) {
      Issue(n, p, std::string("a list of ") + what + " names or 'all'", Describe(n));
      return out;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string name = IsScalarNode(n[i]) ? n[i].Scalar() : "";
      auto it = std::find(known.begin(), known.end(), name);
      if (it == known.end()) {
        Issue(n[i], Item(p, i), std::string("a ") + what + " name, one of " + JoinNames(known), Describe(n[i]));
      } else {
        const int idx = static_cast<int>(it - known.begin());
        if (std::find(out.begin(), out.end(), idx) != out.end())
          Issue(n[i], Item(p, i), std::string("each ") + what + " once", "'" + name + "' again");
        else
          out.push_back(idx);
      }
    }
    return out;
  }

  ParamMap Params(const YAML::Node& n, const std::string& path) {
    ParamMap out;
    if (IsMissing(n)) return out;
    Track(n);
    if (!IsMapNode(n)) {
      Issue(n, path, "a mapping of parameter names to values", Describe(n));
      return out;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = it->first.Scalar();
      const YAML::Node v = it->second;
      ParamValue pv;
      double d;
      bool b;
      if (IsMapNode(v) && v.size() == 1) {  // a numeric parameter given a distribution
        pv.number = DistributionAt(v, Child(path, k), 0.0, -HUGE_VAL, HUGE_VAL);
        out[k] = pv;
        continue;
      }
      if (!IsScalarNode(v)) {
        Issue(v, Child(path, k), "a number, true/false or a string", Describe(v));
        continue;
      }
      const std::string& s = v.Scalar();
      const bool quoted = v.Tag() == "!";
      if (!quoted && YAML::convert<double>::decode(v, d) && !s.empty() &&
          (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' || s[0] == '.')) {
        pv.kind = ParamValue::Kind::kNumber;
        pv.number = d;
      } else if (!quoted && (s == "true" || s == "false") && YAML::convert<bool>::decode(v, b)) {
        pv.kind = ParamValue::Kind::kBool;
        pv.boolean = b;
      } else {
        pv.kind = ParamValue::Kind::kString;
        pv.text = s;
      }
      out[k] = pv;
    }
    return out;
  }

  ComponentSpec Component(const YAML::Node& n, const std::string& path, const std::string& def_type) {
    ComponentSpec c;
    c.type = def_type;
    c.where = path;
    if (IsMissing(n)) return c;
    c.line = n.Mark().line + 1;
    if (IsScalarNode(n)) {
      c.type = n.Scalar();
      return c;
    }
    if (!Map(n, path, {"type", "params", "label", "priority"})) return c;
    c.type = String(n, path, "type", def_type, def_type.empty());
    c.label = String(n, path, "label", "");
    c.priority = static_cast<int>(Integer(n, path, "priority", 0, -1000000, 1000000));
    if (n["type"].IsDefined()) c.line = n["type"].Mark().line + 1;
    c.params = Params(n["params"], Child(path, "params"));
    if (IsMapNode(n["params"]))
      for (auto it = n["params"].begin(); it != n["params"].end(); ++it)
        c.param_lines[it->first.Scalar()] = it->first.Mark().line + 1;
    return c;
  }

  // `{NAME: [parameters]}` in place of a number in [lo, hi]: checks it,
  // records it in sampled_, and returns the value drawn from the sample seed
  // (redrawn while outside [lo, hi]) or, without a seed, a representative
  // value (the mean or median, brought into [lo, hi]).
  double DistributionAt(const YAML::Node& n, const std::string& p, double def, double lo, double hi) {
    const std::string name = n.begin()->first.Scalar();
    const YAML::Node list = n.begin()->second;
    const auto& names = DistributionNames();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      Issue(n, p, "a number, or a distribution {NAME: [parameters]} with NAME one of " + JoinNames(names),
            "unknown distribution '" + name + "'");
      return def;
    }
    const char* shape = name == "beta"        ? "[a, b] with a > 0 and b > 0"
                        : name == "lognormal" ? "[mu, sigma] (of the logarithm) with sigma >= 0"
                        : name == "normal"    ? "[mean, sd] with sd >= 0"
                        : name == "uniform"   ? "[low, high] with low <= high"
                                              : "a list of one or more numbers";
    const std::string expected = "parameters of '" + name + "': " + shape;
    const std::string where = p + "." + name;
    std::vector<double> values;
    if (!IsSequenceNode(list) || list.size() == 0) {
      Issue(list, where, expected, Describe(list));
      return def;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      double v;
      if (!IsScalarNode(list[i]) || !YAML::convert<double>::decode(list[i], v) || !std::isfinite(v)) {
        Issue(list[i], Item(where, i), "a number", Describe(list[i]));
        return def;
      }
      values.push_back(v);
    }
    const bool two = name != "choice";
    bool ok = !two || values.size() == 2;
    if (ok && name == "beta") ok = values[0] > 0 && values[1] > 0;
    if (ok && (name == "lognormal" || name == "normal")) ok = values[1] >= 0;
    if (ok && name == "uniform") ok = values[0] <= values[1];
    if (!ok) {
      std::ostringstream found;
      for (size_t i = 0; i < values.size(); ++i) found << (i ? ", " : "[") << values[i];
      Issue(list, where, expected, found.str() + "]");
      return def;
    }
    // A discrete or bounded distribution must lie inside the field's range.
    if (name == "uniform" || name == "choice") {
      for (size_t i = 0; i < values.size(); ++i) {
        if (values[i] < lo || values[i] > hi) {
          std::ostringstream os;
          os << "a number in [" << lo << ", " << hi << "] (the field's range)";
          Issue(list[i], Item(where, i), os.str(), list[i].Scalar());
          return def;
        }
      }
    }
    SampledField field{p, name, values, 0.0, sample_seed_.has_value()};
    field.value = sample_seed_ ? Draw(field, *sample_seed_, lo, hi) : Representative(field, lo, hi);
    sampled_.push_back(field);
    return field.value;
  }

 private:
  static double Representative(const SampledField& f, double lo, double hi) {
    const auto& v = f.parameters;
    double value = v[0];
    if (f.distribution == "beta") value = v[0] / (v[0] + v[1]);
    if (f.distribution == "lognormal") value = std::exp(v[0]);
    if (f.distribution == "uniform") value = 0.5 * (v[0] + v[1]);
    return std::min(std::max(value, lo), hi);
  }

  double Draw(const SampledField& f, uint64_t seed, double lo, double hi) {
    Stream stream(seed, "scenario_sampling/" + f.path);
    const auto& v = f.parameters;
    if (f.distribution == "choice") return v[stream.Below(static_cast<uint32_t>(v.size()))];
    for (int attempt = 0; attempt < 1000; ++attempt) {
      double x = 0;
      if (f.distribution == "beta") {
        const double a = boost::random::gamma_distribution<double>(v[0])(stream.engine());
        const double b = boost::random::gamma_distribution<double>(v[1])(stream.engine());
        x = a + b > 0 ? a / (a + b) : 0.5;
      } else if (f.distribution == "lognormal") {
        x = std::exp(v[0] + v[1] * stream.Normal());
      } else if (f.distribution == "normal") {
        x = v[0] + v[1] * stream.Normal();
      } else {  // uniform
        x = v[0] + (v[1] - v[0]) * stream.Uniform();
      }
      if (std::isfinite(x) && x >= lo && x <= hi) return x;
    }
    std::ostringstream os;
    os << "a distribution with values in the field's range [" << lo << ", " << hi << "]";
    IssueAtLine(0, f.path, os.str(),
                "1000 draws outside it for seed " + std::to_string(seed) + " (" + f.distribution + ")");
    return Representative(f, lo, hi);
  }

  std::string file_;
  std::optional<uint64_t> sample_seed_;
  int last_line_ = 0;
  std::vector<ConfigIssue> issues_;
  std::vector<SampledField> sampled_;
};

// `fatigue: {half_life: 20000, recovery: 3d}` under a segment or a creative override.
FatigueSpec ReadFatigue(Reader& r, const YAML::Node& parent, const std::string& path) {
  FatigueSpec f;
  const YAML::Node n = parent["fatigue"];
  const std::string p = Reader::Child(path, "fatigue");
  if (IsMissing(n)) return f;
  if (!r.Map(n, p, {"half_life", "recovery"})) return f;
  f.half_life = r.Number(n, p, "half_life", 0.0, 1.0, 1e12, true, " (impressions)");
  f.recovery = r.Duration(n, p, "recovery", 0, kMicrosPerSecond);
  return f;
}

// `quality_half_life: 6h` under a click-billed channel (the platform's
// click-rate estimate, core/engine/platform_quality.h); it has no meaning on an
// impression-billed channel, so it is refused there rather than ignored.
void ReadQualityHalfLife(Reader& r, const YAML::Node& channel, const std::string& path, ChannelSpec* spec) {
  const YAML::Node n = channel["quality_half_life"];
  if (IsMissing(n)) return;
  if (spec->billing != Billing::kClick) {
    r.Issue(n, Reader::Child(path, "quality_half_life"), "quality_half_life only with billing: click",
            "billing: impression");
    return;
  }
  spec->quality_half_life = r.Duration(channel, path, "quality_half_life", spec->quality_half_life, 0);
}

template <size_t N>
void ReadProfile(Reader& r, const YAML::Node& parent, const std::string& path, const std::string& key,
                 std::array<double, N>* out) {
  out->fill(1.0);
  const YAML::Node n = parent[key];
  const std::string p = Reader::Child(path, key);
  if (IsMissing(n)) return;
  r.Track(n);
  if (!IsSequenceNode(n) || n.size() != N) {
    r.Issue(n, p, "a list of " + std::to_string(N) + " non-negative multipliers", Describe(n));
    return;
  }
  double sum = 0;
  for (size_t i = 0; i < N; ++i) {
    (*out)[i] = r.NumberAt(n[i], Reader::Item(p, i), 1.0, 0.0, 1e6);
    sum += (*out)[i];
  }
  if (sum <= 0) {
    r.Issue(n, p, "at least one positive multiplier", "all zero");
    out->fill(1.0);
    return;
  }
  for (auto& v : *out) v *= static_cast<double>(N) / sum;  // mean 1: per_hour stays the mean rate
}

bool ParseStart(const std::string& s, int* weekday, SimTime* offset_in_day, int* hour) {
  // YYYY-MM-DDTHH:MM[:SS]
  int y, mo, d, h, mi, se = 0, used = 0;
  char t;
  const int fields =
      std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d%n:%2d%n", &y, &mo, &d, &t, &h, &mi, &used, &se, &used);
  if (fields < 6 || static_cast<size_t>(used) != s.size()) return false;  // no trailing text
  if (t != 'T' && t != ' ') return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int month_days[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59)
    return false;
  // Days from civil (Howard Hinnant's algorithm); 1970-01-01 was a Thursday.
  const int yy = y - (mo <= 2);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(yy - era * 400);
  const unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long days = static_cast<long>(era) * 146097 + static_cast<long>(doe) - 719468;
  *weekday = static_cast<int>(((days % 7) + 7 + 3) % 7);  // 0 = Monday
  *hour = h;
  *offset_in_day = h * kMicrosPerHour + mi * kMicrosPerMinute + se * kMicrosPerSecond;
  return true;
}

// yaml-cpp keeps the first of two equal keys in a mapping and says nothing
// (`{bid: 0.004, bid: 0.012}` bids 0.004): reject them, naming both lines.
void CheckDuplicateKeys(const YAML::Node& n, const std::string& path, Reader& r) {
  if (IsMapNode(n)) {
    std::map<std::string, int> seen;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) continue;
      const std::string& key = kv.first.Scalar();
      const std::string p = Reader::Child(path, key);
      const int line = kv.first.Mark().line + 1;
      const auto [first, fresh] = seen.emplace(key, line);
      if (!fresh)
        r.IssueAtLine(line, p, "each key once in a mapping",
                      "'" + key + "' again (first at line " + std::to_string(first->second) + ")");
      CheckDuplicateKeys(kv.second, p, r);
    }
  } else if (IsSequenceNode(n)) {
    for (size_t i = 0; i < n.size(); ++i) CheckDuplicateKeys(n[i], Reader::Item(path, i), r);
  }
}

// Budgets are held in whole micros up to kMaxBudgetUnits (core/types.h).
constexpr const char* kBudgetUnit = " (currency; budgets are held exactly, in micros, up to 1e12)";

// guardrails.review: {latency, rule, max_change}. A campaign's section
// overrides the fields it gives of the scenario-wide one.
void ReadReview(Reader& r, const YAML::Node& n, const std::string& path, ReviewSpec* out) {
  if (IsMissing(n)) return;
  if (!r.Map(n, path, {"latency", "rule", "max_change"})) return;
  out->latency = r.Duration(n, path, "latency", out->latency, 0);
  static const std::vector<std::string> kRules = {"approve_all", "approve_below", "reject_all", "none"};
  // A review section without a rule approves everything (after the latency).
  const char* current = out->rule == ReviewRule::kApproveBelow ? "approve_below"
                        : out->rule == ReviewRule::kRejectAll  ? "reject_all"
                                                               : "approve_all";
  const std::string rule = r.Choice(n, path, "rule", current, kRules);
  out->rule = rule == "approve_below" ? ReviewRule::kApproveBelow
              : rule == "reject_all"  ? ReviewRule::kRejectAll
              : rule == "none"        ? ReviewRule::kNone
                                      : ReviewRule::kApproveAll;
  // (After an unknown rule, which is already reported, this would be noise.)
  const bool rule_known =
      !n["rule"].IsDefined() ||
      (IsScalarNode(n["rule"]) && std::find(kRules.begin(), kRules.end(), n["rule"].Scalar()) != kRules.end());
  if (rule_known && n["max_change"].IsDefined() && out->rule != ReviewRule::kApproveBelow)
    r.Issue(n["max_change"], Reader::Child(path, "max_change"), "max_change only with rule: approve_below",
            "rule: " + rule);
  out->max_change = r.Number(n, path, "max_change", out->max_change, 0.0, 1e6);
}

// `account_budget: {daily, total}`: a cap on all campaigns together, read like
// a campaign's `budget` (same units and ranges).
void ReadAccountBudget(const YAML::Node& root, Reader& r, Scenario* sc) {
  const YAML::Node b = root["account_budget"];
  if (IsMissing(b) || !r.Map(b, "account_budget", {"daily", "total"})) return;
  if (b["daily"].IsDefined())
    sc->account_daily_budget =
        r.Number(b, "account_budget", "daily", INFINITY, 0.0, kMaxBudgetUnits, false, kBudgetUnit);
  if (b["total"].IsDefined())
    sc->account_total_budget =
        r.Number(b, "account_budget", "total", INFINITY, 0.0, kMaxBudgetUnits, false, kBudgetUnit);
}

// `journeys: {touchpoints, baseline, lift, view_through_window,
// click_through_window}` (docs/journeys.md). Reads after channels and
// segments, whose names it refers to.
void ReadJourneys(const YAML::Node& root, Reader& r, Scenario* sc) {
  const YAML::Node n = root["journeys"];
  if (!n.IsDefined()) return;
  const std::string path = "journeys";
  if (!r.Map(n, path,
             {"touchpoints", "baseline", "lift", "view_through_window", "click_through_window", "truth", "holdout",
              "interactions", "truth_shapley", "truth_permutations"}))
    return;
  JourneySpec spec;
  spec.touchpoints = static_cast<int>(r.Integer(n, path, "touchpoints", spec.touchpoints, 1, 1024));
  spec.baseline.assign(sc->segments.size(), 0.0);
  const YAML::Node baseline = n["baseline"];
  const std::string bp = Reader::Child(path, "baseline");
  if (!IsMissing(baseline) && !IsMapNode(baseline))
    r.Issue(baseline, bp, "a mapping of segment names to organic conversions per user per day", Describe(baseline));
  if (IsMapNode(baseline)) {
    for (auto it = baseline.begin(); it != baseline.end(); ++it) {
      const std::string name = it->first.Scalar();
      const int segment = sc->SegmentIndex(name);
      if (segment < 0) {
        std::vector<std::string> names;
        for (const auto& seg : sc->segments) names.push_back(seg.name);
        r.Issue(it->first, Reader::Child(bp, name), "a segment name, one of " + JoinNames(names),
                "unknown segment '" + name + "'");
        continue;
      }
      spec.baseline[segment] = r.Number(baseline, bp, name, 0.0, 0.0, 100.0, false, " (conversions per user per day)");
    }
  }
  const YAML::Node lifts = n["lift"];
  const std::string lp = Reader::Child(path, "lift");
  if (!IsMissing(lifts)) {
    if (!IsSequenceNode(lifts)) {
      r.Issue(lifts, lp, "a list of lifts ({channel, kind, lift, half_life, saturation})", Describe(lifts));
    } else {
      for (size_t i = 0; i < lifts.size(); ++i) {
        const std::string p = Reader::Item(lp, i);
        const YAML::Node l = lifts[i];
        if (!r.Map(l, p, {"channel", "kind", "lift", "half_life", "saturation"})) continue;
        JourneyLiftSpec lift;
        const std::string channel = r.String(l, p, "channel", "", true);
        lift.channel = sc->ChannelIndex(channel);
        if (lift.channel < 0 && l["channel"].IsDefined()) {
          std::vector<std::string> names;
          for (const auto& ch : sc->channels) names.push_back(ch.name);
          r.Issue(l["channel"], Reader::Child(p, "channel"), "a channel name, one of " + JoinNames(names),
                  "'" + channel + "'");
        }
        lift.kind = r.Choice(l, p, "kind", "view", {"view", "click"}) == "click" ? TouchKind::kClick : TouchKind::kView;
        lift.lift = r.Number(l, p, "lift", 0.0, 0.0, 100.0, true, " (conversions per user per day)");
        lift.half_life = r.Duration(l, p, "half_life", lift.half_life, kMicrosPerSecond);
        lift.saturation = r.Number(l, p, "saturation", 0.0, 0.0, 1e6);
        if (l["saturation"].IsDefined() && lift.saturation <= 0)
          r.Issue(l["saturation"], Reader::Child(p, "saturation"),
                  "a positive number of touches (omit the field for no saturation)", l["saturation"].Scalar());
        bool repeated = false;
        for (const auto& other : spec.lifts) repeated |= other.channel == lift.channel && other.kind == lift.kind;
        if (repeated && lift.channel >= 0)
          r.Issue(l, p, "one lift per channel and kind",
                  "'" + channel + "' " + (lift.kind == TouchKind::kClick ? "click" : "view") + " again");
        spec.lifts.push_back(lift);
      }
    }
  }
  // interactions: [{channels: [a, b], lift_multiplier: 1.5}], channels that interact in the hazard.
  const YAML::Node interactions = n["interactions"];
  const std::string ip = Reader::Child(path, "interactions");
  if (!IsMissing(interactions)) {
    if (!IsSequenceNode(interactions)) {
      r.Issue(interactions, ip, "a list of interactions ({channels, lift_multiplier})", Describe(interactions));
    } else {
      std::vector<std::string> channel_names;
      for (const auto& ch : sc->channels) channel_names.push_back(ch.name);
      for (size_t i = 0; i < interactions.size(); ++i) {
        const std::string p = Reader::Item(ip, i);
        const YAML::Node m = interactions[i];
        if (!r.Map(m, p, {"channels", "lift_multiplier"})) continue;
        JourneyInteractionSpec interaction;
        if (!m["channels"].IsDefined())
          r.Issue(m, Reader::Child(p, "channels"), "a list of at least two channel names",
                  "nothing (the field is required)");
        else
          interaction.channels = r.Names(m, p, "channels", channel_names, "channel", false);
        if (m["channels"].IsDefined() && IsSequenceNode(m["channels"]) && m["channels"].size() < 2)
          r.Issue(m["channels"], Reader::Child(p, "channels"), "at least two channel names",
                  std::to_string(m["channels"].size()));
        interaction.lift_multiplier = r.Number(m, p, "lift_multiplier", 1.0, 0.0, 100.0, true, " (ratio)");
        spec.interactions.push_back(interaction);
      }
    }
  }
  spec.view_through_window = r.Duration(n, path, "view_through_window", spec.view_through_window, 0);
  spec.click_through_window = r.Duration(n, path, "click_through_window", spec.click_through_window, 0);
  spec.truth = r.Bool(n, path, "truth", false);
  const std::string method = r.Choice(n, path, "truth_shapley", "auto", {"auto", "exact", "sampled"});
  spec.truth_shapley = method == "exact"     ? JourneySpec::ShapleyMethod::kExact
                       : method == "sampled" ? JourneySpec::ShapleyMethod::kSampled
                                             : JourneySpec::ShapleyMethod::kAuto;
  spec.truth_permutations =
      static_cast<int>(r.Integer(n, path, "truth_permutations", spec.truth_permutations, 10, 1000000));
  // The exact Shapley values of the truth take 2^players evaluations per conversion.
  if (spec.truth && spec.truth_shapley == JourneySpec::ShapleyMethod::kExact) {
    const auto channels = static_cast<int>(sc->channels.size()), campaigns = static_cast<int>(sc->campaigns.size());
    if (channels > JourneySpec::kMaxTruthPlayers || campaigns > JourneySpec::kMaxTruthPlayers)
      r.Issue(n["truth_shapley"], Reader::Child(path, "truth_shapley"),
              "at most " + std::to_string(JourneySpec::kMaxTruthPlayers) +
                  " channels and campaigns for exact Shapley values over 2^n subsets (auto or sampled beyond)",
              std::to_string(channels) + " channels, " + std::to_string(campaigns) + " campaigns");
  }
  // holdout: {channel: share}, the users held out of each channel.
  const YAML::Node holdout = n["holdout"];
  const std::string hp = Reader::Child(path, "holdout");
  if (!IsMissing(holdout) && !IsMapNode(holdout))
    r.Issue(holdout, hp, "a mapping of channel names to the share of users held out of them", Describe(holdout));
  if (IsMapNode(holdout)) {
    spec.holdout.assign(sc->channels.size(), 0.0);
    for (auto it = holdout.begin(); it != holdout.end(); ++it) {
      const std::string name = it->first.Scalar();
      const int channel = sc->ChannelIndex(name);
      if (channel < 0) {
        std::vector<std::string> names;
        for (const auto& ch : sc->channels) names.push_back(ch.name);
        r.Issue(it->first, Reader::Child(hp, name), "a channel name, one of " + JoinNames(names),
                "unknown channel '" + name + "'");
        continue;
      }
      spec.holdout[channel] = r.Number(holdout, hp, name, 0.0, 0.0, 0.5, true, " (share of users held out)");
    }
  }
  sc->journeys = spec;
}

// `funnel: {rates, channels, creatives}` (docs/funnel.md). Reads after
// channels, segments, campaigns and journeys, whose names it refers to. With
// journeys, the hazard's conversions pass through the stages (docs/journeys.md).
void ReadFunnel(const YAML::Node& root, Reader& r, Scenario* sc) {
  const YAML::Node n = root["funnel"];
  if (!n.IsDefined()) return;
  const std::string path = "funnel";
  if (!r.Map(n, path, {"rates", "channels", "creatives"})) return;
  FunnelSpec spec;
  const std::vector<std::string> stages = {"visit", "cart", "purchase"};
  // One {visit, cart, purchase} mapping: rates (required, in [0, 1]) or multipliers (default 1).
  auto read_stages = [&](const YAML::Node& m, const std::string& p, bool rates,
                         std::array<double, kFunnelStages>* out) {
    if (!r.Map(m, p, stages)) return;
    for (int stage = 0; stage < kFunnelStages; ++stage)
      (*out)[stage] = rates ? r.Number(m, p, stages[stage], 0.0, 0.0, 1.0, true, " (probability)")
                            : r.Number(m, p, stages[stage], 1.0, 0.0, 1e3, false, " (multiplier)");
  };
  // A mapping of names (segments, channels or campaign/creative keys) to stage mappings.
  auto read_named = [&](const std::string& key, const std::string& what, const std::vector<std::string>& names,
                        bool rates, auto&& store) {
    const YAML::Node m = n[key];
    const std::string p = Reader::Child(path, key);
    if (IsMissing(m)) return;
    if (!IsMapNode(m)) {
      r.Issue(m, p, "a mapping of " + what + " names to {visit, cart, purchase}", Describe(m));
      return;
    }
    for (auto it = m.begin(); it != m.end(); ++it) {
      const std::string name = it->first.Scalar();
      const auto found = std::find(names.begin(), names.end(), name);
      if (found == names.end()) {
        r.Issue(it->first, Reader::Child(p, name), "a " + what + " name, one of " + JoinNames(names),
                "unknown " + what + " '" + name + "'");
        continue;
      }
      std::array<double, kFunnelStages> values = {1.0, 1.0, 1.0};
      read_stages(it->second, Reader::Child(p, name), rates, &values);
      store(static_cast<int>(found - names.begin()), name, values);
    }
  };
  std::vector<std::string> segment_names, channel_names, creative_keys;
  for (const auto& segment : sc->segments) segment_names.push_back(segment.name);
  for (const auto& channel : sc->channels) channel_names.push_back(channel.name);
  for (const auto& campaign : sc->campaigns)
    for (const auto& creative : campaign.creatives) creative_keys.push_back(campaign.name + "/" + creative.name);
  spec.rates.assign(sc->segments.size(), {-1.0, -1.0, -1.0});
  if (!n["rates"].IsDefined())
    r.Issue(n, Reader::Child(path, "rates"), "a mapping of every segment name to {visit, cart, purchase}",
            "nothing (the field is required)");
  read_named("rates", "segment", segment_names, true,
             [&](int index, const std::string&, const std::array<double, kFunnelStages>& v) { spec.rates[index] = v; });
  if (IsMapNode(n["rates"]))
    for (size_t s = 0; s < sc->segments.size(); ++s)
      if (spec.rates[s][0] < 0)
        r.Issue(n["rates"], Reader::Child(Reader::Child(path, "rates"), sc->segments[s].name),
                "rates {visit, cart, purchase} for every segment",
                "no rates for segment '" + sc->segments[s].name + "'");
  spec.channel_multipliers.assign(sc->channels.size(), {1.0, 1.0, 1.0});
  read_named("channels", "channel", channel_names, false,
             [&](int index, const std::string&, const std::array<double, kFunnelStages>& v) {
               spec.channel_multipliers[index] = v;
             });
  read_named("creatives", "campaign/creative", creative_keys, false,
             [&](int, const std::string& name, const std::array<double, kFunnelStages>& v) {
               spec.creative_multipliers[name] = v;
             });
  for (size_t c = 0; c < sc->channels.size(); ++c)
    if (sc->channels[c].replay)
      r.Issue(n, path, "no funnel on a replayed log (the log holds the conversions)",
              "channel '" + sc->channels[c].name + "' replays a log");
  sc->funnel = spec;
}

// A list of `count` numbers at `path` (coefficients of the user features).
std::vector<double> ReadCoefficients(Reader& r, const YAML::Node& parent, const std::string& path,
                                     const std::string& key, int count) {
  std::vector<double> out;
  const YAML::Node n = parent[key];
  const std::string p = Reader::Child(path, key);
  const std::string expected =
      "a list of " + std::to_string(count) + " numbers (one per user feature, users.features.count)";
  if (IsMissing(n)) {
    r.Issue(n.IsDefined() ? n : parent, p, expected, "nothing (the field is required)");
    return out;
  }
  r.Track(n);
  if (!IsSequenceNode(n) || static_cast<int>(n.size()) != count) {
    r.Issue(n, p, expected, Describe(n));
    return out;
  }
  for (size_t k = 0; k < n.size(); ++k) out.push_back(r.NumberAt(n[k], Reader::Item(p, k), 0.0, -100.0, 100.0));
  return out;
}

// `users: {features: {count, distribution}, conversion: {coefficients}}`,
// `audiences: [{name, intercept, coefficients, threshold}]` and each
// campaign's `audiences: {NAME: modifier, others: modifier}`
// (docs/audiences.md). Reads after campaigns and journeys.
void ReadUsersAndAudiences(const YAML::Node& root, Reader& r, Scenario* sc) {
  const YAML::Node users = root["users"];
  if (users.IsDefined() && r.Map(users, "users", {"features", "conversion"})) {
    UserFeatureSpec spec;
    const YAML::Node features = users["features"];
    if (IsMissing(features)) {
      r.Issue(features.IsDefined() ? features : users, "users.features", "a mapping {count, distribution}",
              "nothing (the field is required)");
    } else if (r.Map(features, "users.features", {"count", "distribution"})) {
      if (IsMissing(features["count"]))
        r.Issue(features, "users.features.count", "a whole number in [1, 64]", "nothing (the field is required)");
      spec.count = static_cast<int>(r.Integer(features, "users.features", "count", 1, 1, 64));
      spec.distribution =
          r.Choice(features, "users.features", "distribution", "normal", {"normal", "uniform"}) == "uniform"
              ? FeatureDist::kUniform
              : FeatureDist::kNormal;
    }
    const YAML::Node conversion = users["conversion"];
    if (!IsMissing(conversion) && r.Map(conversion, "users.conversion", {"coefficients"}))
      spec.conversion_coefficients = ReadCoefficients(r, conversion, "users.conversion", "coefficients", spec.count);
    if (!spec.conversion_coefficients.empty() && sc->funnel)
      r.Issue(conversion, "users.conversion",
              "no users.conversion with a funnel (features shift one cvr; a funnel splits it into stages)",
              "both users.conversion and funnel");
    if (!spec.conversion_coefficients.empty() && sc->journeys)
      r.Issue(conversion, "users.conversion",
              "no users.conversion with journeys (features change the click-then-convert model; journeys replace it)",
              "both users.conversion and journeys");
    for (const auto& channel : sc->channels)
      if (channel.replay) {
        r.Issue(users, "users", "no users section on a replayed log (its users and outcomes are logged)",
                "channels replaying logs");
        break;
      }
    sc->user_features = spec;
  }
  const YAML::Node audiences = root["audiences"];
  const int count = sc->user_features ? sc->user_features->count : 0;
  if (!IsMissing(audiences)) {
    if (!IsSequenceNode(audiences)) {
      r.Issue(audiences, "audiences", "a list of audiences ({name, intercept, coefficients, threshold})",
              Describe(audiences));
    } else if (!sc->user_features) {
      r.Issue(audiences, "audiences", "a users.features section (audiences score users' public features)",
              "audiences without users.features");
    } else if (audiences.size() > 32) {
      r.Issue(audiences, "audiences", "at most 32 audiences", "a list of " + std::to_string(audiences.size()));
    } else {
      for (size_t i = 0; i < audiences.size(); ++i) {
        const std::string p = Reader::Item("audiences", i);
        const YAML::Node a = audiences[i];
        if (!r.Map(a, p, {"name", "intercept", "coefficients", "threshold", "lookalike"})) continue;
        AudienceSpec spec;
        spec.name = r.String(a, p, "name", "audience" + std::to_string(i), true);
        if (spec.name == "others")
          r.Issue(a["name"], Reader::Child(p, "name"), "an audience name other than 'others' (reserved)", "'others'");
        for (const auto& other : sc->audiences)
          if (other.name == spec.name)
            r.Issue(a["name"], Reader::Child(p, "name"), "an audience name used once", "'" + spec.name + "' again");
        const YAML::Node lookalike = a["lookalike"];
        if (!IsMissing(lookalike)) {
          // Fitted inside the run (docs/audiences.md, "A lookalike fitted inside the run").
          spec.lookalike = true;
          for (const char* key : {"intercept", "coefficients", "threshold"})
            if (!IsMissing(a[key]))
              r.Issue(a[key], Reader::Child(p, key),
                      "no " + std::string(key) + " with lookalike (the run fits the model and the threshold)",
                      Describe(a[key]));
          const std::string q = Reader::Child(p, "lookalike");
          if (r.Map(lookalike, q, {"seed", "fit_at", "top_share", "l2"})) {
            r.Choice(lookalike, q, "seed", "converters", {"converters"});
            spec.fit_at = r.Duration(lookalike, q, "fit_at", 0, kMicrosPerSecond, true);
            if (spec.fit_at >= sc->duration && sc->duration > 0)
              r.Issue(lookalike["fit_at"], Reader::Child(q, "fit_at"),
                      "a time before the end of the run (duration " + FormatDuration(sc->duration) + ")",
                      "'" + lookalike["fit_at"].Scalar() + "'");
            spec.top_share = r.Number(lookalike, q, "top_share", 0.1, 0.0, 1.0);
            if (!(spec.top_share > 0))
              r.Issue(lookalike["top_share"], Reader::Child(q, "top_share"), "a share in (0, 1]",
                      Describe(lookalike["top_share"]));
            spec.l2 = r.Number(lookalike, q, "l2", 1.0, 0.0, 1e9);
          }
          sc->audiences.push_back(spec);
          continue;
        }
        spec.intercept = r.Number(a, p, "intercept", 0.0, -1e6, 1e6);
        spec.coefficients = ReadCoefficients(r, a, p, "coefficients", count);
        spec.threshold = r.Number(a, p, "threshold", 0.0, -1e9, 1e9, true, " (the lowest score of a member)");
        sc->audiences.push_back(spec);
      }
    }
  }
  const YAML::Node campaigns = root["campaigns"];
  if (!IsSequenceNode(campaigns)) return;
  std::vector<std::string> names{"others"};
  for (const auto& audience : sc->audiences) names.push_back(audience.name);
  for (size_t i = 0; i < campaigns.size() && i < sc->campaigns.size(); ++i) {
    if (!IsMapNode(campaigns[i])) continue;
    const YAML::Node n = campaigns[i]["audiences"];
    if (IsMissing(n)) continue;
    const std::string p = Reader::Child(Reader::Item("campaigns", i), "audiences");
    if (!IsMapNode(n)) {
      r.Issue(n, p, "a mapping of audience names to bid modifiers ({lookalike: 2.0, others: 0.5})", Describe(n));
      continue;
    }
    CampaignSpec& campaign = sc->campaigns[i];
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string name = it->first.Scalar();
      const auto found = std::find(names.begin(), names.end(), name);
      if (found == names.end()) {
        r.Issue(it->first, Reader::Child(p, name),
                "an audience name (audiences[].name) or 'others', one of " + JoinNames(names),
                "unknown audience '" + name + "'");
        continue;
      }
      const double modifier = r.Number(n, p, name, 1.0, 0.0, 1e6, false, " (bid multiplier)");
      if (name == "others")
        campaign.others_modifier = modifier;
      else
        campaign.audience_modifiers.push_back({static_cast<int>(found - names.begin()) - 1, modifier});
    }
  }
}

// `traffic.replay: {path, format, columns, on_bad_rows, unlogged}` of one
// channel (docs/replay.md). A relative path is resolved against the folder of
// the scenario file; whether the log can be read is checked when the replay
// market opens it (a ConfigError naming this field).
void ReadReplay(Reader& r, const YAML::Node& n, const std::string& path, const std::string& source_name,
                ChannelSpec* channel) {
  if (!r.Map(n, path, {"path", "format", "columns", "on_bad_rows", "unlogged"})) return;
  ReplaySpec spec;
  spec.path = r.String(n, path, "path", "", true);
  spec.field = Reader::Child(path, "path");
  if (n["path"].IsDefined() && spec.path.empty()) r.Issue(n["path"], spec.field, "the path of a log file", "''");
  spec.resolved = spec.path;
  const std::filesystem::path written(spec.path);
  if (!spec.path.empty() && written.is_relative() && !source_name.empty() && source_name.front() != '<')
    spec.resolved = (std::filesystem::path(source_name).parent_path() / written).string();
  spec.format = r.Choice(n, path, "format", "csv", {"csv", "adsim"});
  const std::string bad = r.Choice(n, path, "on_bad_rows", "fail", {"fail", "skip", "sort"});
  spec.on_bad_rows = bad == "skip" ? BadRowPolicy::kSkip : bad == "sort" ? BadRowPolicy::kSort : BadRowPolicy::kFail;
  spec.unlogged = r.Choice(n, path, "unlogged", "skip", {"skip", "model"}) == "model" ? UnloggedPolicy::kModel
                                                                                      : UnloggedPolicy::kSkip;
  const YAML::Node columns = n["columns"];
  const std::string cp = Reader::Child(path, "columns");
  static const std::vector<std::string> kFields = {
      "time", "channel", "segment",         "user",  "floor",    "market_price",
      "won",  "click",   "conversion_time", "value", "creative", "quality"};
  if (columns.IsDefined() && r.Map(columns, cp, kFields)) {
    if (spec.format != "csv") r.Issue(columns, cp, "columns only with format: csv", "format: " + spec.format);
    for (const auto& kv : columns) {
      const std::string field = kv.first.Scalar();
      spec.columns[field] = r.String(columns, cp, field, field);
    }
  }
  channel->replay = spec;
}

// Once a channel replays a log the replay market stands in for the synthetic
// one (and draws the synthetic channels beside the replayed ones itself);
// each replayed channel has one slot, and the oracle (which needs the true
// rates) is not available on logs.
void CheckReplay(const YAML::Node& root, Reader& r, Scenario* sc) {
  int replayed = 0;
  for (const ChannelSpec& channel : sc->channels) replayed += channel.replay ? 1 : 0;
  if (replayed == 0) {
    if (sc->market == "replay")
      r.Issue(root["market"], "market", "market: replay only with channels whose traffic is a log (traffic.replay)",
              "no channel with traffic.replay");
    return;
  }
  const YAML::Node channels = root["channels"];
  for (size_t i = 0; i < sc->channels.size(); ++i) {
    const ChannelSpec& channel = sc->channels[i];
    const std::string p = Reader::Item("channels", i);
    const YAML::Node item = channels[i];
    if (channel.replay && channel.slots != 1)
      r.Issue(IsMapNode(item) ? item["auction"] : item, Reader::Child(p, "auction"),
              "a single-slot auction on a replayed channel (a log holds one market price, not one per slot)",
              std::to_string(channel.slots) + " slots");
  }
  if (root["market"].IsDefined() && sc->market != "replay")
    r.Issue(root["market"], "market", "market: replay (or no market field) when channels replay logs",
            "'" + sc->market + "'");
  sc->market = "replay";
  if (sc->oracle)
    r.Issue(root["oracle"], "oracle",
            "oracle: false on a replayed log (the oracle needs the true rates, which a log does not have)", "true");
}

Scenario Build(const YAML::Node& root, const std::string& source_name, const std::string& text,
               std::optional<uint64_t> sample_seed) {
  Reader r(source_name, sample_seed);
  CheckDuplicateKeys(root, "", r);
  if (!r.issues().empty()) throw ConfigError(r.issues());
  Scenario sc;
  sc.source_name = source_name;
  sc.source_text = text;
  if (!r.Map(root, "",
             {"name",       "description", "seed",        "start",    "duration",       "bucket",   "control_cycle",
              "channels",   "segments",    "campaigns",   "shocks",   "controllers",    "monitors", "alert_grace",
              "guardrails", "recording",   "experiments", "oracle",   "account_budget", "market",   "python",
              "journeys",   "funnel",      "users",       "audiences"}))
    throw ConfigError(r.issues());

  sc.name = r.String(root, "", "name", "scenario");
  // `python: [my_strategies.py, ...]` (or one file): read here, loaded by the
  // Python package before the run.
  const YAML::Node python = root["python"];
  if (!IsMissing(python)) {
    const auto add_module = [&](const YAML::Node& item, const std::string& path) {
      if (!IsScalarNode(item) || item.Scalar().empty())
        r.Issue(item, path, "a Python module file (a path relative to the scenario file)", Describe(item));
      else
        sc.python_modules.push_back({item.Scalar(), item.Mark().line + 1});
    };
    if (IsSequenceNode(python)) {
      for (size_t k = 0; k < python.size(); ++k) add_module(python[k], Reader::Item("python", k));
    } else {
      add_module(python, "python");
    }
  }
  sc.description = r.String(root, "", "description", "");
  sc.market = r.Choice(root, "", "market", sc.market, MarketNames());
  if (root["seed"].IsDefined() && !root["seed"].IsNull()) {
    uint64_t s;
    if (!IsScalarNode(root["seed"]) || !YAML::convert<uint64_t>::decode(root["seed"], s))
      r.Issue(root["seed"], "seed", "a whole number in [0, 2^64)", Describe(root["seed"]));
    else
      sc.seed = s;
  }
  sc.start = r.String(root, "", "start", sc.start);
  if (!ParseStart(sc.start, &sc.start_weekday, &sc.start_offset_in_day, &sc.start_hour))
    r.Issue(root["start"], "start", "a date-time such as '2026-01-05T00:00:00'", "'" + sc.start + "'");
  sc.duration = r.Duration(root, "", "duration", sc.duration, kMicrosPerSecond, true);
  sc.bucket = r.Duration(root, "", "bucket", sc.bucket, kMicrosPerSecond);
  sc.control_cycle = r.Duration(root, "", "control_cycle", sc.control_cycle, kMicrosPerSecond);
  if (sc.duration > 366 * kMicrosPerDay)
    r.Issue(root["duration"], "duration", "at most 366d", FormatDuration(sc.duration));
  if (sc.duration / sc.bucket > 200000)
    r.Issue(root["bucket"], "bucket", "a bucket giving at most 200000 buckets over the duration",
            FormatDuration(sc.bucket));

  // ---- channels
  const YAML::Node chs = root["channels"];
  std::vector<std::string> channel_names;
  if (!IsSequenceNode(chs) || chs.size() == 0) {
    r.Issue(chs.IsDefined() ? chs : root, "channels", "a non-empty list of channels", Describe(chs));
  } else {
    for (size_t i = 0; i < chs.size(); ++i) {
      const std::string p = Reader::Item("channels", i);
      const YAML::Node c = chs[i];
      ChannelSpec ch;
      if (r.Map(c, p,
                {"name", "auction", "floor", "billing", "traffic", "competition", "ctr_factor", "quality_half_life"})) {
        ch.name = r.String(c, p, "name", "channel" + std::to_string(i), true);
        const YAML::Node a = c["auction"];
        const std::string ap = Reader::Child(p, "auction");
        if (IsScalarNode(a)) {
          const std::string t = r.Choice(c, p, "auction", "second_price", {"second_price", "first_price", "gsp"});
          ch.auction = t == "first_price" ? AuctionType::kFirstPrice
                       : t == "gsp"       ? AuctionType::kGsp
                                          : AuctionType::kSecondPrice;
          if (ch.auction == AuctionType::kGsp) {  // the same defaults as {type: gsp}
            ch.slots = 3;
            ch.click_factors = {1.0, 0.7, 0.49};
          }
        } else if (a.IsDefined() && r.Map(a, ap, {"type", "slots", "click_factors"})) {
          const std::string t = r.Choice(a, ap, "type", "second_price", {"second_price", "first_price", "gsp"});
          ch.auction = t == "first_price" ? AuctionType::kFirstPrice
                       : t == "gsp"       ? AuctionType::kGsp
                                          : AuctionType::kSecondPrice;
          if (ch.auction == AuctionType::kGsp) {
            ch.slots = static_cast<int>(r.Integer(a, ap, "slots", 3, 1, kMaxSlots));
            ch.click_factors.assign(ch.slots, 1.0);
            const YAML::Node cf = a["click_factors"];
            if (cf.IsDefined()) {
              if (!IsSequenceNode(cf) || static_cast<int>(cf.size()) != ch.slots) {
                r.Issue(cf, Reader::Child(ap, "click_factors"),
                        "a list of " + std::to_string(ch.slots) + " click factors (one per slot)", Describe(cf));
              } else {
                for (int s = 0; s < ch.slots; ++s)
                  ch.click_factors[s] =
                      r.NumberAt(cf[s], Reader::Item(Reader::Child(ap, "click_factors"), s), 1.0, 0.0, 1.0);
              }
            } else {
              for (int s = 0; s < ch.slots; ++s) ch.click_factors[s] = std::pow(0.7, s);
            }
          } else if (a["slots"].IsDefined() || a["click_factors"].IsDefined()) {
            r.Issue(a, ap, "slots and click_factors only with type gsp", "auction type " + t);
          }
        }
        ch.floor = r.Number(c, p, "floor", 0.0, 0.0, 1e6);
        ch.billing = r.Choice(c, p, "billing", "impression", {"impression", "click"}) == "click" ? Billing::kClick
                                                                                                 : Billing::kImpression;
        ch.ctr_factor = r.Number(c, p, "ctr_factor", 1.0, 0.0, 100.0);
        ReadQualityHalfLife(r, c, p, &ch);
        const YAML::Node t = c["traffic"];
        const std::string tp = Reader::Child(p, "traffic");
        if (!t.IsDefined()) {
          r.Issue(c, tp, "a mapping with per_hour (opportunities per hour)", "nothing (the field is required)");
        } else if (r.Map(t, tp, {"per_hour", "hour_of_day", "day_of_week", "replay"})) {
          if (t["replay"].IsDefined()) ReadReplay(r, t["replay"], Reader::Child(tp, "replay"), source_name, &ch);
          ch.per_hour =
              r.Number(t, tp, "per_hour", 0.0, 0.0, 1e10, !ch.replay.has_value(), " (opportunities per hour)");
          ReadProfile(r, t, tp, "hour_of_day", &ch.hour_of_day);
          ReadProfile(r, t, tp, "day_of_week", &ch.day_of_week);
        }
        const YAML::Node k = c["competition"];
        const std::string kp = Reader::Child(p, "competition");
        if (!k.IsDefined() && ch.replay) {
          // A replayed channel's competition is the log's market price.
        } else if (!k.IsDefined()) {
          r.Issue(c, kp, "a mapping {competitors: K, median: M (or mu), sigma: S} describing the competing bids",
                  "nothing (the field is required)");
        } else if (r.Map(k, kp, {"competitors", "mu", "sigma", "median"})) {
          if (!k["median"].IsDefined() && !k["mu"].IsDefined())
            r.Issue(k, kp, "median or mu of the competitor bid distribution", "neither");
          ch.competitors = static_cast<int>(r.Integer(k, kp, "competitors", 5, 1, 10000));
          if (k["median"].IsDefined() && k["mu"].IsDefined()) r.Issue(k, kp, "either mu or median, not both", "both");
          if (k["median"].IsDefined())
            ch.bid_mu = std::log(r.Number(k, kp, "median", 1.0, 1e-9, 1e9));
          else
            ch.bid_mu = r.Number(k, kp, "mu", 0.0, -30.0, 30.0);
          ch.bid_sigma = r.Number(k, kp, "sigma", 0.5, 0.0, 10.0);
        }
        if (ch.auction != AuctionType::kGsp) ch.click_factors = {1.0};
      }
      // Only a mapping has a name (yaml-cpp throws on a scalar's ["name"]; found by fuzzing).
      if (IsMapNode(c) && std::find(channel_names.begin(), channel_names.end(), ch.name) != channel_names.end())
        r.Issue(c["name"], Reader::Child(p, "name"), "a channel name used once", "'" + ch.name + "' again");
      channel_names.push_back(ch.name);
      sc.channels.push_back(ch);
    }
  }

  // ---- segments
  const YAML::Node sgs = root["segments"];
  std::vector<std::string> segment_names;
  if (!IsSequenceNode(sgs) || sgs.size() == 0) {
    r.Issue(sgs.IsDefined() ? sgs : root, "segments", "a non-empty list of audience segments", Describe(sgs));
  } else {
    for (size_t i = 0; i < sgs.size(); ++i) {
      const std::string p = Reader::Item("segments", i);
      const YAML::Node s = sgs[i];
      SegmentSpec seg;
      seg.share.assign(sc.channels.size(), 0.0);
      seg.competition.assign(sc.channels.size(), std::nullopt);
      if (r.Map(s, p,
                {"name", "users", "propensity_sigma", "share", "ctr", "cvr", "creatives", "conversion_value",
                 "conversion_delay", "competition", "fatigue", "features"})) {
        seg.name = r.String(s, p, "name", "segment" + std::to_string(i), true);
        seg.users = r.Integer(s, p, "users", 100000, 1, 100'000'000);
        seg.propensity_sigma = r.Number(s, p, "propensity_sigma", 0.0, 0.0, 3.0);
        seg.ctr = r.Number(s, p, "ctr", 0.01, 0.0, 1.0, true);
        seg.cvr = r.Number(s, p, "cvr", 0.05, 0.0, 1.0, true);
        seg.fatigue = ReadFatigue(r, s, p);
        const YAML::Node ft = s["features"];
        const std::string ftp = Reader::Child(p, "features");
        if (!IsMissing(ft)) {
          if (!IsMapNode(ft)) {
            r.Issue(ft, ftp, "a mapping from feature name to number (e.g. {age_25_34: 1, mobile: 0.7})", Describe(ft));
          } else {
            for (auto it = ft.begin(); it != ft.end(); ++it) {
              const std::string key = it->first.Scalar();
              seg.features.emplace_back(key, r.Number(ft, ftp, key, 0.0, -1e6, 1e6));
            }
          }
        }
        const YAML::Node sh = s["share"];
        const std::string shp = Reader::Child(p, "share");
        if (IsMissing(sh)) {
          std::fill(seg.share.begin(), seg.share.end(), 1.0);
        } else if (IsScalarNode(sh)) {
          const double v = r.NumberAt(sh, shp, 1.0, 0.0, 1e9);
          std::fill(seg.share.begin(), seg.share.end(), v);
        } else if (IsMapNode(sh)) {
          r.Map(sh, shp, channel_names);
          for (size_t c = 0; c < channel_names.size(); ++c)
            seg.share[c] = r.Number(sh, shp, channel_names[c], 0.0, 0.0, 1e9);
        } else {
          r.Issue(sh, shp, "a number or a mapping from channel name to relative traffic share", Describe(sh));
        }
        const YAML::Node cr = s["creatives"];
        const std::string crp = Reader::Child(p, "creatives");
        if (cr.IsDefined() && !cr.IsNull()) {
          if (!IsMapNode(cr)) {
            r.Issue(cr, crp, "a mapping from 'campaign/creative' to {ctr, cvr, fatigue}", Describe(cr));
          } else {
            for (auto it = cr.begin(); it != cr.end(); ++it) {
              const std::string key = it->first.Scalar();
              const std::string kp = Reader::Child(crp, key);
              CreativeRates rates;
              if (r.Map(it->second, kp, {"ctr", "cvr", "fatigue"})) {
                if (it->second["ctr"].IsDefined()) rates.ctr = r.Number(it->second, kp, "ctr", 0.01, 0.0, 1.0);
                if (it->second["cvr"].IsDefined()) rates.cvr = r.Number(it->second, kp, "cvr", 0.05, 0.0, 1.0);
                if (!IsMissing(it->second["fatigue"])) rates.fatigue = ReadFatigue(r, it->second, kp);
              }
              seg.creatives[key] = rates;
            }
          }
        }
        const YAML::Node v = s["conversion_value"];
        const std::string vp = Reader::Child(p, "conversion_value");
        if (v.IsDefined() && !IsScalarNode(v)) {
          if (r.Map(v, vp, {"distribution", "mean", "sigma"})) {
            const std::string d = r.Choice(v, vp, "distribution", "fixed", {"fixed", "lognormal"});
            seg.value_dist = d == "lognormal" ? ValueDist::kLognormal : ValueDist::kFixed;
            seg.value_mean = r.Number(v, vp, "mean", 50.0, 0.0, 1e9, true);
            seg.value_sigma = r.Number(v, vp, "sigma", 0.0, 0.0, 5.0);
          }
        } else if (v.IsDefined()) {
          seg.value_mean = r.NumberAt(v, vp, 50.0, 0.0, 1e9);
        }
        const YAML::Node dl = s["conversion_delay"];
        const std::string dp = Reader::Child(p, "conversion_delay");
        if (dl.IsDefined() && r.Map(dl, dp, {"distribution", "mean", "median", "sigma", "value"})) {
          const std::string d = r.Choice(dl, dp, "distribution", "exponential", {"fixed", "exponential", "lognormal"});
          if (d == "fixed") {
            seg.delay_dist = DelayDist::kFixed;
            seg.delay_mean = r.Duration(dl, dp, "value", 0, 0, true);
          } else if (d == "lognormal") {
            seg.delay_dist = DelayDist::kLognormal;
            seg.delay_mean = r.Duration(dl, dp, "median", 6 * kMicrosPerHour, 1, true);
            seg.delay_sigma = r.Number(dl, dp, "sigma", 1.0, 0.0, 5.0);
          } else {
            seg.delay_dist = DelayDist::kExponential;
            seg.delay_mean = r.Duration(dl, dp, "mean", 12 * kMicrosPerHour, 1, true);
          }
        }
        const YAML::Node k = s["competition"];
        const std::string kp = Reader::Child(p, "competition");
        if (k.IsDefined() && !k.IsNull()) {
          if (r.Map(k, kp, channel_names)) {
            for (size_t c = 0; c < channel_names.size(); ++c) {
              const YAML::Node kc = k[channel_names[c]];
              if (!kc.IsDefined()) continue;
              const std::string kcp = Reader::Child(kp, channel_names[c]);
              if (r.Map(kc, kcp, {"mu", "median", "sigma"})) {
                if (kc["median"].IsDefined() && kc["mu"].IsDefined())
                  r.Issue(kc, kcp, "either mu or median, not both", "both");
                double mu = kc["median"].IsDefined() ? std::log(r.Number(kc, kcp, "median", 1.0, 1e-9, 1e9))
                                                     : r.Number(kc, kcp, "mu", sc.channels[c].bid_mu, -30, 30);
                double sigma = r.Number(kc, kcp, "sigma", sc.channels[c].bid_sigma, 0.0, 10.0);
                seg.competition[c] = std::make_pair(mu, sigma);
              }
            }
          }
        }
      }
      // Only a mapping has a name (yaml-cpp throws on a scalar's ["name"]; found by fuzzing).
      if (IsMapNode(s) && std::find(segment_names.begin(), segment_names.end(), seg.name) != segment_names.end())
        r.Issue(s["name"], Reader::Child(p, "name"), "a segment name used once", "'" + seg.name + "' again");
      segment_names.push_back(seg.name);
      sc.segments.push_back(seg);
    }
  }
  for (size_t c = 0; c < sc.channels.size(); ++c) {
    double total = 0;
    for (const auto& s : sc.segments) total += s.share[c];
    if (!sc.segments.empty() && total <= 0 && sc.channels[c].per_hour > 0)
      r.Issue(sgs, "segments[*].share." + sc.channels[c].name,
              "at least one segment with a positive share of channel '" + sc.channels[c].name + "'", "all zero");
  }

  // ---- guardrails (scenario-wide defaults, overridable per campaign)
  GuardrailSpec global_guard;
  auto read_guard = [&r, &segment_names, &channel_names](const YAML::Node& g, const std::string& gp,
                                                         GuardrailSpec* out) {
    if (IsMissing(g)) return;
    if (!r.Map(g, gp,
               {"min_bid", "max_bid", "max_change", "review_threshold", "max_daily_budget", "max_total_budget",
                "max_budget_raise", "review_budget_raise", "hold_pauses", "blocked_segments", "blocked_channels",
                "review"}))
      return;
    ReadReview(r, g["review"], Reader::Child(gp, "review"), &out->review);
    // Brand-safety lists add up: a campaign's blocks come on top of the scenario's.
    for (int s : r.Names(g, gp, "blocked_segments", segment_names, "segment", false))
      if (std::find(out->blocked_segments.begin(), out->blocked_segments.end(), s) == out->blocked_segments.end())
        out->blocked_segments.push_back(s);
    for (int c : r.Names(g, gp, "blocked_channels", channel_names, "channel", false))
      if (std::find(out->blocked_channels.begin(), out->blocked_channels.end(), c) == out->blocked_channels.end())
        out->blocked_channels.push_back(c);
    out->min_bid = r.Number(g, gp, "min_bid", out->min_bid, 0.0, 1e9);
    out->max_bid = r.Number(g, gp, "max_bid", out->max_bid, 0.0, 1e9);
    out->max_change = r.Number(g, gp, "max_change", out->max_change, 0.0, 1e6);
    out->review_threshold = r.Number(g, gp, "review_threshold", out->review_threshold, 0.0, 1e6);
    out->max_daily_budget =
        r.Number(g, gp, "max_daily_budget", out->max_daily_budget, 0.0, kMaxBudgetUnits, false, kBudgetUnit);
    out->max_total_budget =
        r.Number(g, gp, "max_total_budget", out->max_total_budget, 0.0, kMaxBudgetUnits, false, kBudgetUnit);
    out->max_budget_raise = r.Number(g, gp, "max_budget_raise", out->max_budget_raise, 1.0, 1e6);
    out->review_budget_raise = r.Number(g, gp, "review_budget_raise", out->review_budget_raise, 1.0, 1e6);
    out->hold_pauses = r.Bool(g, gp, "hold_pauses", out->hold_pauses);
    if (out->min_bid > out->max_bid)
      r.Issue(g, gp, "min_bid <= max_bid", std::to_string(out->min_bid) + " > " + std::to_string(out->max_bid));
  };
  read_guard(root["guardrails"], "guardrails", &global_guard);

  // ---- campaigns
  const YAML::Node cps = root["campaigns"];
  std::vector<std::string> campaign_names;
  if (!IsSequenceNode(cps) || cps.size() == 0) {
    r.Issue(cps.IsDefined() ? cps : root, "campaigns", "a non-empty list of campaigns", Describe(cps));
  } else {
    for (size_t i = 0; i < cps.size(); ++i) {
      const std::string p = Reader::Item("campaigns", i);
      const YAML::Node c = cps[i];
      CampaignSpec cp;
      cp.guardrails = global_guard;
      if (r.Map(c, p,
                {"name", "channels", "segments", "creatives", "bid", "budget", "goal", "bidder", "controllers",
                 "guardrails", "audiences"})) {
        cp.name = r.String(c, p, "name", "campaign" + std::to_string(i), true);
        cp.channels = r.Names(c, p, "channels", channel_names, "channel", true);
        cp.segments = r.Names(c, p, "segments", segment_names, "segment", true);
        if (c["channels"].IsDefined() && cp.channels.empty() && IsSequenceNode(c["channels"]))
          r.Issue(c["channels"], Reader::Child(p, "channels"), "at least one channel", "an empty list");
        if (c["segments"].IsDefined() && cp.segments.empty() && IsSequenceNode(c["segments"]))
          r.Issue(c["segments"], Reader::Child(p, "segments"), "at least one segment", "an empty list");
        cp.bid = r.Number(c, p, "bid", 1.0, 0.0, 1e6, true, " (currency per impression, or per click)");
        const YAML::Node cr = c["creatives"];
        const std::string crp = Reader::Child(p, "creatives");
        if (IsMissing(cr)) {
          cp.creatives.push_back({"default"});
        } else if (!IsSequenceNode(cr) || cr.size() == 0) {
          r.Issue(cr, crp, "a non-empty list of creatives", Describe(cr));
        } else {
          for (size_t k = 0; k < cr.size(); ++k) {
            CreativeSpec cs;
            if (IsScalarNode(cr[k])) {
              cs.name = cr[k].Scalar();
            } else if (r.Map(cr[k], Reader::Item(crp, k), {"name"})) {
              cs.name = r.String(cr[k], Reader::Item(crp, k), "name", "creative" + std::to_string(k), true);
            }
            for (const auto& other : cp.creatives)
              if (other.name == cs.name)
                r.Issue(cr[k], Reader::Item(crp, k), "a creative name used once in the campaign",
                        "'" + cs.name + "' again");
            cp.creatives.push_back(cs);
          }
        }
        const YAML::Node b = c["budget"];
        const std::string bp = Reader::Child(p, "budget");
        if (b.IsDefined() && r.Map(b, bp, {"daily", "total"})) {
          if (b["daily"].IsDefined())
            cp.daily_budget = r.Number(b, bp, "daily", INFINITY, 0.0, kMaxBudgetUnits, false, kBudgetUnit);
          if (b["total"].IsDefined())
            cp.total_budget = r.Number(b, bp, "total", INFINITY, 0.0, kMaxBudgetUnits, false, kBudgetUnit);
        }
        const YAML::Node g = c["goal"];
        const std::string gp = Reader::Child(p, "goal");
        if (g.IsDefined() && r.Map(g, gp, {"cpa", "roas"})) {
          if (g["cpa"].IsDefined() && g["roas"].IsDefined()) {
            r.Issue(g, gp, "one goal: cpa or roas", "both");
          } else if (g["cpa"].IsDefined()) {
            cp.goal = GoalKind::kCpa;
            cp.goal_value = r.Number(g, gp, "cpa", 0.0, 1e-9, 1e9);
          } else if (g["roas"].IsDefined()) {
            cp.goal = GoalKind::kRoas;
            cp.goal_value = r.Number(g, gp, "roas", 0.0, 1e-9, 1e9);
          }
        }
        cp.bidder = r.Component(c["bidder"], Reader::Child(p, "bidder"), "fixed");
        const YAML::Node ctl = c["controllers"];
        if (ctl.IsDefined() && !ctl.IsNull()) {
          if (!IsSequenceNode(ctl)) {
            r.Issue(ctl, Reader::Child(p, "controllers"), "a list of controllers", Describe(ctl));
          } else {
            for (size_t k = 0; k < ctl.size(); ++k)
              cp.controllers.push_back(r.Component(ctl[k], Reader::Item(Reader::Child(p, "controllers"), k), ""));
          }
        }
        read_guard(c["guardrails"], Reader::Child(p, "guardrails"), &cp.guardrails);
        if (c["bid"].IsDefined() && (cp.bid < cp.guardrails.min_bid || cp.bid > cp.guardrails.max_bid)) {
          std::ostringstream os;
          os << "a bid within the guardrails [min_bid, max_bid] = [" << cp.guardrails.min_bid << ", "
             << cp.guardrails.max_bid << "]";
          r.Issue(c["bid"], Reader::Child(p, "bid"), os.str(), std::to_string(cp.bid));
        }
      }
      // Only a mapping has a name (yaml-cpp throws on a scalar's ["name"]; found by fuzzing).
      if (IsMapNode(c) && std::find(campaign_names.begin(), campaign_names.end(), cp.name) != campaign_names.end())
        r.Issue(c["name"], Reader::Child(p, "name"), "a campaign name used once", "'" + cp.name + "' again");
      campaign_names.push_back(cp.name);
      sc.campaigns.push_back(cp);
    }
  }
  // Per-creative rate keys must name an existing campaign/creative.
  for (size_t i = 0; i < sc.segments.size(); ++i) {
    for (const auto& [key, rates] : sc.segments[i].creatives) {
      (void)rates;
      const auto slash = key.find('/');
      bool ok = false;
      if (slash != std::string::npos) {
        const int c = sc.CampaignIndex(key.substr(0, slash));
        if (c >= 0)
          for (const auto& cr : sc.campaigns[c].creatives) ok |= cr.name == key.substr(slash + 1);
      }
      if (!ok) {
        std::vector<std::string> valid;
        for (const auto& cp : sc.campaigns)
          for (const auto& cr : cp.creatives) valid.push_back(cp.name + "/" + cr.name);
        r.Issue(sgs[i]["creatives"], "segments[" + std::to_string(i) + "].creatives." + key,
                "a key 'campaign/creative' naming one of " + JoinNames(valid), "'" + key + "'");
      }
    }
  }

  // ---- scenario-wide controllers
  const YAML::Node ctl = root["controllers"];
  if (ctl.IsDefined() && !ctl.IsNull()) {
    if (!IsSequenceNode(ctl)) {
      r.Issue(ctl, "controllers", "a list of controllers", Describe(ctl));
    } else {
      for (size_t k = 0; k < ctl.size(); ++k)
        sc.controllers.push_back(r.Component(ctl[k], Reader::Item("controllers", k), ""));
    }
  }

  // ---- monitors
  const YAML::Node mons = root["monitors"];
  if (mons.IsDefined() && !mons.IsNull()) {
    if (!IsSequenceNode(mons)) {
      r.Issue(mons, "monitors", "a list of monitors", Describe(mons));
    } else {
      for (size_t k = 0; k < mons.size(); ++k) {
        sc.monitors.push_back(r.Component(mons[k], Reader::Item("monitors", k), ""));
        // Alerts and scores name a monitor by its label, or its type: names must be unique.
        auto name_of = [](const ComponentSpec& m) { return m.label.empty() ? m.type : m.label; };
        for (size_t j = 0; j + 1 < sc.monitors.size(); ++j)
          if (name_of(sc.monitors[j]) == name_of(sc.monitors.back()))
            r.Issue(mons[k], Reader::Item("monitors", k),
                    "a monitor name used once: give one a label (e.g. {type: " + sc.monitors.back().type +
                        ", label: " + sc.monitors.back().type + "_2})",
                    "'" + name_of(sc.monitors.back()) + "' again");
      }
    }
  }
  sc.alert_grace = r.Duration(root, "", "alert_grace", sc.alert_grace, 0);

  // ---- experiments
  const YAML::Node exps = root["experiments"];
  if (exps.IsDefined() && !exps.IsNull()) {
    std::vector<std::string> campaign_names;
    for (const auto& cp : sc.campaigns) campaign_names.push_back(cp.name);
    std::vector<std::string> in_experiment(sc.campaigns.size());
    if (!IsSequenceNode(exps)) {
      r.Issue(exps, "experiments", "a list of experiments", Describe(exps));
    } else {
      for (size_t i = 0; i < exps.size(); ++i) {
        const std::string p = Reader::Item("experiments", i);
        const YAML::Node e = exps[i];
        ExperimentSpec ex;
        ex.line = e.Mark().line + 1;
        if (!r.Map(e, p, {"name", "arms", "weights", "split", "start", "analyses"})) continue;
        ex.name = r.String(e, p, "name", "experiment" + std::to_string(i), true);
        for (const auto& other : sc.experiments)
          if (other.name == ex.name)
            r.Issue(e["name"], Reader::Child(p, "name"), "an experiment name used once", "'" + ex.name + "' again");
        if (IsMissing(e["arms"])) {
          r.Issue(e, Reader::Child(p, "arms"), "a list of at least 2 campaign names (control first)", "nothing");
        } else {
          ex.arms = r.Names(e, p, "arms", campaign_names, "campaign", false);
          if (IsSequenceNode(e["arms"]) && e["arms"].size() < 2)
            r.Issue(e["arms"], Reader::Child(p, "arms"), "at least 2 campaigns (control first)", Describe(e["arms"]));
          for (size_t k = 0; k < ex.arms.size(); ++k) {
            const int c = ex.arms[k];
            if (!in_experiment[c].empty())
              r.Issue(e["arms"][k], Reader::Item(Reader::Child(p, "arms"), k), "a campaign in one experiment only",
                      "'" + campaign_names[c] + "', already an arm of '" + in_experiment[c] + "'");
            else
              in_experiment[c] = ex.name;
          }
          for (size_t k = 1; k < ex.arms.size(); ++k) {
            const auto& a = sc.campaigns[ex.arms[0]];
            const auto& b = sc.campaigns[ex.arms[k]];
            if (a.channels != b.channels || a.segments != b.segments)
              r.Issue(e["arms"][k], Reader::Item(Reader::Child(p, "arms"), k),
                      "an arm targeting the same channels and segments as the control '" + a.name + "'",
                      "'" + b.name + "' with different targeting");
          }
        }
        ex.weights.assign(ex.arms.size(), 1.0);
        const YAML::Node w = e["weights"];
        if (!IsMissing(w)) {
          if (!IsSequenceNode(w) || w.size() != ex.arms.size()) {
            r.Issue(w, Reader::Child(p, "weights"),
                    "a list of " + std::to_string(ex.arms.size()) + " positive numbers, one per arm", Describe(w));
          } else {
            for (size_t k = 0; k < w.size(); ++k)
              ex.weights[k] = r.NumberAt(w[k], Reader::Item(Reader::Child(p, "weights"), k), 1.0, 1e-9, 1e9);
          }
        }
        ex.split_by_user = r.Choice(e, p, "split", "user", {"user", "opportunity"}) == "user";
        ex.start = r.Duration(e, p, "start", 0, 0);
        if (ex.start > 0 && (ex.start >= sc.duration || ex.start % sc.control_cycle != 0))
          r.Issue(e["start"], Reader::Child(p, "start"),
                  "a multiple of control_cycle (" + FormatDuration(sc.control_cycle) + ") before the end of the run (" +
                      FormatDuration(sc.duration) + ")",
                  "'" + FormatDuration(ex.start) + "'");
        const YAML::Node an = e["analyses"];
        if (!IsMissing(an)) {
          if (!IsSequenceNode(an)) {
            r.Issue(an, Reader::Child(p, "analyses"), "a list of analyses (e.g. [{type: ab_test, params: {...}}])",
                    Describe(an));
          } else {
            for (size_t k = 0; k < an.size(); ++k) {
              ex.analyses.push_back(r.Component(an[k], Reader::Item(Reader::Child(p, "analyses"), k), ""));
              auto name_of = [](const ComponentSpec& m) { return m.label.empty() ? m.type : m.label; };
              for (size_t j = 0; j + 1 < ex.analyses.size(); ++j)
                if (name_of(ex.analyses[j]) == name_of(ex.analyses.back()))
                  r.Issue(an[k], Reader::Item(Reader::Child(p, "analyses"), k),
                          "an analysis name used once in the experiment: give one a label",
                          "'" + name_of(ex.analyses.back()) + "' again");
            }
          }
        }
        sc.experiments.push_back(std::move(ex));
      }
    }
  }

  // ---- shocks
  const YAML::Node shs = root["shocks"];
  if (shs.IsDefined() && !shs.IsNull()) {
    if (!IsSequenceNode(shs)) {
      r.Issue(shs, "shocks", "a list of shocks", Describe(shs));
    } else {
      for (size_t i = 0; i < shs.size(); ++i) {
        const std::string p = Reader::Item("shocks", i);
        const YAML::Node s = shs[i];
        ShockSpec sh;
        if (!r.Map(s, p, {"name", "start", "end", "channels", "segments", "multiply", "shape", "ramp_step"})) continue;
        sh.ramp = r.Choice(s, p, "shape", "step", {"step", "ramp"}) == "ramp";
        sh.ramp_step = r.Duration(s, p, "ramp_step", sh.ramp_step, kMicrosPerMinute);
        sh.name = r.String(s, p, "name", "shock" + std::to_string(i));
        sh.start = r.Duration(s, p, "start", 0, 0, true);
        sh.end = r.Duration(s, p, "end", 0, 0, true);
        if (sh.end <= sh.start)
          r.Issue(s["end"], Reader::Child(p, "end"), "an end after start (" + FormatDuration(sh.start) + ")",
                  FormatDuration(sh.end));
        sh.channels = r.Names(s, p, "channels", channel_names, "channel", false);
        sh.segments = r.Names(s, p, "segments", segment_names, "segment", false);
        for (const char* key : {"channels", "segments"})
          if (IsSequenceNode(s[key]) && s[key].size() == 0)
            r.Issue(s[key], Reader::Child(p, key),
                    std::string("at least one name (omit the field for all ") + key + ")", "an empty list");
        const YAML::Node m = s["multiply"];
        const std::string mp = Reader::Child(p, "multiply");
        if (!m.IsDefined()) {
          r.Issue(s, mp,
                  "a mapping of multipliers (traffic, ctr, cvr, competing_bids, conversion_tracking, visit, cart, "
                  "purchase)",
                  "nothing (the field is required)");
        } else if (r.Map(m, mp,
                         {"traffic", "ctr", "cvr", "competing_bids", "conversion_tracking", "visit", "cart",
                          "purchase"})) {
          sh.traffic = r.Number(m, mp, "traffic", 1.0, 0.0, 1e3);
          sh.ctr = r.Number(m, mp, "ctr", 1.0, 0.0, 1e3);
          sh.cvr = r.Number(m, mp, "cvr", 1.0, 0.0, 1e3);
          sh.competing_bids = r.Number(m, mp, "competing_bids", 1.0, 0.0, 1e3);
          sh.conversion_tracking = r.Number(m, mp, "conversion_tracking", 1.0, 0.0, 1.0);
          // A funnel stage's rate (docs/funnel.md): only in a scenario with a funnel.
          for (int stage = 0; stage < kFunnelStages; ++stage) {
            const char* key = FunnelStageName(stage);
            if (!m[key].IsDefined()) continue;
            sh.funnel_stage[stage] = r.Number(m, mp, key, 1.0, 0.0, 1e3);
            if (!root["funnel"].IsDefined())
              r.Issue(m[key], Reader::Child(mp, key),
                      "a funnel stage multiplier only in a scenario with a funnel: block", "no funnel: block");
          }
        }
        sc.shocks.push_back(sh);
      }
    }
  }

  sc.oracle = r.Bool(root, "", "oracle", false);
  ReadAccountBudget(root, r, &sc);

  // ---- recording
  const YAML::Node rec = root["recording"];
  if (rec.IsDefined() && r.Map(rec, "recording", {"events", "max_events", "conversions"})) {
    sc.recording.events = r.Bool(rec, "recording", "events", false);
    sc.recording.max_events = r.Integer(rec, "recording", "max_events", sc.recording.max_events, 1, 2'000'000'000);
    sc.recording.conversions = r.Bool(rec, "recording", "conversions", true);
  }

  ReadJourneys(root, r, &sc);
  ReadFunnel(root, r, &sc);
  ReadUsersAndAudiences(root, r, &sc);
  sc.sampled = std::move(r.sampled());
  CheckReplay(root, r, &sc);
  if (!r.issues().empty()) throw ConfigError(r.issues());
  return sc;
}

}  // namespace

namespace {

Scenario Parse(const std::string& text, const std::string& source_name, std::optional<uint64_t> sample_seed) {
  CheckScenarioSize(text, source_name);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own limit; its message says only "bad file"
    throw ConfigError({{source_name, "", e.mark.line + 1,
                        "nesting no deeper than " + std::to_string(ScenarioLimits::kMaxDepth) + " levels",
                        "nesting deeper than " + std::to_string(e.depth()) + " levels"}});
  } catch (const YAML::ParserException& e) {
    throw ConfigError({{source_name, "", e.mark.line + 1, "valid YAML or JSON", e.msg}});
  }
  if (IsMissing(root)) throw ConfigError({{source_name, "", 1, "a scenario mapping", "an empty document"}});
  CheckScenarioTree(root, source_name);  // limits, UTF-8 and NUL, before anything walks the tree
  return Build(root, source_name, text, sample_seed);
}

}  // namespace

Scenario ParseScenario(const std::string& text, const std::string& source_name) {
  return Parse(text, source_name, std::nullopt);
}

Scenario SampleScenario(const Scenario& scenario, uint64_t seed) {
  if (scenario.sampled.empty() || scenario.sampled.front().drawn) return scenario;
  Scenario drawn = Parse(scenario.source_text, scenario.source_name, seed);
  drawn.seed = scenario.seed;
  return drawn;
}

Scenario LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open scenario file '" + path + "'");
  std::ostringstream os;
  os << in.rdbuf();
  return ParseScenario(os.str(), path);
}

Scenario DefaultScenario() { return ParseScenario(DefaultScenarioText(), "<default>"); }

}  // namespace adsim

#include "core/argument_checks.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace adsim {

std::string FormatNumber(double v) {
  std::ostringstream os;
  os.precision(12);
  os << v;
  return os.str();
}

void ArgumentChecks::Fail(const std::string& what, const std::string& expected, const std::string& found) const {
  throw ConfigError(std::string(scope_) + ": " + what + ": expected " + expected + ", found " + found);
}

void ArgumentChecks::Probability(double v, const char* name) const {
  if (!(v > 0.0 && v < 1.0)) Fail(name, "a value in (0, 1)", FormatNumber(v));
}

void ArgumentChecks::Positive(double v, const char* name) const {
  if (!(v > 0.0) || !std::isfinite(v)) Fail(name, "a finite value > 0", FormatNumber(v));
}

void ArgumentChecks::NonNegative(double v, const char* name) const {
  if (!(v >= 0.0) || !std::isfinite(v)) Fail(name, "a finite value >= 0", FormatNumber(v));
}

void ArgumentChecks::Range(double v, double lo, double hi, bool lo_open, bool hi_open, const char* name) const {
  const bool ok = (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  if (!ok || std::isnan(v))
    Fail(name,
         std::string("a value in ") + (lo_open ? "(" : "[") + FormatNumber(lo) + ", " + FormatNumber(hi) +
             (hi_open ? ")" : "]"),
         FormatNumber(v));
}

void ArgumentChecks::AtLeast(int v, int lo, const char* name) const {
  if (v < lo) Fail(name, "an integer >= " + std::to_string(lo), std::to_string(v));
}

}  // namespace adsim

// Argument checks shared by adsim's numeric libraries (experiment statistics,
// monitoring detectors): a failure is a ConfigError naming the library, the
// argument, what was expected and what was found.
#pragma once

#include <string>

namespace adsim {

// Shortest round-trip-ish form of a number for messages (12 significant digits).
std::string FormatNumber(double v);

class ArgumentChecks {
 public:
  explicit constexpr ArgumentChecks(const char* scope) : scope_(scope) {}
  [[noreturn]] void Fail(const std::string& what, const std::string& expected, const std::string& found) const;
  void Probability(double v, const char* name) const;  // in (0, 1)
  void Positive(double v, const char* name) const;     // finite, > 0
  void NonNegative(double v, const char* name) const;  // finite, >= 0
  void Range(double v, double lo, double hi, bool lo_open, bool hi_open, const char* name) const;
  void AtLeast(int v, int lo, const char* name) const;

 private:
  const char* scope_;
};

}  // namespace adsim

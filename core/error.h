// The one error hierarchy of adsim. Library code throws; it never exits.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace adsim {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One problem found in user input, located as precisely as we can.
struct ConfigIssue {
  std::string file;      // file name, or "<dict>" / "<string>"
  std::string path;      // field path such as campaigns[1].budget.daily
  int line = 0;          // 1-based line, 0 when unknown
  std::string expected;  // what a valid value looks like
  std::string found;     // what was there instead

  std::string Format() const;
};

// Invalid scenario or parameters. Carries every problem found, not just the first.
class ConfigError : public Error {
 public:
  explicit ConfigError(std::vector<ConfigIssue> issues);
  explicit ConfigError(const std::string& message) : Error(message) {}
  const std::vector<ConfigIssue>& issues() const { return issues_; }

 private:
  std::vector<ConfigIssue> issues_;
};

// Bad data in an input file (for example a result file that is not adsim's).
class DataError : public Error {
 public:
  using Error::Error;
};

// An internal invariant was broken: a bug in adsim or in a strategy.
class InvariantError : public Error {
 public:
  using Error::Error;
};

// Reading or writing a file failed.
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace adsim

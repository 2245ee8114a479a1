#include "core/error.h"

#include <sstream>

namespace adsim {

std::string ConfigIssue::Format() const {
  std::ostringstream os;
  os << (file.empty() ? "<input>" : file);
  if (line > 0) os << ":" << line;
  os << ": " << (path.empty() ? "(top level)" : path) << ": expected " << expected;
  if (!found.empty()) os << ", found " << found;
  return os.str();
}

namespace {
std::string Join(const std::vector<ConfigIssue>& issues) {
  std::ostringstream os;
  os << issues.size() << (issues.size() == 1 ? " error" : " errors") << " in scenario";
  for (const auto& i : issues) os << "\n  " << i.Format();
  return os.str();
}
}  // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues) : Error(Join(issues)), issues_(std::move(issues)) {}

}  // namespace adsim

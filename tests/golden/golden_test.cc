// Golden digests: a handful of scenarios whose results are pinned, so that a
// refactor (moving code between files, renaming, splitting classes) is shown
// to leave every run bit-identical. Each digest holds the fingerprint (every
// table's content), per table its row count and column totals, and the first
// and last rows of the time-stamped tables, so that a difference is readable.
//
// After an intended change of results, regenerate on purpose with
// scripts/regenerate_golden.sh and explain the change in the commit message.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>

#include "core/engine.h"
#include "core/results.h"
#include "core/scenario.h"

namespace adsim {
namespace {

const std::string kGoldenDir = std::string(ADSIM_SOURCE_DIR) + "/tests/golden/";

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

std::string Cell(const Column& column, size_t row) {
  if (const auto* ints = std::get_if<std::vector<int64_t>>(&column.data)) return std::to_string((*ints)[row]);
  if (const auto* reals = std::get_if<std::vector<double>>(&column.data)) return Number((*reals)[row]);
  return "'" + std::get<std::vector<std::string>>(column.data)[row] + "'";
}

std::string Total(const Column& column) {
  if (const auto* ints = std::get_if<std::vector<int64_t>>(&column.data)) {
    int64_t sum = 0;
    for (int64_t v : *ints) sum += v;
    return std::to_string(sum);
  }
  if (const auto* reals = std::get_if<std::vector<double>>(&column.data)) {
    double sum = 0;
    for (double v : *reals) sum += v;
    return Number(sum);
  }
  return "text";
}

std::string Row(const Table& table, size_t row) {
  std::string line = "  row " + std::to_string(row) + ":";
  for (const Column& column : table.columns()) line += " " + column.name + "=" + Cell(column, row);
  return line + "\n";
}

// Tables whose rows are events in time: their first and last rows are shown.
bool TimeStamped(const std::string& name) {
  return name == "actions" || name == "alerts" || name == "reviews" || name == "experiment_looks" ||
         name == "conversions" || name == "events" || name == "daily";
}

std::string Digest(const Results& results) {
  char fingerprint[32];
  std::snprintf(fingerprint, sizeof fingerprint, "%016" PRIx64, Fingerprint(results));
  std::string out = "fingerprint " + std::string(fingerprint) + "\n";
  for (const Table& table : results.tables) {
    out += "table " + table.name() + " rows " + std::to_string(table.rows()) + "\n  totals:";
    for (const Column& column : table.columns()) out += " " + column.name + "=" + Total(column);
    out += "\n";
    if (TimeStamped(table.name()) && table.rows() > 0) {
      out += Row(table, 0);
      if (table.rows() > 1) out += Row(table, table.rows() - 1);
    }
  }
  return out;
}

void CheckGolden(const std::string& scenario_path, const std::string& digest_name) {
  const Scenario scenario = ParseScenario(ReadText(scenario_path), scenario_path);
  const std::string digest = Digest(RunScenario(scenario));
  const std::string digest_path = kGoldenDir + digest_name + ".digest";
  const char* regenerate = std::getenv("ADSIM_REGENERATE_GOLDEN");
  if (regenerate != nullptr && std::string(regenerate) == "1") {
    std::ofstream(digest_path, std::ios::binary) << digest;
    GTEST_SKIP() << "regenerated " << digest_path;
  }
  const std::string pinned = ReadText(digest_path);
  ASSERT_FALSE(pinned.empty()) << digest_path << " is missing: run scripts/regenerate_golden.sh";
  if (digest == pinned) return;
  // Show the first differing line, then the whole digest.
  std::istringstream a(pinned), b(digest);
  std::string line_a, line_b;
  int line = 0;
  while (true) {
    const bool more_a = static_cast<bool>(std::getline(a, line_a));
    const bool more_b = static_cast<bool>(std::getline(b, line_b));
    ++line;
    if (!more_a && !more_b) break;
    if (line_a != line_b || more_a != more_b) {
      ADD_FAILURE() << digest_path << ":" << line << " differs\n  pinned: " << (more_a ? line_a : "<end>")
                    << "\n  now:    " << (more_b ? line_b : "<end>") << "\nwhole digest now:\n"
                    << digest;
      return;
    }
  }
}

TEST(Golden, DefaultScenarioWeek) {
  CheckGolden(std::string(ADSIM_SOURCE_DIR) + "/core/scenarios/default.yaml", "default_week");
}
TEST(Golden, DefaultScenarioTwoDaysWithOracle) {
  CheckGolden(kGoldenDir + "default_2d_oracle.yaml", "default_2d_oracle");
}
TEST(Golden, FullExample) { CheckGolden(kGoldenDir + "full.yaml", "full"); }
TEST(Golden, KitchenSink) { CheckGolden(kGoldenDir + "kitchen_sink.yaml", "kitchen_sink"); }

}  // namespace
}  // namespace adsim

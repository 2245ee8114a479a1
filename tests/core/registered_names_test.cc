// The registered component names are part of the scenario format: a scenario
// names them. This test lists them against the expected set, so that moving or
// renaming files cannot drop, rename or duplicate a component unnoticed.
// Components a test binary registers for itself are left out.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/registry.h"

namespace adsim {
namespace {

std::set<std::string> Names(ComponentKind kind) {
  std::set<std::string> names;
  for (const auto& entry : Registry::Global().List())
    if (entry->kind == kind && entry->origin == "C++" && entry->name.rfind("test_", 0) != 0) names.insert(entry->name);
  return names;
}

TEST(RegisteredNames, BiddersAreTheExpectedOnes) {
  EXPECT_EQ(Names(ComponentKind::kBidder), (std::set<std::string>{"bid_shading", "fixed", "target_cpa", "target_roas",
                                                                  "throttled", "value_linear", "value_rtb"}));
}

TEST(RegisteredNames, ControllersAreTheExpectedOnes) {
  EXPECT_EQ(Names(ComponentKind::kController),
            (std::set<std::string>{"audience_modifiers", "budget_reallocation", "creative_epsilon_greedy",
                                   "creative_even", "creative_thompson", "creative_ucb1", "pid_pacing", "rule"}));
}

TEST(RegisteredNames, MonitorsAreTheExpectedOnes) {
  EXPECT_EQ(Names(ComponentKind::kMonitor),
            (std::set<std::string>{"alert_rule", "kpi_cusum", "kpi_ewma", "kpi_seasonal", "kpi_tail", "kpi_trend",
                                   "pace_alert"}));
}

TEST(RegisteredNames, AnalysesAreTheExpectedOnes) {
  EXPECT_EQ(Names(ComponentKind::kAnalysis), (std::set<std::string>{"ab_test", "factorial_test"}));
}

TEST(RegisteredNames, ScopesAreTheExpectedOnes) {
  for (const auto& entry : Registry::Global().List()) {
    if (entry->kind != ComponentKind::kController || entry->origin != "C++" || entry->name.rfind("test_", 0) == 0)
      continue;
    EXPECT_EQ(entry->campaign_scoped, entry->name != "budget_reallocation") << entry->name;
  }
}

}  // namespace
}  // namespace adsim

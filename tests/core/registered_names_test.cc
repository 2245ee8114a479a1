// The registered component names are part of the scenario format: a scenario
// names them. This test lists them against the expected set, so that moving or
// renaming files cannot drop, rename or duplicate a component unnoticed.
// Only built-in components count (registered by an ADSIM_REGISTER_* macro in
// strategies/); the components this test binary registers for its own tests
// are not built in.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/registry.h"

namespace adsim {
namespace {

std::set<std::string> Names(ComponentKind kind) {
  std::set<std::string> names;
  for (const auto& entry : Registry::Global().List())
    if (entry->kind == kind && entry->built_in) names.insert(entry->name);
  return names;
}

TEST(RegisteredNames, BiddersAreTheExpectedOnes) {
  EXPECT_EQ(Names(ComponentKind::kBidder),
            (std::set<std::string>{"bid_shading", "fixed", "predictive_cpa", "target_cpa", "target_roas", "throttled",
                                   "value_linear", "value_rtb"}));
}

TEST(RegisteredNames, ControllersAreTheExpectedOnes) {
  EXPECT_EQ(Names(ComponentKind::kController),
            (std::set<std::string>{"audience_modifiers", "budget_reallocation", "creative_epsilon_greedy",
                                   "creative_even", "creative_thompson", "creative_ucb1", "pid_pacing", "rule"}));
}

TEST(RegisteredNames, MonitorsAreTheExpectedOnes) {
  EXPECT_EQ(Names(ComponentKind::kMonitor),
            (std::set<std::string>{"alert_rule", "funnel_bottleneck", "kpi_cusum", "kpi_ewma", "kpi_seasonal",
                                   "kpi_tail", "kpi_trend", "pace_alert"}));
}

TEST(RegisteredNames, AnalysesAreTheExpectedOnes) {
  EXPECT_EQ(Names(ComponentKind::kAnalysis), (std::set<std::string>{"ab_test", "factorial_test"}));
}

TEST(RegisteredNames, ScopesAreTheExpectedOnes) {
  for (const auto& entry : Registry::Global().List()) {
    if (entry->kind != ComponentKind::kController || !entry->built_in) continue;
    EXPECT_EQ(entry->campaign_scoped, entry->name != "budget_reallocation") << entry->name;
  }
}

// The layout of strategies/: a component's folder is its kind and its file
// name is its registered name (analyses: <name>_analysis.cc, so that no
// analysis reads as a test).
TEST(RegisteredNames, EachLivesInItsFamilyFolderUnderItsName) {
  const std::map<ComponentKind, std::string> folder = {{ComponentKind::kBidder, "bidders"},
                                                       {ComponentKind::kController, "controllers"},
                                                       {ComponentKind::kMonitor, "monitors"},
                                                       {ComponentKind::kAnalysis, "experiments"}};
  int checked = 0;
  for (const auto& entry : Registry::Global().List()) {
    if (!entry->built_in) continue;
    const std::string file = std::string(ADSIM_SOURCE_DIR) + "/strategies/" + folder.at(entry->kind) + "/" +
                             entry->name + (entry->kind == ComponentKind::kAnalysis ? "_analysis" : "") + ".cc";
    EXPECT_TRUE(std::filesystem::exists(file)) << entry->name << ": expected in " << file;
    ++checked;
  }
  EXPECT_EQ(checked, 26);
}

}  // namespace
}  // namespace adsim

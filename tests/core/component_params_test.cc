// Every registered component's parameters are checked when the scenario is
// validated (ValidateComponents, as `adsim validate`, `adsim run` and
// adsim.run do before starting), located at their file, line and field path:
// non-finite numbers, ranges, and the rules that tie parameters to each other
// or to the scenario. The table is generated from the registry, so a new
// component is covered without touching this file.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/registry.h"
#include "core/scenario.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

// A scenario with two campaigns in a two-arm experiment; `slot` names where
// `component` (YAML lines, indented for that place) goes.
std::string ScenarioWith(const std::string& slot, const std::string& component, const std::string& split = "user",
                         int arms = 2) {
  std::string text =
      "name: params\nseed: 3\nduration: 2d\ncontrol_cycle: 15m\n"
      "channels: [{name: c, traffic: {per_hour: 2000}, competition: {median: 0.002}}]\n"
      "segments: [{name: s, users: 1000, ctr: 0.02, cvr: 0.1}]\n"
      "campaigns:\n";
  for (int k = 0; k < arms; ++k) {
    text += "  - name: arm" + std::to_string(k) + "\n    bid: 0.003\n    budget: {daily: 5}\n";
    if (k == 0 && slot == "bidder") text += "    bidder:\n" + component;
    if (k == 0 && slot == "campaign_controller") text += "    controllers:\n" + component;
  }
  if (slot == "controller") text += "controllers:\n" + component;
  if (slot == "monitor") text += "monitors:\n" + component;
  text += "experiments:\n  - name: e\n    split: " + split + "\n    arms: [";
  for (int k = 0; k < arms; ++k) text += (k ? ", arm" : "arm") + std::to_string(k);
  text += "]\n";
  if (slot == "analysis") text += "    analyses:\n" + component;
  return text;
}

// The component written as a block mapping with one parameter per line, at
// the indentation of its slot.
std::string Block(const std::string& slot, const std::string& type, const std::vector<std::string>& params) {
  const std::string indent = slot == "bidder"                ? "      "
                             : slot == "campaign_controller" ? "      "
                             : slot == "analysis"            ? "      "
                                                             : "  ";
  const bool item = slot != "bidder";
  std::string text = (item ? indent.substr(2) + "- " : indent) + "type: " + type + "\n";
  if (!params.empty()) {
    text += indent + "params:\n";
    for (const auto& p : params) text += indent + "  " + p + "\n";
  }
  return text;
}

std::string SlotOf(const ComponentInfo& info) {
  switch (info.kind) {
    case ComponentKind::kBidder:
      return "bidder";
    case ComponentKind::kController:
      return info.campaign_scoped ? "campaign_controller" : "controller";
    case ComponentKind::kMonitor:
      return "monitor";
    case ComponentKind::kAnalysis:
      return "analysis";
  }
  return "";
}

std::string WhereOf(const std::string& slot) {
  if (slot == "bidder") return "campaigns[0].bidder";
  if (slot == "campaign_controller") return "campaigns[0].controllers[0]";
  if (slot == "controller") return "controllers[0]";
  if (slot == "monitor") return "monitors[0]";
  return "experiments[0].analyses[0]";
}

// 1-based line of the first line of `text` containing `needle`.
int LineOf(const std::string& text, const std::string& needle) {
  const size_t at = text.find(needle);
  if (at == std::string::npos) return -1;
  int line = 1;
  for (size_t i = 0; i < at; ++i) line += text[i] == '\n';
  return line;
}

// The issues ValidateComponents reports for `text` (empty when it passes).
std::vector<ConfigIssue> ComponentIssues(const std::string& text) {
  const Scenario sc = test::Parse(text, "params.yaml");
  try {
    ValidateComponents(sc);
  } catch (const ConfigError& e) {
    EXPECT_FALSE(e.issues().empty()) << e.what();
    return e.issues();
  }
  return {};
}

std::string Format(const std::vector<ConfigIssue>& issues) {
  std::string s;
  for (const auto& i : issues) s += i.Format() + "\n";
  return s;
}

const ConfigIssue* Find(const std::vector<ConfigIssue>& issues, const std::string& path) {
  for (const auto& i : issues)
    if (i.path == path) return &i;
  return nullptr;
}

std::vector<Registry::Entry> CppComponents() {
  std::vector<Registry::Entry> out;
  for (const auto& info : Registry::Global().List())
    if (info->origin == "C++" && info->name.rfind("test_", 0) != 0) out.push_back(info);  // not the tests' fixtures
  return out;
}

TEST(ComponentParams, EveryComponentValidatesWithItsDefaults) {
  // The base of the table below: without this, a rejection there could come
  // from something other than the parameter under test.
  for (const auto& info : CppComponents()) {
    SCOPED_TRACE(std::string(ComponentKindName(info->kind)) + " " + info->name);
    const std::string slot = SlotOf(*info);
    EXPECT_EQ(Format(ComponentIssues(ScenarioWith(slot, Block(slot, info->name, {})))), "");
  }
}

TEST(ComponentParams, NonFiniteNumbersAreRejectedForEveryParameterOfEveryComponent) {
  int checked = 0;
  for (const auto& info : CppComponents()) {
    const std::string slot = SlotOf(*info);
    for (const ParamSpec& p : info->params) {
      if (p.kind != ParamValue::Kind::kNumber) continue;
      for (const std::string value : {".nan", ".inf", "-.inf"}) {
        if (value == ".inf" && p.max == std::numeric_limits<double>::infinity()) continue;
        if (value == "-.inf" && p.min == -std::numeric_limits<double>::infinity()) continue;
        SCOPED_TRACE(info->name + " " + p.name + ": " + value);
        const std::string text = ScenarioWith(slot, Block(slot, info->name, {p.name + ": " + value}));
        const std::vector<ConfigIssue> issues = ComponentIssues(text);
        const ConfigIssue* issue = Find(issues, WhereOf(slot) + ".params." + p.name);
        ASSERT_NE(issue, nullptr) << Format(issues);
        EXPECT_EQ(issue->file, "params.yaml");
        EXPECT_EQ(issue->line, LineOf(text, p.name + ": " + value)) << issue->Format();
        EXPECT_NE(issue->found.find(value == ".nan" ? "nan" : "inf"), std::string::npos) << issue->Format();
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 150);  // the registry has well over a hundred numeric parameters
}

TEST(ComponentParams, AUserLevelMetricUnderSplitOpportunityIsAValidationError) {
  const std::string text =
      ScenarioWith("analysis", Block("analysis", "ab_test", {"metric: conversions_per_user"}), "opportunity");
  const std::vector<ConfigIssue> issues = ComponentIssues(text);
  const ConfigIssue* issue = Find(issues, "experiments[0].analyses[0].params.metric");
  ASSERT_NE(issue, nullptr) << Format(issues);
  EXPECT_EQ(issue->line, LineOf(text, "metric: conversions_per_user"));
  // An analysis by user (the default unit under split: user) is fine under split: user.
  EXPECT_EQ(Format(ComponentIssues(
                ScenarioWith("analysis", Block("analysis", "ab_test", {"metric: conversions_per_user"}), "user"))),
            "");
  // unit: user asks for per-user counters that split: opportunity cannot give.
  const std::string unit = ScenarioWith("analysis", Block("analysis", "ab_test", {"unit: user"}), "opportunity");
  const std::vector<ConfigIssue> unit_issues = ComponentIssues(unit);
  issue = Find(unit_issues, "experiments[0].analyses[0].params.unit");
  ASSERT_NE(issue, nullptr);
  EXPECT_EQ(issue->line, LineOf(unit, "unit: user"));
}

TEST(ComponentParams, FactorialTestNeedsTwoToTheKArms) {
  for (int arms : {2, 3, 4, 6}) {
    SCOPED_TRACE(std::to_string(arms) + " arms");
    const std::string text = ScenarioWith("analysis", Block("analysis", "factorial_test", {}), "user", arms);
    const std::vector<ConfigIssue> issues = ComponentIssues(text);
    if (arms == 2 || arms == 4) {
      EXPECT_EQ(Format(issues), "");
    } else {
      const ConfigIssue* issue = Find(issues, "experiments[0].analyses[0]");
      ASSERT_NE(issue, nullptr) << Format(issues);
      EXPECT_EQ(issue->line, LineOf(text, "type: factorial_test"));
      EXPECT_EQ(issue->found, std::to_string(arms) + " arms");
    }
  }
}

TEST(ComponentParams, FactorialTestAnalysisTimeIsWithinTheRun) {
  // The scenario lasts 2 days with 15-minute cycles: the last cycle is at 47.75 h.
  const std::string late = ScenarioWith("analysis", Block("analysis", "factorial_test", {"analyze_at_hours: 48"}));
  const std::vector<ConfigIssue> issues = ComponentIssues(late);
  const ConfigIssue* issue = Find(issues, "experiments[0].analyses[0].params.analyze_at_hours");
  ASSERT_NE(issue, nullptr) << Format(issues);
  EXPECT_EQ(issue->line, LineOf(late, "analyze_at_hours: 48"));
  EXPECT_NE(issue->expected.find("47.75 hours"), std::string::npos) << issue->Format();
  EXPECT_EQ(Format(ComponentIssues(
                ScenarioWith("analysis", Block("analysis", "factorial_test", {"analyze_at_hours: 47.75"})))),
            "");
}

TEST(ComponentParams, KpiSeasonalMaxSeasonsBelowMinSeasons) {
  const std::string text =
      ScenarioWith("monitor", Block("monitor", "kpi_seasonal", {"min_seasons: 8", "max_seasons: 4"}));
  const std::vector<ConfigIssue> issues = ComponentIssues(text);
  const ConfigIssue* issue = Find(issues, "monitors[0].params.max_seasons");
  ASSERT_NE(issue, nullptr) << Format(issues);
  EXPECT_EQ(issue->line, LineOf(text, "max_seasons: 4"));
  EXPECT_EQ(issue->found, "4");
  EXPECT_EQ(Format(ComponentIssues(
                ScenarioWith("monitor", Block("monitor", "kpi_seasonal", {"min_seasons: 8", "max_seasons: 8"})))),
            "");
}

TEST(ComponentParams, AbTestPowerMustExceedTheLevel) {
  // Power at or below the per-arm level is a design no sample size achieves.
  for (const std::string method : {"fixed", "obf", "ld_pocock", "msprt"}) {
    SCOPED_TRACE(method);
    const std::string text =
        ScenarioWith("analysis", Block("analysis", "ab_test", {"method: " + method, "alpha: 0.2", "power: 0.05"}));
    const std::vector<ConfigIssue> issues = ComponentIssues(text);
    const ConfigIssue* issue = Find(issues, "experiments[0].analyses[0].params.power");
    ASSERT_NE(issue, nullptr) << Format(issues);
    EXPECT_EQ(issue->line, LineOf(text, "power: 0.05"));
  }
  EXPECT_EQ(
      Format(ComponentIssues(ScenarioWith("analysis", Block("analysis", "ab_test", {"alpha: 0.2", "power: 0.5"})))),
      "");
}

TEST(ComponentParams, AbTestLooksOfAGroupSequentialDesignAreLimited) {
  // Boundaries for 1000 looks did not converge, days into the run.
  for (const std::string method : {"obf", "pocock", "ld_obf", "ld_pocock"}) {
    SCOPED_TRACE(method);
    const std::string text = ScenarioWith("analysis", Block("analysis", "ab_test", {"method: " + method, "looks: 51"}));
    const std::vector<ConfigIssue> issues = ComponentIssues(text);
    const ConfigIssue* issue = Find(issues, "experiments[0].analyses[0].params.looks");
    ASSERT_NE(issue, nullptr) << Format(issues);
    EXPECT_EQ(issue->line, LineOf(text, "looks: 51"));
    EXPECT_EQ(Format(ComponentIssues(
                  ScenarioWith("analysis", Block("analysis", "ab_test", {"method: " + method, "looks: 50"})))),
              "");
  }
  // naive computes no boundaries: any number of looks in the declared range.
  EXPECT_EQ(
      Format(ComponentIssues(ScenarioWith("analysis", Block("analysis", "ab_test", {"method: naive", "looks: 1000"})))),
      "");
}

TEST(ComponentParams, ConstructorErrorsWithoutALineGetTheComponentsLine) {
  // factorial_test reports its 2^k rule at line 0: validation locates it.
  const std::string text = ScenarioWith("analysis", Block("analysis", "factorial_test", {"alpha: 0.05"}), "user", 3);
  for (const auto& issue : ComponentIssues(text)) {
    EXPECT_EQ(issue.file, "params.yaml");
    EXPECT_GT(issue.line, 0) << issue.Format();
  }
}

}  // namespace
}  // namespace adsim

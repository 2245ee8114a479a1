// The shared checks every registered C++ component passes (STYLE.md rule 9):
// it runs on a common scenario, is deterministic (same seed, same
// fingerprint), never overspends, and its declared defaults resolve.
#include <gtest/gtest.h>

#include "core/registry.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

class Conformance : public ::testing::TestWithParam<std::string> {};

std::string ScenarioFor(const ComponentInfo& info) {
  if (info.kind == ComponentKind::kBidder) return test::SmallScenario("", "    bidder: " + info.name + "\n");
  if (info.kind == ComponentKind::kMonitor) return test::SmallScenario("monitors: [" + info.name + "]\n");
  if (info.kind == ComponentKind::kAnalysis)
    return test::SmallScenario(
        "  - {name: one_b, creatives: [x, y], bid: 0.003, budget: {daily: 60}}\n"
        "experiments: [{name: e, arms: [one, one_b], analyses: [" +
        info.name + "]}]\n");
  if (info.campaign_scoped) return test::SmallScenario("", "    controllers: [" + info.name + "]\n");
  return test::SmallScenario("controllers: [" + info.name + "]\n");
}

TEST_P(Conformance, DeterministicWithinBudgetAndDefaultsResolve) {
  const std::string& key = GetParam();
  const auto kind = key[0] == 'b'   ? ComponentKind::kBidder
                    : key[0] == 'c' ? ComponentKind::kController
                    : key[0] == 'a' ? ComponentKind::kAnalysis
                                    : ComponentKind::kMonitor;
  const Registry::Entry info = Registry::Global().Find(kind, key.substr(2));
  ASSERT_NE(info, nullptr);
  ComponentSpec spec{info->name, {}, "x"};
  const Params p = Registry::Global().Resolve(*info, spec, "f");
  for (const auto& ps : info->params) {
    ASSERT_TRUE(p.values().count(ps.name));
    EXPECT_EQ(FormatParamValue(p.values().at(ps.name)), FormatParamValue(ps.default_value)) << ps.name;
  }
  const Scenario sc = test::Parse(ScenarioFor(*info));
  const Results a = RunScenario(sc), b = RunScenario(sc);
  EXPECT_EQ(Fingerprint(a), Fingerprint(b));
  const auto& spend = test::Col<double>(a, "daily", "spend");
  const auto& budget = test::Col<double>(a, "daily", "max_daily_budget");
  for (size_t i = 0; i < spend.size(); ++i)
    if (budget[i] > 0) {
      EXPECT_LE(spend[i], budget[i]);
    }
}

std::vector<std::string> AllComponents() {
  std::vector<std::string> out;
  for (const auto& info : Registry::Global().List()) {
    if (!info->built_in) continue;  // the built-in ones, not this binary's test components
    out.push_back(std::string(info->kind == ComponentKind::kBidder       ? "b:"
                              : info->kind == ComponentKind::kController ? "c:"
                              : info->kind == ComponentKind::kAnalysis   ? "a:"
                                                                         : "m:") +
                  info->name);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Registered, Conformance, ::testing::ValuesIn(AllComponents()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string s = i.param;
                           for (auto& ch : s)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace adsim

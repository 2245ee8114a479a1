// Inputs the scenario-reader fuzzer (bench/fuzz) found crashing the reader,
// each reduced to its core: they must give a ConfigError, nothing else.
#include <gtest/gtest.h>

#include "tests/core/test_util.h"

namespace adsim {
namespace {

TEST(ScenarioFuzzRegression, ListEntriesThatAreNotMappingsAreErrorsNotCrashes) {
  // Two scalar entries have the same (empty) name: the duplicate-name check
  // used to look up ["name"] on a scalar, and yaml-cpp's BadSubscript escaped.
  for (const char* text :
       {"name: x\nseed: 1\nduration: 1d\nchannels: [a, b]\nsegments: [{name: s, ctr: 0.1, cvr: 0.1}]\n"
        "campaigns: [{name: k, bid: 1}]\n",
        "name: x\nseed: 1\nduration: 1d\nchannels: [{name: c, traffic: {per_hour: 10}, competition: {median: 1}}]\n"
        "segments: [s, t]\ncampaigns: [{name: k, bid: 1}]\n",
        "name: x\nseed: 1\nduration: 1d\nchannels: [{name: c, traffic: {per_hour: 10}, competition: {median: 1}}]\n"
        "segments: [{name: s, ctr: 0.1, cvr: 0.1}]\ncampaigns: [k, l]\n"}) {
    const auto issues = test::IssuesOf(text);
    ASSERT_GE(issues.size(), 2u) << text;
    for (const auto& issue : issues) EXPECT_EQ(issue.expected.find("used once"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace adsim

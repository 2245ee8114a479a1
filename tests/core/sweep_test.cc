// Sweeps (core/sweep.h) and scenario distributions (SampleScenario): a run's
// result does not depend on the number of workers; distributions are drawn
// from the run's seed on their own streams, validated with the field's path,
// and recorded in the `sampled_parameters` table.
#include "core/sweep.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/engine.h"
#include "core/error.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;
using test::IssuesOf;
using test::Parse;
using test::SmallScenario;

std::vector<SweepRun> SixRuns() {
  auto base = std::make_shared<const Scenario>(Parse(SmallScenario("", "", "6h")));
  std::string other_text = SmallScenario("", "", "6h");
  other_text.replace(other_text.find("bid: 0.003"), 10, "bid: 0.004");
  auto other = std::make_shared<const Scenario>(Parse(other_text));
  std::vector<SweepRun> runs;
  for (const auto& scenario : {base, other})
    for (uint64_t seed : {1, 2, 3}) runs.push_back({scenario, seed});
  return runs;
}

TEST(Sweep, ResultsDoNotDependOnTheWorkerCount) {
  const auto runs = SixRuns();
  SweepOptions one, two;
  one.workers = 1;
  two.workers = 2;
  const auto serial = RunSweep(runs, one);
  const auto parallel = RunSweep(runs, two);
  ASSERT_EQ(serial.size(), runs.size());
  ASSERT_EQ(parallel.size(), runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    // Run i of a sweep is RunScenario(scenario_i, seed_i), whoever ran it.
    RunOptions options;
    options.seed = runs[i].seed;
    const Results alone = RunScenario(*runs[i].scenario, options);
    EXPECT_EQ(serial[i].text_attrs.at("fingerprint"), alone.text_attrs.at("fingerprint")) << "run " << i;
    EXPECT_EQ(parallel[i].text_attrs.at("fingerprint"), alone.text_attrs.at("fingerprint")) << "run " << i;
    EXPECT_EQ(serial[i].text_attrs.at("seed"), std::to_string(runs[i].seed));  // text: a uint64
  }
  // And the runs differ: three seeds, two bids, six fingerprints.
  std::set<std::string> distinct;
  for (const auto& result : serial) distinct.insert(result.text_attrs.at("fingerprint"));
  EXPECT_EQ(distinct.size(), runs.size());
}

TEST(Sweep, PollIsCalledOnTheCallingThreadAndMayStopTheSweep) {
  const auto runs = SixRuns();
  SweepOptions options;
  options.workers = 2;
  size_t last = 0;
  const auto caller = std::this_thread::get_id();
  options.poll = [&](size_t done) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_GE(done, last);  // never goes back
    last = done;
  };
  RunSweep(runs, options);
  EXPECT_EQ(last, runs.size());  // the last call reports every run done

  options.poll = [](size_t) { throw Error("stop here"); };
  EXPECT_THROW(
      {
        try {
          RunSweep(runs, options);
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(), "stop here");
          throw;
        }
      },
      Error);
}

TEST(Sweep, ConsumeHandsOverEachRunInOrderOnTheCallingThread) {
  const auto runs = SixRuns();
  SweepOptions plain;
  plain.workers = 1;
  const auto returned = RunSweep(runs, plain);
  for (int workers : {1, 2, 3}) {
    SweepOptions options;
    options.workers = workers;
    const auto caller = std::this_thread::get_id();
    std::vector<std::string> fingerprints;
    options.consume = [&](size_t index, Results&& result) {
      EXPECT_EQ(std::this_thread::get_id(), caller);
      EXPECT_EQ(index, fingerprints.size());  // in the order of the runs
      fingerprints.push_back(result.text_attrs.at("fingerprint"));
    };
    const auto left = RunSweep(runs, options);
    ASSERT_EQ(fingerprints.size(), runs.size()) << workers << " workers";
    for (size_t i = 0; i < runs.size(); ++i) {
      EXPECT_EQ(fingerprints[i], returned[i].text_attrs.at("fingerprint")) << "run " << i;
      EXPECT_EQ(left[i].text_attrs.count("fingerprint"), 0u) << "run " << i << " was handed over, not kept";
    }
  }
  // A consumer that throws stops the sweep with its own error.
  SweepOptions options;
  options.workers = 2;
  size_t consumed = 0;
  options.consume = [&](size_t, Results&&) {
    if (++consumed == 2) throw Error("enough");
  };
  try {
    RunSweep(runs, options);
    ADD_FAILURE() << "expected the consumer's error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "enough");
  }
  EXPECT_EQ(consumed, 2u);  // nothing is handed over after the failure
}

TEST(Sweep, CancelStopsTheSweepAndAFailingRunIsNamed) {
  const auto runs = SixRuns();
  std::atomic<bool> cancel{true};
  SweepOptions options;
  options.workers = 2;
  options.cancel = &cancel;
  // Set before the start: the workers may stop before the caller looks at
  // the flag, and the sweep must still fail rather than return empty runs.
  for (int workers : {1, 2}) {
    options.workers = workers;
    try {
      RunSweep(runs, options);
      ADD_FAILURE() << "a cancelled sweep returned with " << workers << " worker(s)";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "sweep cancelled");
    }
  }
  options.workers = 0;
  EXPECT_THROW(RunSweep(runs, options), ConfigError);
  // A run that fails (a budget of 0 is fine, but an unknown bidder is not
  // caught before the run here since the scenario skipped ValidateComponents).
  auto broken =
      std::make_shared<const Scenario>(Parse(SmallScenario("", "    bidder: {type: no_such_bidder}\n", "6h")));
  SweepOptions plain;
  try {
    RunSweep({{broken, 4}}, plain);
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_bidder"), std::string::npos) << e.what();
  }
}

// ---- distributions

std::string WithCtr(const std::string& ctr) {
  std::string text = SmallScenario("", "", "6h");
  const std::string plain = "ctr: 0.005";
  text.replace(text.find(plain), plain.size(), "ctr: " + ctr);
  return text;
}

TEST(ScenarioDistributions, ParsingRecordsTheFieldWithARepresentativeValue) {
  const Scenario sc = Parse(WithCtr("{beta: [2, 398]}"));
  ASSERT_EQ(sc.sampled.size(), 1u);
  EXPECT_EQ(sc.sampled[0].path, "segments[1].ctr");
  EXPECT_EQ(sc.sampled[0].distribution, "beta");
  EXPECT_FALSE(sc.sampled[0].drawn);
  // Without a seed the field holds the mean a / (a + b) = 2 / 400.
  EXPECT_DOUBLE_EQ(sc.segments[1].ctr, 0.005);
}

TEST(ScenarioDistributions, DrawsDependOnTheSeedOnly) {
  const Scenario sc = Parse(WithCtr("{lognormal: [-5.3, 0.4]}"));
  const Scenario a = SampleScenario(sc, 11), b = SampleScenario(sc, 11), c = SampleScenario(sc, 12);
  EXPECT_TRUE(a.sampled[0].drawn);
  EXPECT_EQ(a.segments[1].ctr, b.segments[1].ctr);
  EXPECT_NE(a.segments[1].ctr, c.segments[1].ctr);
  EXPECT_EQ(a.segments[1].ctr, a.sampled[0].value);
}

TEST(ScenarioDistributions, SamplesHaveTheDistributionsMoments) {
  // n = 400 seeds. Beta(2, 398): mean 0.005, variance ab / ((a+b)^2 (a+b+1));
  // the sample mean is within 4 standard errors (fails by chance with p < 1e-4).
  const Scenario sc = Parse(WithCtr("{beta: [2, 398]}"));
  const int n = 400;
  double sum = 0;
  for (int seed = 1; seed <= n; ++seed) sum += SampleScenario(sc, static_cast<uint64_t>(seed)).segments[1].ctr;
  const double a = 2, b = 398;
  const double sd = std::sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)));
  EXPECT_NEAR(sum / n, a / (a + b), 4 * sd / std::sqrt(n));

  // Choice: each of 3 values with p = 1/3; the count of one is Binomial(n, 1/3).
  const Scenario choice = Parse(WithCtr("{choice: [0.004, 0.005, 0.006]}"));
  int fours = 0;
  for (int seed = 1; seed <= n; ++seed)
    fours += SampleScenario(choice, static_cast<uint64_t>(seed)).segments[1].ctr == 0.004;
  EXPECT_NEAR(fours, n / 3.0, 4 * std::sqrt(n * (1 / 3.0) * (2 / 3.0)));
}

TEST(ScenarioDistributions, SamplingDoesNotShiftTheMarketsDraws) {
  // The run with a distribution equals the run with the drawn value written
  // as a plain number: same seed, same market (the table of samples aside).
  const Scenario sc = Parse(WithCtr("{uniform: [0.004, 0.006]}"));
  RunOptions options;
  options.seed = 5;
  const Results sampled = RunScenario(sc, options);
  const double value = Col<double>(sampled, "sampled_parameters", "value").at(0);
  EXPECT_EQ(Col<std::string>(sampled, "sampled_parameters", "field").at(0), "segments[1].ctr");
  EXPECT_GE(value, 0.004);
  EXPECT_LE(value, 0.006);
  char number[40];
  std::snprintf(number, sizeof number, "%.17g", value);
  const Results plain = RunScenario(Parse(WithCtr(number)), options);
  EXPECT_EQ(Col<double>(sampled, "aggregates", "spend"), Col<double>(plain, "aggregates", "spend"));
  EXPECT_EQ(Col<int64_t>(sampled, "aggregates", "clicks"), Col<int64_t>(plain, "aggregates", "clicks"));
  EXPECT_EQ(sampled.Find("sampled_parameters")->rows(), 1u);
  EXPECT_EQ(plain.Find("sampled_parameters"), nullptr);
}

TEST(ScenarioDistributions, NormalIsTruncatedToTheFieldsRange) {
  // ctr is in [0, 1]: N(0.001, 0.01) is mostly negative, so every draw must be redrawn into the range.
  const Scenario sc = Parse(WithCtr("{normal: [0.001, 0.01]}"));
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    const double ctr = SampleScenario(sc, seed).segments[1].ctr;
    EXPECT_GE(ctr, 0.0);
    EXPECT_LE(ctr, 1.0);
  }
}

TEST(ScenarioDistributions, ErrorsNameTheField) {
  const auto first = [](const std::string& text) {
    const auto issues = IssuesOf(text);
    return issues.empty() ? ConfigIssue{} : issues.front();
  };
  ConfigIssue issue = first(WithCtr("{gamma: [1, 2]}"));
  EXPECT_EQ(issue.path, "segments[1].ctr");
  EXPECT_NE(issue.found.find("unknown distribution 'gamma'"), std::string::npos) << issue.found;
  EXPECT_NE(issue.expected.find("beta, lognormal, normal, uniform, choice"), std::string::npos);

  issue = first(WithCtr("{beta: [-1, 2]}"));
  EXPECT_EQ(issue.path, "segments[1].ctr.beta");
  EXPECT_NE(issue.expected.find("a > 0 and b > 0"), std::string::npos) << issue.expected;

  issue = first(WithCtr("{normal: [1]}"));
  EXPECT_EQ(issue.path, "segments[1].ctr.normal");

  issue = first(WithCtr("{uniform: [0.5, 2]}"));  // ctr <= 1
  EXPECT_EQ(issue.path, "segments[1].ctr.uniform[1]");

  issue = first(WithCtr("{choice: [0.1, x]}"));
  EXPECT_EQ(issue.path, "segments[1].ctr.choice[1]");

  // A distribution where no number is expected: a name, a whole number.
  std::string text = SmallScenario("", "", "6h");
  text.replace(text.find("name: small"), 11, "name: {choice: [1, 2]}");
  issue = first(text);
  EXPECT_EQ(issue.path, "name");
  EXPECT_NE(issue.found.find("allowed only on real-valued fields"), std::string::npos) << issue.found;
  text = SmallScenario("", "", "6h");
  text.replace(text.find("users: 1000,"), 12, "users: {choice: [1000, 2000]},");
  issue = first(text);
  EXPECT_EQ(issue.path, "segments[0].users");
  EXPECT_NE(issue.expected.find("real-valued"), std::string::npos) << issue.expected;
}

}  // namespace
}  // namespace adsim

// Scenario parsing and validation: every bad-input case names the file, the
// field path and the line, with what was expected and what was found.
#include <gtest/gtest.h>

#include <fstream>

#include "core/registry.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::IssuesOf;
using test::SmallScenario;

bool HasIssue(const std::vector<ConfigIssue>& issues, const std::string& path, int line = -1) {
  for (const auto& i : issues)
    if (i.path == path && (line < 0 || i.line == line)) return true;
  return false;
}

std::string Dump(const std::vector<ConfigIssue>& issues) {
  std::string s;
  for (const auto& i : issues) s += i.Format() + "\n";
  return s;
}

TEST(Duration, ParsesUnitsAndRejectsNonsense) {
  SimTime t;
  ASSERT_TRUE(ParseDuration("15m", &t));
  EXPECT_EQ(t, 15 * kMicrosPerMinute);
  ASSERT_TRUE(ParseDuration("1h30m", &t));
  EXPECT_EQ(t, 90 * kMicrosPerMinute);
  ASSERT_TRUE(ParseDuration("7d", &t));
  EXPECT_EQ(t, kMicrosPerWeek);
  ASSERT_TRUE(ParseDuration("250ms", &t));
  EXPECT_EQ(t, 250'000);
  ASSERT_TRUE(ParseDuration("1.5h", &t));
  EXPECT_EQ(t, 90 * kMicrosPerMinute);
  EXPECT_FALSE(ParseDuration("15 minutes", &t));
  EXPECT_FALSE(ParseDuration("m", &t));
  EXPECT_FALSE(ParseDuration("10", &t));
  EXPECT_FALSE(ParseDuration("", &t));
  EXPECT_FALSE(ParseDuration("3w", &t));
  EXPECT_FALSE(ParseDuration("1.2.3h", &t));
  EXPECT_FALSE(ParseDuration(".h", &t));
  EXPECT_EQ(FormatDuration(kMicrosPerDay + 2 * kMicrosPerHour + 5 * kMicrosPerMinute), "1d2h5m");
}

TEST(Scenario, DefaultScenarioParsesWithItsDerivedFields) {
  const Scenario sc = DefaultScenario();
  EXPECT_EQ(sc.name, "default");
  ASSERT_TRUE(sc.seed.has_value());
  EXPECT_EQ(sc.duration, kMicrosPerWeek);
  EXPECT_EQ(sc.start_weekday, 0);  // 2026-03-02 is a Monday
  EXPECT_EQ(sc.channels.size(), 2u);
  EXPECT_EQ(sc.channels[0].auction, AuctionType::kGsp);
  EXPECT_EQ(sc.channels[0].slots, 3);
  EXPECT_EQ(sc.channels[0].billing, Billing::kClick);
  // Profiles are normalised to mean 1 so per_hour stays the mean hourly rate.
  double sum = 0;
  for (double v : sc.channels[0].hour_of_day) sum += v;
  EXPECT_NEAR(sum, 24.0, 1e-9);
}

TEST(Scenario, StartDateGivesWeekdayAndTimeOfDay) {
  std::string text = SmallScenario();
  text.replace(text.find("2026-03-02T00:00:00"), 19, "2026-11-26T13:30:00");  // a Thursday
  const Scenario sc = test::Parse(text);
  EXPECT_EQ(sc.start_weekday, 3);
  EXPECT_EQ(sc.start_offset_in_day, 13 * kMicrosPerHour + 30 * kMicrosPerMinute);
}

TEST(Scenario, JsonIsAccepted) {
  const std::string json = R"({"name": "j", "seed": 3, "duration": "2h",
    "channels": [{"name": "c", "traffic": {"per_hour": 100}, "competition": {"median": 0.01}}],
    "segments": [{"name": "s", "ctr": 0.01, "cvr": 0.1}],
    "campaigns": [{"name": "k", "bid": 1.0}]})";
  const Scenario sc = ParseScenario(json, "s.json");
  EXPECT_EQ(sc.name, "j");
  EXPECT_EQ(*sc.seed, 3u);
  EXPECT_EQ(sc.campaigns[0].channels, std::vector<int>{0});
  EXPECT_EQ(sc.campaigns[0].creatives.size(), 1u);  // a default creative
}

TEST(ScenarioErrors, YamlSyntaxErrorNamesFileAndLine) {
  const auto issues = IssuesOf("name: x\nchannels: [\n  {name: a\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].file, "bad.yaml");
  EXPECT_GT(issues[0].line, 1);
  EXPECT_NE(issues[0].expected.find("YAML"), std::string::npos);
}

TEST(ScenarioErrors, JsonErrorHasALine) {
  // A missing colon is a syntax error, located on its line.
  auto issues = IssuesOf("{\"name\": \"x\",\n \"seed\": 1,\n \"duration\" \"1d\"}\n");
  ASSERT_FALSE(issues.empty());
  EXPECT_EQ(issues[0].line, 3);
  // A present but empty value is located on its own line, not its parent's.
  issues = IssuesOf("{\"name\": \"x\",\n \"seed\": 1,\n \"duration\": null}\n");
  ASSERT_FALSE(issues.empty());
  EXPECT_EQ(issues[0].path, "duration");
  EXPECT_EQ(issues[0].line, 3);
}

TEST(ScenarioErrors, EmptyDocument) {
  const auto issues = IssuesOf("");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].found, "an empty document");
}

TEST(ScenarioErrors, BudgetNotANumberNamesPathAndLine) {
  std::string text = SmallScenario();
  const size_t at = text.find("budget: {daily: 15");
  text.replace(at, 18, "budget: {daily: lots");
  const auto issues = IssuesOf(text);
  // Line of campaigns[1].budget.daily in the text.
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
  ASSERT_TRUE(HasIssue(issues, "campaigns[1].budget.daily", line)) << Dump(issues);
  for (const auto& i : issues)
    if (i.path == "campaigns[1].budget.daily") {
      EXPECT_EQ(i.found, "'lots'");
      EXPECT_NE(i.expected.find("number"), std::string::npos);
      EXPECT_NE(i.Format().find("bad.yaml:" + std::to_string(line) + ": campaigns[1].budget.daily: expected a number"),
                std::string::npos)
          << i.Format();
    }
}

TEST(ScenarioErrors, ADuplicateKeyIsAnErrorNamingBothLines) {
  // yaml-cpp would keep the first value silently; a duplicate in a flow
  // mapping and one at the top level are both reported.
  std::string text = SmallScenario();
  const size_t at = text.find("budget: {daily: 15");
  text.replace(at, 18, "budget: {daily: 15, daily: 30");
  text += "seed: 8\n";
  const auto issues = IssuesOf(text);
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
  ASSERT_TRUE(HasIssue(issues, "campaigns[1].budget.daily", line)) << Dump(issues);
  ASSERT_TRUE(HasIssue(issues, "seed", 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n')) - 1))
      << Dump(issues);
  for (const auto& i : issues)
    if (i.path == "seed") {
      EXPECT_EQ(i.found, "'seed' again (first at line 2)");
    }
}

TEST(ScenarioErrors, EveryProblemIsReportedInOnePass) {
  std::string text = SmallScenario(
      "shocks:\n  - {name: s, start: 5h, end: 2h, channels: [tv], multiply: {ctr: -1}}\n"
      "recording: {events: maybe}\n");
  text.replace(text.find("duration: 1d"), 12, "duration: 1 day");
  text.replace(text.find("per_hour: 20000"), 15, "per_hour: -5");
  text.replace(text.find("auction: second_price"), 21, "auction: vickrey");
  text.replace(text.find("click_factors: [1.0, 0.6, 0.3]"), 30, "click_factors: [1.0, 0.6]");
  text.replace(text.find("bid: 0.003"), 10, "bid: 0.003\n    colour: red");
  const auto issues = IssuesOf(text);
  EXPECT_TRUE(HasIssue(issues, "duration")) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "channels[0].traffic.per_hour")) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "channels[0].auction")) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "channels[1].auction.click_factors")) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "campaigns[0].colour")) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "shocks[0].end")) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "shocks[0].channels[0]")) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "shocks[0].multiply.ctr")) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "recording.events")) << Dump(issues);
  for (const auto& i : issues) {
    EXPECT_EQ(i.file, "bad.yaml");
    EXPECT_GT(i.line, 0) << i.Format();
    EXPECT_FALSE(i.expected.empty());
  }
}

TEST(ScenarioErrors, StructuralProblems) {
  EXPECT_TRUE(HasIssue(IssuesOf("seed: 1\nduration: 1d\nsegments: [{name: a, ctr: 0.1, cvr: 0.1}]\n"
                                "campaigns: [{name: c, bid: 1}]\n"),
                       "channels"));
  EXPECT_TRUE(HasIssue(IssuesOf("- just\n- a list\n"), ""));
  // Unknown top-level key, listed with the valid ones.
  const auto unknown = IssuesOf(SmallScenario("budgets: 3\n"));
  ASSERT_TRUE(HasIssue(unknown, "budgets")) << Dump(unknown);
  EXPECT_NE(unknown[0].expected.find("campaigns"), std::string::npos);
}

TEST(ScenarioErrors, NamesMustResolveAndBeUnique) {
  std::string text = SmallScenario();
  text.replace(text.find("channels: [search]"), 18, "channels: [search, radio]");
  auto issues = IssuesOf(text);
  ASSERT_TRUE(HasIssue(issues, "campaigns[1].channels[1]")) << Dump(issues);
  EXPECT_NE(issues[0].expected.find("display, search"), std::string::npos);

  text = SmallScenario();
  text.replace(text.find("name: two"), 9, "name: one");
  EXPECT_TRUE(HasIssue(IssuesOf(text), "campaigns[1].name"));

  text = SmallScenario();
  text.replace(text.find("share: {display: 2, search: 1}"), 30, "share: {display: 2, tv: 1}");
  EXPECT_TRUE(HasIssue(IssuesOf(text), "segments[1].share.tv"));

  text = SmallScenario();
  text.replace(text.find("propensity_sigma: 0.4,"), 22, "propensity_sigma: 0.4, creatives: {one/z: {ctr: 0.5}},");
  EXPECT_TRUE(HasIssue(IssuesOf(text), "segments[0].creatives.one/z"));
}

TEST(ScenarioErrors, RangesAndChoices) {
  auto check = [](const std::string& from, const std::string& to, const std::string& path) {
    std::string text = SmallScenario();
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    const auto issues = IssuesOf(text);
    EXPECT_TRUE(HasIssue(issues, path)) << "after replacing '" << from << "' by '" << to << "':\n" << Dump(issues);
  };
  check("ctr: 0.02", "ctr: 1.5", "segments[0].ctr");
  check("ctr: 0.005, cvr: 0.2", "ctr: 0.005, cvr: -0.2", "segments[1].cvr");
  check("users: 1000", "users: 0", "segments[0].users");
  check("users: 1000", "users: many", "segments[0].users");
  check("competitors: 5", "competitors: 0", "channels[0].competition.competitors");
  check("billing: click", "billing: per_view", "channels[1].billing");
  check("mean: 2h", "mean: soon", "segments[0].conversion_delay.mean");
  check("distribution: lognormal, mean: 40", "distribution: pareto, mean: 40",
        "segments[1].conversion_value.distribution");
  check("bucket: 1h", "bucket: 0s", "bucket");
  check("seed: 7", "seed: -7", "seed");
  check("start: '2026-03-02T00:00:00'", "start: 'last monday'", "start");
  check("start: '2026-03-02T00:00:00'", "start: '2026-02-31T00:00:00'", "start");   // no such day
  check("start: '2026-03-02T00:00:00'", "start: '2026-03-02T00:00:00Z'", "start");  // trailing text
  check("competition: {competitors: 5, median: 0.002, sigma: 0.6}", "competition: {competitors: 5, sigma: 0.6}",
        "channels[0].competition");
  check("    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n", "", "channels[0].competition");
  check("bid: 0.003", "bid: 0.003\n    guardrails: {max_bid: 0.001}", "campaigns[0].bid");
  check("budget: {daily: 60}", "budget: {daily: 20, weekly: 100}", "campaigns[0].budget.weekly");
  check("budget: {daily: 60}", "budget: {daily: 20}\n    goal: {cpa: 10, roas: 2}", "campaigns[0].goal");
  check("creatives: [x, y]", "creatives: [x, x]", "campaigns[0].creatives[1]");
  check("creatives: [x, y]", "creatives: []", "campaigns[0].creatives");
  check("name: one", "name: one\n    guardrails: {min_bid: 5, max_bid: 1}", "campaigns[0].guardrails");
}

TEST(ScenarioErrors, HourProfileNeeds24Values) {
  std::string text = SmallScenario();
  text.replace(text.find("{per_hour: 20000"), 16, "{per_hour: 20000, hour_of_day: [1, 2, 3]");
  EXPECT_TRUE(HasIssue(IssuesOf(text), "channels[0].traffic.hour_of_day"));
}

TEST(ScenarioErrors, MissingFileIsAnIoError) { EXPECT_THROW(LoadScenarioFile("/nonexistent/scenario.yaml"), IoError); }

TEST(ScenarioErrors, FileNameAppearsInMessages) {
  const std::string path = ::testing::TempDir() + "/adsim_bad_scenario.yaml";
  {
    std::ofstream out(path);
    out << "name: x\nseed: 1\nduration: forever\n";
  }
  try {
    LoadScenarioFile(path);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3: duration: expected a duration"), std::string::npos) << e.what();
  }
}

TEST(ScenarioErrors, ComponentsAreResolvedAtRunWithTheirPaths) {
  // Unknown bidder.
  std::string text = SmallScenario("", "    bidder: {type: psychic}\n");
  try {
    RunScenario(test::Parse(text));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_FALSE(e.issues().empty());
    EXPECT_EQ(e.issues()[0].path, "campaigns[0].bidder.type");
    EXPECT_NE(e.issues()[0].expected.find("fixed"), std::string::npos);  // lists the valid names
  }
  // Unknown and ill-typed controller parameters.
  text = SmallScenario("", "    controllers: [{type: pid_pacing, params: {kq: 1, kp: fast}}]\n");
  try {
    RunScenario(test::Parse(text));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(HasIssue(e.issues(), "campaigns[0].controllers[0].params.kq")) << e.what();
    EXPECT_TRUE(HasIssue(e.issues(), "campaigns[0].controllers[0].params.kp")) << e.what();
    for (const auto& i : e.issues()) EXPECT_GT(i.line, 0) << i.Format();  // located on their lines
  }
  // Out-of-range parameter and bad string choice.
  text = SmallScenario("", "    controllers: [{type: pid_pacing, params: {kp: -1}}]\n");
  EXPECT_THROW(RunScenario(test::Parse(text)), ConfigError);
  text = SmallScenario("", "    controllers: [{type: pid_pacing, params: {curve: wavy}}]\n");
  try {
    RunScenario(test::Parse(text));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(HasIssue(e.issues(), "campaigns[0].controllers[0].params.curve")) << e.what();
  }
  // A per-campaign controller listed as scenario-wide.
  text = SmallScenario("controllers: [pid_pacing]\n");
  try {
    RunScenario(test::Parse(text));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(HasIssue(e.issues(), "controllers[0].type")) << e.what();
  }
}

TEST(ScenarioErrors, MissingSeedIsAnErrorNotTheClock) {
  std::string text = SmallScenario();
  text.replace(text.find("seed: 7\n"), 8, "");
  const Scenario sc = test::Parse(text);
  EXPECT_THROW(RunScenario(sc), ConfigError);
  RunOptions opt;
  opt.seed = 11;
  EXPECT_NO_THROW(RunScenario(sc, opt));
}

}  // namespace
}  // namespace adsim

namespace adsim {
namespace {

TEST(Scenario, ScalarGspHasTheSameDefaultsAsTheMapping) {
  std::string text = test::SmallScenario();
  text.replace(text.find("auction: second_price"), 21, "auction: gsp");
  const Scenario sc = test::Parse(text);
  EXPECT_EQ(sc.channels[0].slots, 3);
  EXPECT_EQ(sc.channels[0].click_factors.size(), 3u);
}

TEST(ScenarioErrors, EmptyShockTargetsAndDoubleCompetitionSpecs) {
  auto issues = IssuesOf(SmallScenario("shocks: [{name: s, start: 1h, end: 2h, channels: [], multiply: {ctr: 2}}]\n"));
  EXPECT_TRUE(HasIssue(issues, "shocks[0].channels")) << Dump(issues);
  std::string text = SmallScenario();
  text.replace(text.find("ctr: 0.005, cvr: 0.2"), 20,
               "ctr: 0.005, cvr: 0.2, competition: {display: {mu: -6, median: 0.01}}");
  issues = IssuesOf(text);
  EXPECT_TRUE(HasIssue(issues, "segments[1].competition.display")) << Dump(issues);
}

TEST(Scenario, SegmentFeaturesReachThePublicScenarioAsAUnionWithZeros) {
  std::string text = SmallScenario();
  text.replace(text.find("propensity_sigma: 0.4,"), 22, "propensity_sigma: 0.4, features: {young: 1, mobile: 0.7},");
  text.replace(text.find("share: {display: 2"), 0, "features: {mobile: 0.2, desktop: 1}, ");
  const PublicScenario p = MakePublicScenario(test::Parse(text));
  ASSERT_EQ(p.feature_names, (std::vector<std::string>{"young", "mobile", "desktop"}));
  EXPECT_EQ(p.segments[0].features, (std::vector<double>{1.0, 0.7, 0.0}));
  EXPECT_EQ(p.segments[1].features, (std::vector<double>{0.0, 0.2, 1.0}));

  text.replace(text.find("features: {young: 1, mobile: 0.7}"), 33, "features: [1, 2]");
  auto issues = IssuesOf(text);
  EXPECT_TRUE(HasIssue(issues, "segments[0].features", 21)) << Dump(issues);
  text = SmallScenario();
  text.replace(text.find("share: {display: 2"), 0, "features: {mobile: high}, ");
  issues = IssuesOf(text);
  EXPECT_TRUE(HasIssue(issues, "segments[1].features.mobile")) << Dump(issues);
}

}  // namespace
}  // namespace adsim

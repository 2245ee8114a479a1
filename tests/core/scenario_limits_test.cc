// Limits of the scenario reader (core/scenario_limits.h): document size, alias
// expansion, nesting depth, and text that is not UTF-8 or holds a NUL byte.
#include "core/scenario_limits.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/scenario.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::IssuesOf;
using test::SmallScenario;

// The classic "billion laughs": nine levels of nine aliases each, 9^9 (387
// million) leaves once expanded, in under 900 bytes.
std::string AliasBomb() {
  std::string text = "a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n";
  const std::string names = "abcdefghi";
  for (size_t k = 1; k < names.size(); ++k) {
    const std::string prev(1, names[k - 1]), name(1, names[k]);
    text += name + ": &" + name + " [";
    for (int i = 0; i < 9; ++i) text += (i ? ", *" : "*") + prev;
    text += "]\n";
  }
  return text;
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Runs the CLI; returns its exit code and what it printed.
std::pair<int, std::string> Adsim(const std::string& args, const std::string& tag) {
  const std::string log = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_limits_" + tag + ".txt";
  const int status = std::system((std::string(ADSIM_CLI) + " " + args + " > " + log + " 2>&1").c_str());
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

TEST(ScenarioLimits, AnAliasBombIsRejectedNamingTheLimit) {
  const std::string bomb = AliasBomb();
  EXPECT_LT(bomb.size(), 900u);
  const std::vector<ConfigIssue> issues = IssuesOf(bomb);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].file, "bad.yaml");
  EXPECT_GT(issues[0].line, 0);
  EXPECT_NE(issues[0].expected.find("at most " + std::to_string(ScenarioLimits::kMaxNodes) + " nodes"),
            std::string::npos)
      << issues[0].Format();
  EXPECT_NE(issues[0].expected.find("alias"), std::string::npos) << issues[0].Format();
}

TEST(ScenarioLimits, AliasBombFileFailsValidateFromTheCommandLine) {
  const std::string path = WriteTemp("alias_bomb.yaml", AliasBomb());
  const auto [code, out] = Adsim("validate " + path, "bomb");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find(path + ":"), std::string::npos) << out;
  EXPECT_NE(out.find("nodes with every alias"), std::string::npos) << out;
}

TEST(ScenarioLimits, AliasesWithinTheLimitAreFine) {
  // A profile shared through an anchor is a legitimate use of aliases.
  std::string shared = SmallScenario();
  const std::string from = "traffic: {per_hour: 20000}";
  const size_t at = shared.find(from);
  ASSERT_NE(at, std::string::npos);
  shared.replace(at, from.size(), "traffic: &t {per_hour: 20000}");
  const size_t second = shared.find("traffic: {per_hour: 5000}");
  ASSERT_NE(second, std::string::npos);
  shared.replace(second, std::string("traffic: {per_hour: 5000}").size(), "traffic: *t");
  const Scenario sc = test::Parse(shared);
  ASSERT_EQ(sc.channels.size(), 2u);
  EXPECT_EQ(sc.channels[1].per_hour, 20000);
}

TEST(ScenarioLimits, ADocumentAboveTheSizeLimitIsRejectedBeforeParsing) {
  // A comment padding the file: valid YAML, so only the size can reject it.
  std::string text = SmallScenario();
  text += "# " + std::string(ScenarioLimits::kMaxBytes, 'x') + "\n";
  const std::vector<ConfigIssue> issues = IssuesOf(text);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].expected.find("at most " + std::to_string(ScenarioLimits::kMaxBytes) + " bytes"),
            std::string::npos)
      << issues[0].Format();
  EXPECT_EQ(issues[0].found, std::to_string(text.size()) + " bytes");
  // Just under the limit is read.
  std::string fits = SmallScenario();
  fits += "# " + std::string(ScenarioLimits::kMaxBytes - fits.size() - 3, 'x') + "\n";
  ASSERT_LE(fits.size(), ScenarioLimits::kMaxBytes);
  EXPECT_NO_THROW(test::Parse(fits));
}

TEST(ScenarioLimits, LargeLegitimateScenarioIsWellWithinTheLimits) {
  // 450 segments, each with its own creatives' rates and features: the size
  // of the largest real scenarios (about 100 KiB).
  std::string text = SmallScenario();
  const size_t seg = text.find("segments:\n");
  ASSERT_NE(seg, std::string::npos);
  std::string many = "segments:\n";
  for (int i = 0; i < 450; ++i)
    many += "  - {name: s" + std::to_string(i) +
            ", users: 1000, ctr: 0.01, cvr: 0.1, features: {age: " + std::to_string(i % 7) +
            ", mobile: 0.5}, share: {display: 1, search: 1}, creatives: {one/x: {ctr: 0.02}}, "
            "conversion_delay: {distribution: exponential, mean: 2h}}\n";
  const size_t camp = text.find("campaigns:\n");
  text = text.substr(0, seg) + many + text.substr(camp);
  EXPECT_GT(text.size(), 80u * 1024);
  EXPECT_LT(text.size(), ScenarioLimits::kMaxBytes / 4);
  const Scenario sc = test::Parse(text);
  EXPECT_EQ(sc.segments.size(), 450u);
}

TEST(ScenarioLimits, DeepNestingNamesTheLimitAndTheLine) {
  // Within yaml-cpp's own limit but past ours.
  std::string deep = "name: x\ndescription:\n";
  std::string indent = "  ";
  for (int i = 0; i < ScenarioLimits::kMaxDepth + 5; ++i) {
    deep += indent + "k:\n";
    indent += "  ";
  }
  deep += indent + "v\n";
  std::vector<ConfigIssue> issues = IssuesOf(deep);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].expected, "nesting no deeper than " + std::to_string(ScenarioLimits::kMaxDepth) + " levels");
  EXPECT_GT(issues[0].line, ScenarioLimits::kMaxDepth) << issues[0].Format();
  // Past yaml-cpp's own limit, whose message was only "bad file".
  const std::string flow = "name: x\ndescription: " + std::string(2000, '[') + std::string(2000, ']') + "\n";
  issues = IssuesOf(flow);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].expected, "nesting no deeper than " + std::to_string(ScenarioLimits::kMaxDepth) + " levels");
  EXPECT_EQ(issues[0].line, 2);
  EXPECT_EQ(issues[0].found.find("bad file"), std::string::npos) << issues[0].Format();
}

TEST(ScenarioLimits, NamesWithANulByteAreRejectedWithTheirPathAndLine) {
  std::string text = SmallScenario();
  const std::string from = "  - name: two\n";
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, from.size(), "  - name: \"t\\0wo\"\n");  // YAML's escape for NUL
  const std::vector<ConfigIssue> issues = IssuesOf(text);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "campaigns[1].name");
  int line = 1;
  for (size_t i = 0; i < at; ++i) line += text[i] == '\n';
  EXPECT_EQ(issues[0].line, line);
  EXPECT_EQ(issues[0].expected, "text without NUL bytes");
  EXPECT_NE(issues[0].found.find("\\x00"), std::string::npos) << issues[0].Format();
}

TEST(ScenarioLimits, InvalidUtf8IsRejectedInNamesAndKeys) {
  for (const std::string& bad : {std::string("\xff"), std::string("\xc3"), std::string("\xc0\xaf"),
                                 std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80")}) {
    std::string text = SmallScenario();
    const size_t at = text.find("{name: a,");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 9, "{name: \"a" + bad + "\",");
    const std::vector<ConfigIssue> issues = IssuesOf(text);
    ASSERT_EQ(issues.size(), 1u) << bad.size();
    EXPECT_EQ(issues[0].path, "segments[0].name");
    EXPECT_EQ(issues[0].expected, "text in UTF-8");
    EXPECT_TRUE(IsValidUtf8(issues[0].Format()));  // the message itself stays readable
  }
  // A component name (a parameter key) in invalid UTF-8.
  const std::string key = SmallScenario("", "    controllers: [{type: pid_pacing, params: {\"k\xffp\": 1}}]\n");
  const std::vector<ConfigIssue> issues = IssuesOf(key);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "campaigns[0].controllers[0].params.'k\\xFFp'");
  // Valid multi-byte UTF-8 names are fine.
  std::string good = SmallScenario();
  good.replace(good.find("{name: a,"), 9, "{name: \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88\",");
  EXPECT_EQ(test::Parse(good).segments[0].name, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88");
}

TEST(ScenarioLimits, Utf8Validator) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));
  for (const char* bad : {"\x80", "\xc1\xbf", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80",
                          "\xf5\x80\x80\x80", "\xe2\x82", "\xe2\x28\xa1"})
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
}

}  // namespace
}  // namespace adsim

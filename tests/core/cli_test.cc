// The command line: exit codes and messages, as a user sees them.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace {

struct Outcome {
  int code;
  std::string out;
};

Outcome Adsim(const std::string& args) {
  // ctest runs tests in parallel processes: every file name carries the pid.
  static int calls = 0;
  const std::string log =
      ::testing::TempDir() + "/adsim_cli_out_" + std::to_string(::getpid()) + "_" + std::to_string(++calls) + ".txt";
  const std::string cmd = std::string(ADSIM_CLI) + " " + args + " > " + log + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

std::string Write(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path) << text;
  return path;
}

const char* kTiny =
    "name: tiny\nseed: 5\nduration: 6h\nchannels: [{name: c, traffic: {per_hour: 5000}, "
    "competition: {median: 0.002}}]\nsegments: [{name: s, ctr: 0.02, cvr: 0.1}]\n"
    "campaigns: [{name: k, bid: 0.003, budget: {daily: 5}}]\n";

TEST(Cli, RunWritesAResultAndSummaryReadsIt) {
  const std::string scen = Write("tiny.yaml", kTiny);
  const std::string out = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_tiny.h5";
  std::remove(out.c_str());
  Outcome r = Adsim("run " + scen + " -o " + out + " --no-progress");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("impressions"), std::string::npos);
  r = Adsim("summary " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("scenario tiny  seed 5"), std::string::npos) << r.out;
  // --seed overrides the scenario's seed.
  r = Adsim("run " + scen + " --seed 99 -q");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "");
}

TEST(Cli, OracleFlagAddsTheRegretToTheResultAndTheSummary) {
  const std::string scen = Write("tiny_oracle.yaml", kTiny);
  const std::string out = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_tiny_oracle.h5";
  std::remove(out.c_str());
  Outcome r = Adsim("run " + scen + " --oracle -o " + out + " --no-progress");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("oracle regret"), std::string::npos) << r.out;
  r = Adsim("summary " + out);
  EXPECT_NE(r.out.find("oracle regret"), std::string::npos) << r.out;
  // Each campaign's row ends with the regret as a share of the oracle:
  // regret_conv% = 100 x regret_conv / oracle_conv, regret_val% likewise
  // (printed to 0.1 %, from the printed columns rounded to 1 and 0.01).
  std::istringstream lines(r.out.substr(r.out.find("oracle regret")));
  std::string line;
  std::getline(lines, line);
  EXPECT_NE(line.find("regret_conv%"), std::string::npos) << line;
  EXPECT_NE(line.find("regret_val%"), std::string::npos) << line;
  int rows = 0;
  while (std::getline(lines, line)) {
    std::istringstream cells(line);
    std::string name, conv_share, value_share;
    double oracle_conversions = 0, oracle_value = 0, oracle_spend = 0, regret_conversions = 0, regret_value = 0;
    if (!(cells >> name >> oracle_conversions >> oracle_value >> oracle_spend >> regret_conversions >> regret_value >>
          conv_share >> value_share))
      break;  // the next section
    ++rows;
    if (oracle_conversions > 0) {
      EXPECT_NEAR(std::stod(conv_share), 100 * regret_conversions / oracle_conversions,
                  0.05 + 100 * 0.5 / oracle_conversions)
          << line;
    } else {
      EXPECT_EQ(conv_share, "n/a") << line;
    }
    ASSERT_GT(oracle_value, 0) << line;
    EXPECT_NEAR(std::stod(value_share), 100 * regret_value / oracle_value, 0.05 + 100 * 0.01 / oracle_value) << line;
  }
  EXPECT_GE(rows, 1) << r.out;
  r = Adsim("run " + scen + " --no-progress");
  EXPECT_EQ(r.out.find("oracle regret"), std::string::npos) << r.out;
}

TEST(Cli, ValidateReportsFileFieldAndLineWithExitCode2) {
  const std::string bad =
      Write("bad.yaml", std::string(kTiny) + "shocks: [{name: x, start: 2h, end: 1h, multiply: {ctr: 2}}]\n");
  const Outcome r = Adsim("validate " + bad);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find(bad + ":7: shocks[0].end: expected an end after start"), std::string::npos) << r.out;
  const Outcome ok = Adsim("validate " + Write("ok.yaml", kTiny));
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("valid"), std::string::npos);
  const Outcome def = Adsim("validate");
  EXPECT_EQ(def.code, 0) << def.out;
}

TEST(Cli, BadOutputPathIsAnIoErrorAndLeavesNothing) {
  const Outcome r = Adsim("run " + Write("tiny2.yaml", kTiny) + " -o /nonexistent-dir/x.h5 --no-progress");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("/nonexistent-dir/x.h5"), std::string::npos) << r.out;
}

TEST(Cli, UnknownCommandsAndFilesAreUsageErrors) {
  EXPECT_EQ(Adsim("fly").code, 2);
  EXPECT_EQ(Adsim("run /no/such/file.yaml").code, 2);
  const Outcome s = Adsim("summary " + Write("junk.h5", "junk"));
  EXPECT_EQ(s.code, 3);
  EXPECT_NE(s.out.find("junk.h5"), std::string::npos);
  EXPECT_EQ(Adsim("--help").code, 0);
  EXPECT_EQ(Adsim("run --help").code, 0);
}

TEST(Cli, ListShowsComponentsWithParameters) {
  const Outcome r = Adsim("list");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("bidder fixed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("controller pid_pacing"), std::string::npos);
  EXPECT_NE(r.out.find("- kp = 3"), std::string::npos);
}

// `adsim list` groups the components by family, one heading each, in the
// order bidders, controllers, monitors, experiment analyses, and every
// component sits under its own family's heading.
TEST(Cli, ListGroupsComponentsByFamily) {
  const Outcome r = Adsim("list");
  ASSERT_EQ(r.code, 0);
  const size_t bidders = r.out.rfind("Bidders", 0);  // the first line
  const size_t controllers = r.out.find("\nControllers");
  const size_t monitors = r.out.find("\nMonitors");
  const size_t analyses = r.out.find("\nExperiment analyses");
  ASSERT_EQ(bidders, 0u) << r.out;
  ASSERT_NE(controllers, std::string::npos) << r.out;
  ASSERT_NE(monitors, std::string::npos) << r.out;
  ASSERT_NE(analyses, std::string::npos) << r.out;
  EXPECT_LT(controllers, monitors);
  EXPECT_LT(monitors, analyses);
  // Each component line ("<kind> <name> (...)") lies between its family's heading and the next.
  auto between = [&](const std::string& line, size_t from, size_t to) {
    const size_t at = r.out.find("\n" + line);
    return at != std::string::npos && at > from && at < to;
  };
  EXPECT_TRUE(between("bidder fixed (C++)", bidders, controllers));
  EXPECT_TRUE(between("bidder bid_shading (C++)", bidders, controllers));
  EXPECT_TRUE(between("controller pid_pacing (C++, per campaign)", controllers, monitors));
  EXPECT_TRUE(between("controller budget_reallocation (C++, scenario-wide)", controllers, monitors));
  EXPECT_TRUE(between("monitor kpi_cusum (C++)", monitors, analyses));
  EXPECT_TRUE(between("analysis ab_test (C++)", analyses, r.out.size()));
  EXPECT_TRUE(between("analysis factorial_test (C++)", analyses, r.out.size()));
  // Nothing of another family inside a family's block.
  EXPECT_EQ(r.out.substr(bidders, controllers - bidders).find("\ncontroller "), std::string::npos);
  EXPECT_EQ(r.out.substr(controllers, monitors - controllers).find("\nbidder "), std::string::npos);
  EXPECT_EQ(r.out.substr(monitors, analyses - monitors).find("\nanalysis "), std::string::npos);
  EXPECT_EQ(r.out.substr(analyses).find("\nmonitor "), std::string::npos);
}

TEST(Cli, MissingSeedIsAConfigError) {
  std::string text = kTiny;
  text.replace(text.find("seed: 5\n"), 8, "");
  const Outcome r = Adsim("run " + Write("noseed.yaml", text) + " --no-progress");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("seed"), std::string::npos);
}

}  // namespace

// `adsim attribute` as a user runs it: the --json objects and their keys, the
// wide table's totals, and the exit codes and messages of bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace {

struct Outcome {
  int code;
  std::string out, err;
};

Outcome Attribute(const std::string& args) {
  static int calls = 0;
  const std::string base =
      ::testing::TempDir() + "/adsim_attribute_" + std::to_string(::getpid()) + "_" + std::to_string(++calls);
  const std::string cmd = std::string(ADSIM_CLI) + " attribute " + args + " > " + base + ".out 2> " + base + ".err";
  const int status = std::system(cmd.c_str());
  const auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read(base + ".out"), read(base + ".err")};
}

const std::string kData = std::string(ADSIM_SOURCE_DIR) + "/tests/data/channel-attribution/paths.csv";

TEST(CliAttribute, JsonIsAListOfObjectsWithExactlyModelChannelConversionsValue) {
  const Outcome r = Attribute(kData + " --model first_touch,last_touch,linear,markov1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  // One object per line between "[" and "]": 4 models x 12 channels.
  const std::regex object(
      R"(^  \{"model": "[a-z_0-9]+", "channel": "[a-z]+", "conversions": [-0-9.e+]+, "value": [-0-9.e+]+\},?$)");
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "[");
  int objects = 0;
  while (std::getline(lines, line) && line != "]") {
    EXPECT_TRUE(std::regex_match(line, object)) << line;
    ++objects;
  }
  EXPECT_EQ(line, "]");
  EXPECT_EQ(objects, 48);
  // README of the data: alpha gets 6308 first-touch conversions.
  EXPECT_NE(r.out.find(R"({"model": "first_touch", "channel": "alpha", "conversions": 6308, )"), std::string::npos);
}

TEST(CliAttribute, WideTableTotalsAreTheDataTotals) {
  const Outcome r = Attribute(kData + " --model linear,markov1,shapley --wide conversions");
  ASSERT_EQ(r.code, 0) << r.err;
  // Every model credits the 19,785 conversions once.
  EXPECT_NE(r.out.find("total    19785.0000  19785.0000  19785.0000\n"), std::string::npos) << r.out;
}

TEST(CliAttribute, BadInputExitCodesAndMessages) {
  const std::string path = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_bad_paths.csv";
  std::ofstream(path) << "path;total_conversions;total_conversion_value;total_null\na > b;1;2;0\nb;x;0;1\n";
  Outcome r = Attribute(path + " --json");
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out, "");  // nothing printed before the error
  EXPECT_NE(r.err.find(path + ":3: total_conversions: expected a finite number >= 0, found 'x'"), std::string::npos)
      << r.err;
  r = Attribute(kData + " --model linear,markov0");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--model: expected one of first_touch"), std::string::npos) << r.err;
  r = Attribute(kData + " --param half_life=3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--param half_life: expected one of direct_channel"), std::string::npos) << r.err;
  r = Attribute(::testing::TempDir() + "/no_such_paths.csv");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
}

}  // namespace

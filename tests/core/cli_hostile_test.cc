// The command line against hostile input and hostile moments: a negative
// seed, Ctrl-C in the middle of a long run, a scenario that needs more memory
// than the process may have. Real processes, real signals, real limits.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;  // gcc
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;  // clang
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

std::string TempPath(const std::string& name) {
  // ctest runs tests in parallel processes: every file name carries the pid.
  return ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_hostile_" + name;
}

std::string Write(const std::string& name, const std::string& text) {
  const std::string path = TempPath(name);
  std::ofstream(path) << text;
  return path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Outcome {
  int code;
  std::string out;
};

// Runs `command` through the shell with stdout and stderr captured.
Outcome Shell(const std::string& command) {
  static int calls = 0;
  const std::string log = TempPath("out_" + std::to_string(++calls) + ".txt");
  const int status = std::system((command + " > " + log + " 2>&1").c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadAll(log)};
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

const char* kTiny =
    "name: tiny\nseed: 5\nduration: 6h\nchannels: [{name: c, traffic: {per_hour: 5000}, "
    "competition: {median: 0.002}}]\nsegments: [{name: s, ctr: 0.02, cvr: 0.1}]\n"
    "campaigns: [{name: k, bid: 0.003, budget: {daily: 5}}]\n";

TEST(CliHostile, NegativeSeedIsAUsageError) {
  const std::string scen = Write("seed.yaml", kTiny);
  for (const std::string seed : {"-1", "18446744073709551616", "1.5", "seven"}) {
    const Outcome r = Shell(std::string(ADSIM_CLI) + " run " + scen + " -q --seed " + seed);
    EXPECT_EQ(r.code, 2) << seed << ": " << r.out;
    EXPECT_NE(r.out.find("--seed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("integer in [0, 2^64)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("'" + seed + "'"), std::string::npos) << r.out;
  }
  // The whole valid range is accepted, its top included.
  for (const std::string seed : {"0", "18446744073709551615"}) {
    const Outcome r = Shell(std::string(ADSIM_CLI) + " run " + scen + " -q --seed " + seed);
    EXPECT_EQ(r.code, 0) << seed << ": " << r.out;
  }
}

// Whether `pid` has a handler installed for SIGINT (Linux: SigCgt in /proc).
bool CatchesSigint(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("SigCgt:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (SIGINT - 1)) & 1;
  return false;
}

TEST(CliHostile, CtrlCStopsALongRunWithExit130AndNoResultFile) {
  // About 9 billion opportunities in one control cycle: hours of work, so
  // only an interrupt polled inside the cycle ends it within the test.
  const std::string scen = Write("long.yaml",
                                 "name: long\nseed: 1\nduration: 366d\nbucket: 1d\ncontrol_cycle: 366d\n"
                                 "channels: [{name: c, traffic: {per_hour: 1000000}, competition: {median: 0.002}}]\n"
                                 "segments: [{name: s, ctr: 0.02, cvr: 0.1}]\ncampaigns: [{name: k, bid: 0.003}]\n");
  const std::string out = TempPath("long.h5"), log = TempPath("long.txt");
  std::remove(out.c_str());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::freopen(log.c_str(), "w", stdout);
    std::freopen(log.c_str(), "a", stderr);
    ::execl(ADSIM_CLI, ADSIM_CLI, "run", scen.c_str(), "-o", out.c_str(), "--no-progress", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until the CLI has installed its handler (it does so just before the
  // run starts), then let the run get going.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!CatchesSigint(pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(CatchesSigint(pid)) << "no SIGINT handler installed: " << ReadAll(log);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  const std::string text = ReadAll(log);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << ": " << text;
  EXPECT_EQ(WEXITSTATUS(status), 130) << text;
  EXPECT_NE(text.find("interrupted"), std::string::npos) << text;
  EXPECT_NE(text.find("no result file written"), std::string::npos) << text;
  EXPECT_FALSE(Exists(out));
}

TEST(CliHostile, OutOfMemoryIsReportedWithWhatTheScenarioNeeds) {
  if (kAddressSanitizer) GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space: ulimit -v cannot apply";
  // One segment of 1e8 users with a propensity spread: 400 MB of per-user
  // propensities, in one allocation, more than the 300 MB of address space
  // left to the process after its libraries.
  const std::string scen = Write(
      "big.yaml",
      "name: big\nseed: 1\nduration: 1h\nchannels: [{name: c, traffic: {per_hour: 10}, competition: {median: 0.002}}]\n"
      "segments: [{name: s, users: 100000000, propensity_sigma: 0.5, ctr: 0.02, cvr: 0.1}]\n"
      "campaigns: [{name: k, bid: 0.003}]\n");
  const std::string out = TempPath("big.h5");
  std::remove(out.c_str());
  const Outcome r = Shell("ulimit -v 350000 && " + std::string(ADSIM_CLI) + " run " + scen + " -q -o " + out);
  EXPECT_EQ(r.code, 4) << r.out;
  EXPECT_NE(r.out.find("adsim: out of memory while running the scenario (the scenario needs about 400 MB for user "
                       "propensities (100000000 users with propensity_sigma > 0, 4 bytes each))"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("internal error"), std::string::npos) << r.out;
  EXPECT_FALSE(Exists(out));
}

}  // namespace

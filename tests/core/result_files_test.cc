// Result files: the output is checked before a run, temporary names are unique,
// temporaries of killed runs are removed, a full disk is an I/O error (exit 3,
// no crash), scenario texts of any size are stored, damaged files are refused.
// Real files and real processes throughout (the CLI, fork, ulimit).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/results.h"

namespace adsim {
namespace {

struct Outcome {
  int code;  // exit code, or 128 + signal when killed by one (as a shell reports it)
  std::string out;
};

// Runs `command` (a shell command line using $ADSIM for the CLI) with stdout and
// stderr captured.
Outcome Shell(const std::string& command) {
  static int calls = 0;
  const std::string log =
      ::testing::TempDir() + "/adsim_files_out_" + std::to_string(::getpid()) + "_" + std::to_string(++calls) + ".txt";
  const std::string cmd = "ADSIM='" + std::string(ADSIM_CLI) + "'; (" + command + ") > '" + log + "' 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(log.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
}

// A fresh, empty folder for one test (ctest runs tests in parallel processes).
std::string Folder(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/adsim_files_" + std::to_string(::getpid()) + "_" + name;
  Shell("rm -rf '" + dir + "' && mkdir -p '" + dir + "'");
  return dir;
}

std::string WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool Exists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

// The names in `dir` (without . and ..), sorted.
std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> names;
  std::istringstream lines(Shell("ls -A '" + dir + "'").out);
  for (std::string line; std::getline(lines, line);) names.push_back(line);
  std::sort(names.begin(), names.end());  // by bytes, whatever the locale's collation for ls
  return names;
}

const char* kTiny =
    "name: tiny\nseed: 5\nduration: 6h\nchannels: [{name: c, traffic: {per_hour: 5000}, "
    "competition: {median: 0.002}}]\nsegments: [{name: s, ctr: 0.02, cvr: 0.1}]\n"
    "campaigns: [{name: k, bid: 0.003, budget: {daily: 5}}]\n";

// A small result without running the engine.
Results SmallResults(int64_t schema_version = kSchemaVersion) {
  Results r;
  r.int_attrs["schema_version"] = schema_version;
  r.text_attrs["scenario"] = "name: small\n";
  Table& t = r.Add("numbers", "a test table");
  auto& ints = t.Int("n", "count", "integers");
  auto& reals = t.Real("x", "ratio", "reals");
  for (int i = 0; i < 100; ++i) {
    ints.push_back(i);
    reals.push_back(i / 7.0);
  }
  return r;
}

TEST(ResultFiles, TemporaryNamesAreUniquePerCallAndRemovedWhenNotCommitted) {
  const std::string dir = Folder("unique");
  const std::string out = dir + "/run.h5";
  {
    OutputFile first(out), second(out);
    EXPECT_NE(first.temporary_path(), second.temporary_path());
    EXPECT_TRUE(Exists(first.temporary_path()));
    EXPECT_TRUE(Exists(second.temporary_path()));
    EXPECT_EQ(first.temporary_path().rfind(out + ".tmp-" + std::to_string(::getpid()) + "-", 0), 0u)
        << first.temporary_path();
  }
  EXPECT_TRUE(Listing(dir).empty());  // neither was committed: both temporaries are gone
}

TEST(ResultFiles, TwoThreadsWriteTheSamePath) {
  // Before temporary names were unique per call, both threads wrote
  // `<path>.tmp-<pid>` and both failed.
  const std::string dir = Folder("threads");
  const std::string out = dir + "/same.h5";
  const Results results = SmallResults();
  std::vector<std::string> errors(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < errors.size(); ++i)
    threads.emplace_back([&, i] {
      try {
        for (int k = 0; k < 5; ++k) WriteResultsHdf5(results, out);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(Listing(dir), std::vector<std::string>{"same.h5"});
  const Results back = ReadResultsHdf5(out);
  ASSERT_NE(back.Find("numbers"), nullptr);
  EXPECT_EQ(back.Find("numbers")->rows(), 100u);
}

TEST(ResultFiles, TemporariesOfDeadProcessesAreRemovedOthersKept) {
  const std::string dir = Folder("stale");
  const std::string out = dir + "/run.h5";
  // A process id that is certainly dead: a child that has exited and been reaped.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const std::string dead = std::to_string(child);
  const std::string alive = std::to_string(::getppid());  // our parent is running
  for (const std::string& name :
       {"run.h5.tmp-" + dead + "-0", "run.h5.tmp-" + dead, "run.h5.tmp-" + alive + "-3", "other.h5.tmp-" + dead + "-0",
        "run.h5.tmp-" + dead + "-x", std::string("run.h5.tmp-notes")})
    WriteText(dir + "/" + name, "left by a killed run");
  {
    OutputFile output(out);
    output.Commit(SmallResults());
  }
  // Only this path's temporaries of the dead process went; foreign names stay.
  // Listing is sorted by name, and the two process ids decide the order of their names.
  std::vector<std::string> expected{"other.h5.tmp-" + dead + "-0", "run.h5", "run.h5.tmp-" + alive + "-3",
                                    "run.h5.tmp-" + dead + "-x", std::string("run.h5.tmp-notes")};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Listing(dir), expected);
}

TEST(ResultFiles, BadPathsFailBeforeAnythingIsWritten) {
  const std::string dir = Folder("bad_paths");
  EXPECT_THROW(OutputFile(""), IoError);
  try {
    OutputFile output(dir);
    FAIL() << "a folder was accepted as the result path";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("it is a folder"), std::string::npos) << e.what();
  }
  try {
    OutputFile output(dir + "/missing/run.h5");
    FAIL() << "a missing folder was accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/missing/run.h5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(Listing(dir).empty());
}

TEST(ResultFiles, ScenarioTextOver64KiBIsStoredAndReadBack) {
  // An HDF5 attribute holds at most 64 KiB: the scenario text is a dataset.
  const std::string dir = Folder("big_text");
  Results results = SmallResults();
  std::string text;
  for (int i = 0; text.size() < 200 * 1024; ++i) text += "  - {name: segment_" + std::to_string(i) + ", ctr: 0.01}\n";
  results.text_attrs["scenario"] = text;
  WriteResultsHdf5(results, dir + "/big.h5");
  EXPECT_EQ(ReadResultsHdf5(dir + "/big.h5").text_attrs.at("scenario"), text);
}

TEST(ResultFiles, OlderSchemaKeepsItsLayoutAndReads) {
  // A result read from a schema-2 file is written back as schema 2 (scenario
  // text in an attribute), and the reader takes the text from there.
  const std::string dir = Folder("schema2");
  WriteResultsHdf5(SmallResults(2), dir + "/old.h5");
  const Results back = ReadResultsHdf5(dir + "/old.h5");
  EXPECT_EQ(back.int_attrs.at("schema_version"), 2);
  EXPECT_EQ(back.text_attrs.at("scenario"), "name: small\n");
}

TEST(ResultFiles, DamagedFilesAreDataErrorsNamingTheFile) {
  const std::string dir = Folder("damaged");
  const std::string good = dir + "/good.h5", cut = dir + "/cut.h5";
  WriteResultsHdf5(SmallResults(), good);
  const std::string bytes = ReadText(good);
  for (const size_t keep : {bytes.size() / 2, size_t{1000}}) {
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, keep);
    try {
      ReadResultsHdf5(cut);
      ADD_FAILURE() << "a file cut to " << keep << " bytes was read";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + cut + "' is damaged or truncated"), std::string::npos) << e.what();
    }
  }
}

// ---- through the command line ----------------------------------------------

TEST(ResultFilesCli, UnwritableOutputFailsBeforeTheRun) {
  // No seed anywhere: the run itself would fail with exit 2, so exit 3 shows
  // that the output path was checked before the run started.
  std::string text = kTiny;
  text.replace(text.find("seed: 5\n"), 8, "");
  const std::string dir = Folder("unwritable");
  const std::string scenario = WriteText(dir + "/noseed.yaml", text);
  const Outcome r = Shell("\"$ADSIM\" run '" + scenario + "' -o '" + dir + "/missing/x.h5' --no-progress");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("cannot write the result to '" + dir + "/missing/x.h5'"), std::string::npos) << r.out;
  const Outcome file_as_folder = Shell("\"$ADSIM\" run '" + scenario + "' -o '" + scenario + "/x.h5' --no-progress");
  EXPECT_EQ(file_as_folder.code, 3) << file_as_folder.out;
}

TEST(ResultFilesCli, EmptyOutputPathIsAUsageError) {
  const Outcome r = Shell("\"$ADSIM\" run -o '' -q --no-progress");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("-o/--out: expected a file path, found an empty string"), std::string::npos) << r.out;
}

TEST(ResultFilesCli, FailedRunSaysTheExistingFileWasLeftAsItWas) {
  const std::string dir = Folder("existing");
  const std::string out = WriteText(dir + "/last_week.h5", "last week's result");
  std::string text = kTiny;
  text.replace(text.find("seed: 5\n"), 8, "");
  const Outcome r =
      Shell("\"$ADSIM\" run '" + WriteText(dir + "/noseed.yaml", text) + "' -o '" + out + "' --no-progress");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("the existing file '" + out + "' was left as it was: it is not the result of this run"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(ReadText(out), "last week's result");
  EXPECT_EQ(Listing(dir), (std::vector<std::string>{"last_week.h5", "noseed.yaml"}));
  // Without a file there, no such sentence.
  const Outcome fresh = Shell("\"$ADSIM\" run '" + dir + "/noseed.yaml' -o '" + dir + "/new.h5' --no-progress");
  EXPECT_EQ(fresh.code, 2) << fresh.out;
  EXPECT_EQ(fresh.out.find("existing file"), std::string::npos) << fresh.out;
}

TEST(ResultFilesCli, FullDiskIsAnIoErrorNotACrash) {
  // A file-size limit stands in for a full disk (no privileges needed): with
  // SIGXFSZ ignored, write() fails with EFBIG. 20 blocks is far less than the
  // result file, far more than the CLI's messages. The HDF5 library once
  // crashed in its cleanup after such a failed write (exit 139).
  const std::string dir = Folder("full");
  const std::string out = dir + "/run.h5";
  const std::string scenario = WriteText(dir + "/tiny.yaml", kTiny);
  const Outcome r =
      Shell("trap '' XFSZ; ulimit -f 20 && exec \"$ADSIM\" run '" + scenario + "' -o '" + out + "' -q --no-progress");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("cannot write the result to '" + out + "'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("File too large"), std::string::npos) << r.out;
  EXPECT_EQ(Listing(dir), std::vector<std::string>{"tiny.yaml"});  // no temporary left, no result
  // The same run without the limit writes a whole file.
  const Outcome ok = Shell("\"$ADSIM\" run '" + scenario + "' -o '" + out + "' -q --no-progress");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_GT(ReadText(out).size(), 20u * 1024);  // so the limit above did cut the file short
}

TEST(ResultFilesCli, ScenarioOf450SegmentsIsSavedAndSummarized) {
  // Its text is over 64 KiB, the most an HDF5 attribute holds.
  std::string text =
      "name: wide\nseed: 3\nduration: 2h\nchannels: [{name: c, traffic: {per_hour: 20000}, "
      "competition: {median: 0.002}}]\ncampaigns: [{name: k, bid: 0.003, budget: {daily: 50}}]\nsegments:\n";
  for (int i = 0; i < 450; ++i)
    text += "  - name: segment_number_" + std::to_string(i) +
            "\n    users: 20000\n    ctr: 0.02\n    cvr: 0.1\n"
            "    conversion_value: {distribution: lognormal, mean: 40, sigma: 0.5}\n"
            "    conversion_delay: {distribution: exponential, mean: 2h}\n";
  ASSERT_GT(text.size(), 64u * 1024);
  const std::string dir = Folder("wide");
  const std::string scenario = WriteText(dir + "/wide.yaml", text), out = dir + "/wide.h5";
  const Outcome r = Shell("\"$ADSIM\" run '" + scenario + "' -o '" + out + "' -q --no-progress");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(ReadResultsHdf5(out).text_attrs.at("scenario"), text);
  const Outcome summary = Shell("\"$ADSIM\" summary '" + out + "'");
  EXPECT_EQ(summary.code, 0) << summary.out;
  EXPECT_NE(summary.out.find("scenario wide  seed 3"), std::string::npos) << summary.out;
}

TEST(ResultFilesCli, SummaryOfATruncatedFileIsExit3) {
  const std::string dir = Folder("cut_cli");
  const std::string out = dir + "/run.h5";
  ASSERT_EQ(
      Shell("\"$ADSIM\" run '" + WriteText(dir + "/tiny.yaml", kTiny) + "' -o '" + out + "' -q --no-progress").code, 0);
  ASSERT_EQ(Shell("truncate -s 3000 '" + out + "'").code, 0);
  const Outcome r = Shell("\"$ADSIM\" summary '" + out + "'");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("'" + out + "' is damaged or truncated"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace adsim

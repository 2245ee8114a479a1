// The adsim command line: run, validate, summary, list, detect (core/cli/detect.cc),
// attribute (core/cli/attribute.cc).
// Exit codes: 0 success; 1 internal error; 2 bad usage or invalid scenario;
// 3 input/output or data error; 4 out of memory; 130 interrupted.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "core/cli/attribute.h"
#include "core/cli/detect.h"
#include "core/cli/python_commands.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/memory_needs.h"
#include "core/registry.h"
#include "core/results.h"
#include "core/scenario.h"
#include "core/summary.h"

namespace {

constexpr int kExitInternal = 1, kExitConfig = 2, kExitIo = 3, kExitOutOfMemory = 4, kExitInterrupted = 130;

// Set by SIGINT (Ctrl-C) during a run; the engine polls it and stops.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void OnSigint(int) { g_interrupted.store(true); }

// Ctrl-C stops the run at its next poll instead of killing the process, so
// nothing half-done is left behind. SA_RESETHAND: a second Ctrl-C kills as usual.
void InstallSigintHandler() {
  struct sigaction action {};
  action.sa_handler = OnSigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, nullptr);
}

// std::bad_alloc turned into a message that says what was being done and
// what the scenario asks for (core/memory_needs.h).
class OutOfMemory : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --seed takes what adsim.run(seed=...) and a scenario's `seed` take: an
// integer in [0, 2^64). CLI11 alone would wrap "-1" around to 2^64 - 1.
std::string CheckSeed(const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end)
    return "expected an integer in [0, 2^64) (like a scenario's seed), found '" + text + "'";
  return "";
}

adsim::Scenario Load(const std::string& path) {
  return path.empty() ? adsim::DefaultScenario() : adsim::LoadScenarioFile(path);
}

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  void operator()(double f) {
    if (!enabled_) return;
    const int width = 40, filled = static_cast<int>(f * width);
    std::fprintf(stderr, "\r[%s%s] %3d%%", std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                 static_cast<int>(f * 100));
    std::fflush(stderr);
  }
  void Done() {
    if (enabled_) std::fprintf(stderr, "\r%60s\r", "");
  }

 private:
  bool enabled_;
};

int CmdRun(const std::string& scenario_path, const std::string& out, std::optional<uint64_t> seed, bool quiet,
           bool progress_flag, bool oracle) {
  adsim::Scenario sc = Load(scenario_path);
  if (oracle) sc.oracle = true;
  adsim::RunOptions opt;
  opt.seed = seed;
  // Before the run: a path that cannot be written fails now, not after it.
  std::optional<adsim::OutputFile> output;
  if (!out.empty()) output.emplace(out);
  ProgressBar bar(progress_flag && isatty(2));
  opt.progress = [&bar](double f) { bar(f); };
  opt.cancel = &g_interrupted;
  InstallSigintHandler();
  const char* doing = "running the scenario";
  std::optional<adsim::Results> result;
  try {
    result = adsim::RunScenario(sc, opt);
    bar.Done();
    // A Ctrl-C after the last poll still stops here, before any file is made.
    if (g_interrupted.load()) throw adsim::Error("run cancelled");
    doing = "writing the result file";
    if (output) output->Commit(*result);
  } catch (const std::bad_alloc&) {
    result.reset();
    throw OutOfMemory(adsim::OutOfMemoryMessage(doing, &sc));
  } catch (const adsim::Error&) {
    if (!g_interrupted.load()) throw;
    bar.Done();
    std::cerr << "adsim: interrupted (Ctrl-C) before the end of the run"
              << (out.empty() ? "" : "; no result file written") << "\n";
    return kExitInterrupted;
  }
  const adsim::Results& r = *result;
  if (!quiet) {
    std::cout << adsim::FormatSummary(r);
    if (!out.empty()) std::cout << "wrote " << out << "\n";
  }
  return 0;
}

int CmdValidate(const std::string& path) {
  const adsim::Scenario sc = Load(path);
  adsim::ValidateComponents(sc);  // names, scopes and parameters, as a run checks them
  std::cout << sc.source_name << ": valid (" << sc.channels.size() << " channels, " << sc.segments.size()
            << " segments, " << sc.campaigns.size() << " campaigns, " << sc.shocks.size() << " shocks, "
            << adsim::FormatDuration(sc.duration) << ")";
  if (!sc.seed) std::cout << "; note: no seed, so runs need --seed";
  std::cout << "\n";
  return 0;
}

int CmdSummary(const std::string& path) {
  const adsim::Results r = adsim::ReadResultsHdf5(path);
  std::cout << adsim::FormatSummary(r);
  return 0;
}

// The families, in the order `adsim list` prints them; the folder of
// strategies/ each built-in family lives in.
struct Family {
  adsim::ComponentKind kind;
  const char* heading;
};
constexpr Family kFamilies[] = {
    {adsim::ComponentKind::kBidder, "Bidders (a bid per opportunity, one campaign; strategies/bidders/)"},
    {adsim::ComponentKind::kController,
     "Controllers (act once per control cycle, on one campaign or scenario-wide; strategies/controllers/)"},
    {adsim::ComponentKind::kMonitor, "Monitors (raise alerts; strategies/monitors/)"},
    {adsim::ComponentKind::kAnalysis, "Experiment analyses (decide experiments; strategies/experiments/)"},
};

int CmdList() {
  const auto entries = adsim::Registry::Global().List();
  bool first = true;
  for (const Family& family : kFamilies) {
    std::cout << (first ? "" : "\n") << family.heading << "\n";
    first = false;
    for (const auto& info : entries) {
      if (info->kind != family.kind) continue;
      std::cout << adsim::ComponentKindName(info->kind) << " " << info->name << " (" << info->origin
                << (info->kind == adsim::ComponentKind::kController
                        ? (info->campaign_scoped ? ", per campaign" : ", scenario-wide")
                        : "")
                << ")\n    " << info->description << "\n";
      for (const auto& p : info->params)
        std::cout << "    - " << p.name << " = " << adsim::FormatParamValue(p.default_value) << ": " << p.description
                  << "\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Subcommands implemented in Python (python/adsim/commands/) are handed over
  // whole, options and all.
  if (argc > 1 && adsim::cli::IsPythonCommand(argv[1])) return adsim::cli::ForwardToPython(argc, argv);
  CLI::App app{"adsim: discrete-event simulation and backtesting of advertising campaign optimization"};
  app.require_subcommand(1);
  app.footer(std::string("Also (implemented in Python, `adsim NAME --help`): ") + adsim::cli::PythonCommandList());
  app.set_version_flag("--version", adsim::AdsimVersion());

  std::string run_scenario, run_out;
  uint64_t run_seed = 0;
  bool run_quiet = false, run_no_progress = false, run_oracle = false;
  auto* run = app.add_subcommand("run", "Run a scenario (the embedded default if none is given)");
  run->add_option("scenario", run_scenario, "scenario file (YAML or JSON)")->check(CLI::ExistingFile);
  auto* out_opt = run->add_option("-o,--out", run_out, "write the result to this HDF5 file");
  auto* seed_opt = run->add_option("--seed", run_seed, "random seed (overrides the scenario's seed)")
                       ->check(CLI::Validator(CheckSeed, "UINT64", "seed"));
  run->add_flag("-q,--quiet", run_quiet, "print nothing on success");
  run->add_flag("--no-progress", run_no_progress, "no progress bar on stderr");
  run->add_flag("--oracle", run_oracle,
                "also run each campaign's oracle (true rates, same budgets, same seed) and record the regret");
  std::vector<std::string> run_python_modules;
  run->add_option("--python-module", run_python_modules,
                  "load this Python file (registering Python bidders and controllers) before the run; repeatable. "
                  "The run then goes through the Python package (docs/python.md)");

  std::string val_scenario;
  auto* validate = app.add_subcommand("validate", "Check a scenario and report every error");
  validate->add_option("scenario", val_scenario, "scenario file (the embedded default if none)");
  std::vector<std::string> val_python_modules;
  validate->add_option("--python-module", val_python_modules,
                       "load this Python file (registering Python bidders and controllers) first; repeatable");

  std::string sum_path;
  auto* summary = app.add_subcommand("summary", "Print the KPI summary of a result file");
  summary->add_option("result", sum_path, "result file (.h5)")->required();

  auto* list = app.add_subcommand("list", "List every registered bidder and controller with its parameters");

  adsim::cli::DetectCommand detect;
  adsim::cli::AddDetectCommand(app, &detect);
  adsim::cli::AttributeCommand attribute;
  adsim::cli::AddAttributeCommand(app, &attribute);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitConfig;
  }
  if (*run && out_opt->count() > 0 && run_out.empty()) {
    // Else `-o ""` (an unset shell variable) would silently write nothing.
    std::cerr << "adsim: run: -o/--out: expected a file path, found an empty string\n";
    return kExitConfig;
  }
  // A failed run says that an older result at the output path is still there,
  // so that nobody reads it as this run's.
  const auto note_output = [&] {
    const std::string note = *run ? adsim::ExistingOutputNote(run_out) : "";
    if (!note.empty()) std::cerr << "adsim: " << note << "\n";
  };
  try {
    // Python components (--python-module, or the scenario's `python:` list)
    // live in the Python package: the same run goes through `python -m adsim
    // run`, which loads them and writes the same file and output.
    if (*run && (!run_python_modules.empty() || !Load(run_scenario).python_modules.empty()))
      return adsim::cli::ForwardToPython(argc, argv, "a run with Python components");
    if (*validate && (!val_python_modules.empty() || !Load(val_scenario).python_modules.empty()))
      return adsim::cli::ForwardToPython(argc, argv, "a scenario with Python components");
    if (*run)
      return CmdRun(run_scenario, run_out, *seed_opt ? std::optional<uint64_t>(run_seed) : std::nullopt, run_quiet,
                    !run_no_progress, run_oracle);
    if (*validate) return CmdValidate(val_scenario);
    if (*summary) return CmdSummary(sum_path);
    if (*list) return CmdList();
    if (*detect.app) return adsim::cli::RunDetectCommand(detect);
    if (*attribute.app) return adsim::cli::RunAttributeCommand(attribute);
  } catch (const adsim::ConfigError& e) {
    std::cerr << "adsim: " << e.what() << "\n";
    note_output();
    return kExitConfig;
  } catch (const adsim::IoError& e) {
    std::cerr << "adsim: " << e.what() << "\n";
    note_output();
    return kExitIo;
  } catch (const adsim::DataError& e) {
    std::cerr << "adsim: " << e.what() << "\n";
    note_output();
    return kExitIo;
  } catch (const OutOfMemory& e) {
    std::cerr << "adsim: " << e.what() << "\n";
    return kExitOutOfMemory;
  } catch (const std::bad_alloc&) {
    std::cerr << "adsim: out of memory while " << (*run ? "reading the scenario" : "reading the input") << "\n";
    return kExitOutOfMemory;
  } catch (const std::exception& e) {
    std::cerr << "adsim: internal error: " << e.what() << "\n";
    note_output();
    return kExitInternal;
  }
  return kExitInternal;
}

// The `adsim detect` subcommand: runs a named detector of
// strategies/monitors/lib/series_detect.h over a CSV series (or lists them).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

namespace adsim::cli {

struct DetectCommand {
  CLI::App* app = nullptr;
  std::string series, out, detector = "default";
  std::vector<std::string> params;
  std::string timestamp_column = "timestamp", value_column = "value", successes_column, trials_column;
  bool list = false;
};

// Adds the subcommand and its options to `app`.
void AddDetectCommand(CLI::App& app, DetectCommand* command);
// Runs it; throws ConfigError (bad options), IoError (files), DataError.
int RunDetectCommand(const DetectCommand& command);

}  // namespace adsim::cli

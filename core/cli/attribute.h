// The `adsim attribute` subcommand: the attribution models of
// core/attribution/models.h over a `path;conversions;value;null` CSV file.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace adsim::cli {

struct AttributeCommand {
  CLI::App* app = nullptr;
  std::string paths;
  std::vector<std::string> models, params;
  std::string wide;  // "", "conversions" or "value"
  bool json = false, list = false;
  bool truth = false;  // score each model against journey_truth (a RUN.h5 with journeys.truth)
};

// Adds the subcommand and its options to `app`.
void AddAttributeCommand(CLI::App& app, AttributeCommand* command);
// Runs it; throws ConfigError (bad options), IoError (files), DataError (bad rows).
int RunAttributeCommand(const AttributeCommand& command);

}  // namespace adsim::cli

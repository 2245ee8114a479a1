// `adsim attribute PATHS.csv --model first_touch,linear,markov1 [--param
// NAME=VALUE ...] [--json]` and `adsim attribute --list`: the command-line
// face of the attribution models (core/attribution/models.h), the same code
// as adsim.attribute. Every model runs before anything is printed, so a
// failure prints an error and no partial table.
#include "core/cli/attribute.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "core/attribution/accuracy.h"
#include "core/attribution/models.h"
#include "core/error.h"
#include "core/results.h"

namespace adsim::cli {

namespace {

const char* kDefaultModels =
    "first_touch,last_touch,last_non_direct,linear,linear_unique,time_decay,position_based,markov1,shapley";

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (const unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// The shortest text that reads back as the same double.
std::string JsonNumber(double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : "null";
}

std::string Fixed(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4f", value);
  return buffer;
}

std::vector<std::string> SplitModels(const std::vector<std::string>& arguments) {
  std::vector<std::string> models;
  for (const std::string& argument : arguments) {
    size_t start = 0;
    while (true) {
      const size_t end = argument.find(',', start);
      const std::string name = argument.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (name.empty())
        throw ConfigError("attribute: --model: expected model names separated by commas, found '" + argument + "'");
      models.push_back(name);
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return models;
}

std::map<std::string, double> ByName(const attribution::PathData& data, const std::vector<double>& amounts) {
  std::map<std::string, double> credit;
  for (size_t channel = 0; channel < data.channel_names.size(); ++channel)
    credit[data.channel_names[channel]] += amounts[channel];
  return credit;
}

// `--truth`: one row per model (and the dashboards' reports and the drawn causes) and
// scope, the accuracy of its conversion and value shares against both truths.
int PrintAccuracy(const AttributeCommand& c, const std::vector<std::string>& models,
                  const attribution::ModelOptions& options, const Results& results) {
  struct Row {
    std::string model, scope;
    double scores[4];  // conversions vs removal, vs shapley; value vs removal, vs shapley
  };
  std::vector<Row> rows;
  for (const std::string scope : {"channel", "campaign"}) {
    const attribution::PathData data = scope == "channel" ? attribution::PathsFromJourneys(results, c.paths)
                                                          : attribution::CampaignPathsFromJourneys(results, c.paths);
    const attribution::TrueCredit conversions = attribution::TrueCreditFromJourneys(results, scope, false, c.paths);
    const attribution::TrueCredit value = attribution::TrueCreditFromJourneys(results, scope, true, c.paths);
    auto score = [&](const std::string& name, const std::map<std::string, double>& model_conversions,
                     const std::map<std::string, double>& model_value) {
      rows.push_back({name,
                      scope,
                      {attribution::AccuracyScore(model_conversions, conversions.removal),
                       attribution::AccuracyScore(model_conversions, conversions.shapley),
                       attribution::AccuracyScore(model_value, value.removal),
                       attribution::AccuracyScore(model_value, value.shapley)}});
    };
    for (const std::string& model : models) {
      // A channel holdout measures channels, not campaigns: the holdout models
      // are scored per channel only (as Result.attribution_accuracy does).
      if (scope == std::string("campaign") && (model == "holdout" || model == "holdout_calibrated")) continue;
      attribution::ModelCredit credit = attribution::Attribute(data, model, options);
      // A measured lift below 0 (noise, or a channel that does nothing) credits the
      // channel nothing, as in Result.attribution_accuracy; path models are never below 0.
      for (std::vector<double>* amounts : {&credit.conversions, &credit.value})
        for (double& amount : *amounts) amount = std::max(0.0, amount);
      score(model, ByName(data, credit.conversions), ByName(data, credit.value));
    }
    score("platform_reported", conversions.reported, value.reported);
    score("drawn_cause", conversions.cause, value.cause);
  }
  const char* columns[] = {"conversions_vs_removal", "conversions_vs_shapley", "value_vs_removal", "value_vs_shapley"};
  std::ostringstream out;
  if (c.json) {
    out << "[";
    for (size_t i = 0; i < rows.size(); ++i) {
      out << (i ? ",\n" : "\n") << "  {\"model\": " << JsonString(rows[i].model)
          << ", \"scope\": " << JsonString(rows[i].scope);
      for (int k = 0; k < 4; ++k)
        out << ", \"" << columns[k]
            << "\": " << (std::isnan(rows[i].scores[k]) ? std::string("null") : JsonNumber(rows[i].scores[k]));
      out << "}";
    }
    out << "\n]\n";
  } else {
    size_t width = 5;
    for (const Row& row : rows) width = std::max(width, row.model.size());
    std::string header = "model" + std::string(width - 5, ' ') + "  scope   ";
    for (const char* column : columns) header += std::string("  ") + column;
    out << header << "\n";
    for (const Row& row : rows) {
      std::string line = row.model + std::string(width - row.model.size(), ' ') + "  " + row.scope +
                         std::string(8 - row.scope.size(), ' ');
      for (int k = 0; k < 4; ++k) {
        char number[32];
        std::snprintf(number, sizeof number, "%.4f", row.scores[k]);
        const std::string text = std::isnan(row.scores[k]) ? "nan" : number;
        line += "  " + std::string(std::string(columns[k]).size() - text.size(), ' ') + text;
      }
      out << line << "\n";
    }
  }
  std::cout << out.str();
  std::cout.flush();
  return 0;
}

}  // namespace

void AddAttributeCommand(CLI::App& app, AttributeCommand* c) {
  c->app = app.add_subcommand("attribute",
                              "Credit conversions and value to channels with attribution models, from path data "
                              "(path;total_conversions;total_conversion_value;total_null)");
  c->app->add_option("paths", c->paths,
                     "CSV file, ';'-separated, channels of a path joined by ' > ', or RUN.h5 of a run with journeys");
  c->app->add_option("--model", c->models,
                     std::string("models, comma-separated (see --list); default: ") + kDefaultModels);
  c->app->add_option("--param", c->params, "model parameter NAME=VALUE (repeatable; see --list)");
  c->app->add_flag("--json", c->json, "print a JSON list of {model, channel, conversions, value} objects");
  c->app
      ->add_option("--wide", c->wide,
                   "print one row per channel and one column per model, of conversions or value, with a total row")
      ->check(CLI::IsMember({"conversions", "value"}));
  c->app->add_flag("--list", c->list, "list the models and their parameters");
  c->app->add_flag("--truth", c->truth,
                   "RUN.h5 of a run with journeys.truth: score each model's channel and campaign shares against the "
                   "true incremental ones (removal and Shapley), 1 - 1/2 sum |model share - true share|");
}

int RunAttributeCommand(const AttributeCommand& c) {
  if (c.list) {
    for (const auto& [name, description] : attribution::ModelDescriptions())
      std::cout << name << ": " << description << "\n";
    std::cout << "parameters (--param NAME=VALUE):";
    for (const auto& [name, value] : attribution::ModelParameterDefaults()) std::cout << " " << name << "=" << value;
    std::cout << "\n";
    return 0;
  }
  if (c.paths.empty()) throw ConfigError("attribute: expected a PATHS.csv argument (or --list)");
  const std::vector<std::string> models =
      SplitModels(c.models.empty() ? std::vector<std::string>{kDefaultModels} : c.models);
  for (const std::string& model : models) attribution::CheckModelName(model);
  std::map<std::string, std::string> params;
  for (const auto& p : c.params) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("attribute: --param: expected NAME=VALUE, found '" + p + "'");
    params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  const attribution::ModelOptions options = attribution::ParseModelOptions(params);
  std::ifstream in(c.paths, std::ios::binary);
  if (!in) throw IoError("attribute: cannot open " + c.paths + " for reading");
  // A result file of a run with journeys (HDF5 signature) or path data.
  char signature[8] = {};
  in.read(signature, sizeof signature);
  const bool result_file = in.gcount() == 8 && std::string(signature, 8) == std::string("\x89HDF\r\n\x1a\n", 8);
  in.clear();
  in.seekg(0);
  if (c.truth) {
    if (!result_file)
      throw ConfigError("attribute: --truth: expected RUN.h5 of a run with journeys.truth: true, found path data '" +
                        c.paths + "'");
    if (!c.wide.empty()) throw ConfigError("attribute: --truth and --wide: expected one of them, found both");
    return PrintAccuracy(c, models, options, ReadResultsHdf5(c.paths));
  }
  const attribution::PathData data = result_file ? attribution::PathsFromJourneys(ReadResultsHdf5(c.paths), c.paths)
                                                 : attribution::ReadPathsCsv(in, c.paths);
  std::vector<attribution::ModelCredit> credits;
  credits.reserve(models.size());
  for (const std::string& model : models) credits.push_back(attribution::Attribute(data, model, options));

  std::ostringstream out;
  if (c.json && !c.wide.empty()) throw ConfigError("attribute: --json and --wide: expected one of them, found both");
  if (c.json) {
    out << "[";
    bool first = true;
    for (const auto& credit : credits)
      for (size_t channel = 0; channel < data.channel_names.size(); ++channel) {
        out << (first ? "\n" : ",\n") << "  {\"model\": " << JsonString(credit.model)
            << ", \"channel\": " << JsonString(data.channel_names[channel])
            << ", \"conversions\": " << JsonNumber(credit.conversions[channel])
            << ", \"value\": " << JsonNumber(credit.value[channel]) << "}";
        first = false;
      }
    out << "\n]\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    if (!c.wide.empty()) {
      // Channels down, models across; the last row is each model's total.
      rows.push_back({"channel"});
      for (const auto& credit : credits) rows[0].push_back(credit.model);
      std::vector<double> totals(credits.size(), 0.0);
      for (size_t channel = 0; channel < data.channel_names.size(); ++channel) {
        rows.push_back({data.channel_names[channel]});
        for (size_t m = 0; m < credits.size(); ++m) {
          const double amount = c.wide == "value" ? credits[m].value[channel] : credits[m].conversions[channel];
          rows.back().push_back(Fixed(amount));
          totals[m] += amount;
        }
      }
      rows.push_back({"total"});
      for (const double total : totals) rows.back().push_back(Fixed(total));
    } else {
      bool sampled = false;
      for (const auto& credit : credits)
        for (size_t channel = 0; channel < data.channel_names.size(); ++channel)
          sampled = sampled || credit.conversions_se[channel] > 0 || credit.value_se[channel] > 0;
      rows.push_back({"model", "channel", "conversions", "value"});
      if (sampled) rows[0].insert(rows[0].end(), {"conversions_se", "value_se"});
      for (const auto& credit : credits)
        for (size_t channel = 0; channel < data.channel_names.size(); ++channel) {
          rows.push_back({credit.model, data.channel_names[channel], Fixed(credit.conversions[channel]),
                          Fixed(credit.value[channel])});
          if (sampled)
            rows.back().insert(rows.back().end(),
                               {Fixed(credit.conversions_se[channel]), Fixed(credit.value_se[channel])});
        }
    }
    const size_t names = c.wide.empty() ? 2 : 1;  // left-aligned leading columns
    std::vector<size_t> width(rows[0].size(), 0);
    for (const auto& row : rows)
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    for (const auto& row : rows) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        const std::string padding(width[i] - row[i].size(), ' ');
        // Names left-aligned, numbers right-aligned.
        line += (i ? "  " : "") + (i < names ? row[i] + padding : padding + row[i]);
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << "\n";
    }
  }
  std::cout << out.str();
  std::cout.flush();
  for (const auto& credit : credits)
    if (!credit.note.empty()) std::cerr << "adsim attribute: " << credit.model << ": " << credit.note << "\n";
  std::cerr << "adsim attribute: " << c.paths << ": " << data.paths.size() << " paths, " << data.channel_names.size()
            << " channels, " << Fixed(data.TotalConversions()) << " conversions, value " << Fixed(data.TotalValue())
            << ", " << Fixed(data.TotalNulls()) << " non-converting\n";
  return 0;
}

}  // namespace adsim::cli

// `adsim detect SERIES.csv --detector NAME [--param k=v ...] [-o out.csv]`
// and `adsim detect --list`: the command-line face of DetectCsv
// (strategies/monitors/lib/series_detect.h), the same code as adsim.detect
// and the in-simulation KPI monitors. The output is written to a temporary
// file and renamed, so a failed run never leaves a partial CSV behind.
#include "core/cli/detect.h"

#include <cstdio>
#include <fstream>
#include <iostream>

#include "core/error.h"
#include "strategies/monitors/lib/series_detect.h"

namespace adsim::cli {

void AddDetectCommand(CLI::App& app, DetectCommand* c) {
  c->app = app.add_subcommand("detect",
                              "Run an anomaly detector over a CSV series (timestamp,value) and write score, alarm, "
                              "baseline, scale and reason per row");
  c->app->add_option("series", c->series, "CSV file with a header row: timestamp,value (or counts, see --successes)");
  c->app->add_option("--detector", c->detector, "detector name (see --list); default: the recommended one");
  c->app->add_option("--param", c->params, "detector parameter NAME=VALUE (repeatable; see --list)");
  c->app->add_option("-o,--out", c->out, "write the result CSV here (default: standard output)");
  c->app->add_option("--timestamp-column", c->timestamp_column, "name of the timestamp column");
  c->app->add_option("--value-column", c->value_column, "name of the value column");
  c->app->add_option("--successes", c->successes_column, "rate series: column of successes (e.g. clicks)");
  c->app->add_option("--trials", c->trials_column, "rate series: column of trials (e.g. impressions)");
  c->app->add_flag("--list", c->list, "list the detectors and their parameters");
}

int RunDetectCommand(const DetectCommand& c) {
  if (c.list) {
    for (const auto& d : monitors::NamedDetectors()) {
      std::cout << d.name << ": " << d.description << "\n  ";
      for (size_t i = 0; i < d.defaults.size(); ++i)
        std::cout << (i ? " " : "") << d.defaults[i].first << "=" << d.defaults[i].second;
      std::cout << "\n";
    }
    return 0;
  }
  if (c.series.empty()) throw ConfigError("detect: expected a SERIES.csv argument (or --list)");
  monitors::DetectOptions options;
  options.detector = c.detector;
  options.timestamp_column = c.timestamp_column;
  options.value_column = c.value_column;
  options.successes_column = c.successes_column;
  options.trials_column = c.trials_column;
  for (const auto& p : c.params) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError({{"--param", p, 0, "NAME=VALUE", p}});
    options.params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  std::ifstream in(c.series);
  if (!in) throw IoError("detect: cannot open " + c.series + " for reading");
  const monitors::DetectReport report = monitors::DetectCsv(in, c.series, options);
  if (c.out.empty()) {
    monitors::WriteDetectCsv(report, std::cout);
  } else {
    const std::string partial = c.out + ".partial";
    {
      std::ofstream out(partial);
      if (!out) throw IoError("detect: cannot write " + partial);
      monitors::WriteDetectCsv(report, out);
      out.flush();
      if (!out) {
        std::remove(partial.c_str());
        throw IoError("detect: writing " + partial + " failed");
      }
    }
    if (std::rename(partial.c_str(), c.out.c_str()) != 0) {
      std::remove(partial.c_str());
      throw IoError("detect: cannot move " + partial + " to " + c.out);
    }
  }
  std::cerr << "adsim detect: " << report.Summary(c.series) << "\n";
  return 0;
}

}  // namespace adsim::cli

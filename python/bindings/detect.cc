// Owns adsim.detect's compiled half: DetectCsv (strategies/monitors/lib/
// series_detect.h, the code `adsim detect` and the KPI monitors run) over CSV
// text, returned as columns for python/adsim/_detect.py to turn into a
// DataFrame; and the list of named detectors.
#include <sstream>
#include <string>

#include "python/bindings/module.h"
#include "strategies/monitors/lib/series_detect.h"

namespace adsim::bindings {

void BindDetect(py::module_& m) {
  m.def(
      "detect_csv",
      [](const std::string& text, const std::string& source, const std::string& detector,
         const std::map<std::string, std::string>& params, const std::string& timestamp_column,
         const std::string& value_column, const std::string& successes_column, const std::string& trials_column) {
        monitors::DetectOptions options;
        options.detector = detector;
        options.params = params;
        options.timestamp_column = timestamp_column;
        options.value_column = value_column;
        options.successes_column = successes_column;
        options.trials_column = trials_column;
        monitors::DetectReport report;
        {
          py::gil_scoped_release release;
          std::istringstream in(text);
          report = monitors::DetectCsv(in, source, options);
        }
        const size_t n = report.rows.size();
        std::vector<double> value(n), score(n), baseline(n), scale(n);
        std::vector<int64_t> line(n);
        std::vector<int8_t> alarm(n), scored(n);
        py::list timestamp, reason;
        for (size_t i = 0; i < n; ++i) {
          const auto& r = report.rows[i];
          line[i] = r.line;
          value[i] = r.value;
          scored[i] = r.scored ? 1 : 0;
          score[i] = r.scored ? r.verdict.score : monitors::kUnknown;
          alarm[i] = r.verdict.alarm ? 1 : 0;
          baseline[i] = r.verdict.baseline;
          scale[i] = r.verdict.scale;
          timestamp.append(Utf8(r.timestamp));
          reason.append(Utf8(r.verdict.reason));
        }
        py::list issues;
        for (const auto& i : report.issues) issues.append(py::make_tuple(i.line, i.kind, Utf8(i.message)));
        py::dict out;
        out["timestamp"] = timestamp;
        out["value"] = OwnedArray(std::move(value));
        out["score"] = OwnedArray(std::move(score));
        out["alarm"] = OwnedArray(std::move(alarm));
        out["baseline"] = OwnedArray(std::move(baseline));
        out["scale"] = OwnedArray(std::move(scale));
        out["reason"] = reason;
        out["line"] = OwnedArray(std::move(line));
        out["scored"] = OwnedArray(std::move(scored));
        out["issues"] = issues;
        out["summary"] = Utf8(report.Summary(source));
        return out;
      },
      py::arg("text"), py::arg("source"), py::arg("detector"), py::arg("params"), py::arg("timestamp_column"),
      py::arg("value_column"), py::arg("successes_column"), py::arg("trials_column"),
      "Runs a named detector over CSV text (see adsim.detect).");
  m.def(
      "detectors",
      [] {
        py::list out;
        for (const auto& d : monitors::NamedDetectors()) {
          py::dict defaults;
          for (const auto& [k, v] : d.defaults) defaults[py::str(k)] = v;
          out.append(py::make_tuple(d.name, d.description, defaults));
        }
        return out;
      },
      "The named detectors: (name, description, {parameter: default}).");
}

}  // namespace adsim::bindings

// Owns adsim.attribute's compiled half: the attribution models of
// core/attribution/models.h (the code `adsim attribute` runs) over path data
// given as CSV text, returned as columns for python/adsim/_attribute.py to
// turn into a DataFrame; the list of models and parameters; and the accuracy
// score against truth (core/attribution/accuracy.h).
#include <sstream>
#include <string>

#include "core/attribution/accuracy.h"
#include "core/attribution/models.h"
#include "core/error.h"
#include "python/bindings/module.h"

namespace adsim::bindings {

void BindAttribute(py::module_& m) {
  m.def(
      "attribute_csv",
      [](const std::string& text, const std::string& source, const std::vector<std::string>& models,
         const std::map<std::string, std::string>& params, const std::vector<std::vector<double>>& holdout_counts,
         const std::vector<std::string>& holdout_channels) {
        for (const std::string& model : models) attribution::CheckModelName(model);
        const attribution::ModelOptions options = attribution::ParseModelOptions(params);
        attribution::PathData data;
        std::vector<attribution::ModelCredit> credits;
        {
          py::gil_scoped_release release;
          std::istringstream in(text);
          data = attribution::ReadPathsCsv(in, source);
          // Holdout counts (a run with journeys.holdout): per channel, the held-out then the exposed
          // group's users, conversions, conversions_sq, value, value_sq.
          for (size_t row = 0; row < holdout_channels.size(); ++row) {
            const std::vector<double>& x = holdout_counts.at(row);
            if (x.size() != 10)
              throw ConfigError("adsim.attribute: holdout: row " + std::to_string(row) +
                                ": expected 10 counts, found " + std::to_string(x.size()));
            attribution::ChannelHoldout channel;
            channel.channel = holdout_channels[row];
            channel.held_out = {x[0], x[1], x[2], x[3], x[4]};
            channel.exposed = {x[5], x[6], x[7], x[8], x[9]};
            data.ChannelIndex(channel.channel);
            data.holdout.push_back(channel);
          }
          credits.reserve(models.size());
          for (const std::string& model : models) credits.push_back(attribution::Attribute(data, model, options));
        }
        std::vector<double> conversions, value, conversions_se, value_se;
        const size_t rows = credits.size() * data.channel_names.size();
        conversions.reserve(rows);
        value.reserve(rows);
        conversions_se.reserve(rows);
        value_se.reserve(rows);
        py::list model_column, channel_column, notes;
        for (const auto& credit : credits) {
          for (size_t c = 0; c < data.channel_names.size(); ++c) {
            model_column.append(credit.model);
            channel_column.append(Utf8(data.channel_names[c]));
            conversions.push_back(credit.conversions[c]);
            value.push_back(credit.value[c]);
            conversions_se.push_back(credit.conversions_se[c]);
            value_se.push_back(credit.value_se[c]);
          }
          if (!credit.note.empty()) notes.append(py::make_tuple(credit.model, credit.note));
        }
        py::dict out;
        out["model"] = model_column;
        out["channel"] = channel_column;
        out["conversions"] = OwnedArray(std::move(conversions));
        out["value"] = OwnedArray(std::move(value));
        out["conversions_se"] = OwnedArray(std::move(conversions_se));
        out["value_se"] = OwnedArray(std::move(value_se));
        out["notes"] = notes;
        out["paths"] = data.paths.size();
        out["total_conversions"] = data.TotalConversions();
        out["total_value"] = data.TotalValue();
        out["total_nulls"] = data.TotalNulls();
        return out;
      },
      py::arg("text"), py::arg("source"), py::arg("models"), py::arg("params"),
      py::arg("holdout_counts") = std::vector<std::vector<double>>{},
      py::arg("holdout_channels") = std::vector<std::string>{},
      "Runs attribution models over path data given as CSV text (see adsim.attribute).");
  m.def(
      "attribution_models",
      [] {
        py::list out;
        for (const auto& [name, description] : attribution::ModelDescriptions())
          out.append(py::make_tuple(name, description));
        py::dict defaults;
        for (const auto& [name, value] : attribution::ModelParameterDefaults()) defaults[py::str(name)] = value;
        return py::make_tuple(out, defaults);
      },
      "The attribution models ([(name, description)]) and their parameters ({name: default}).");
  m.def("attribution_accuracy_score", &attribution::AccuracyScore, py::arg("model_credit"), py::arg("true_credit"),
        "1 - 1/2 sum |model share - true share| over the players (names) of two credits; NaN when a total is 0 "
        "(see adsim.attribution_accuracy_score).");
}

}  // namespace adsim::bindings

// Owns the heuristic attribution models (first_touch, last_touch,
// last_non_direct, linear, linear_unique, time_decay, position_based), the
// model names and their dispatch, and the parsing of model parameters
// (core/attribution/models.h). Each heuristic splits a converting path's
// conversions and value over its touches by weights that sum to 1.
#include "core/attribution/models.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/error.h"

namespace adsim::attribution {

namespace {

constexpr int kMaxMarkovOrder = 8;
constexpr int kMaxShapleyExact = 20;

// The touch weights of `path` under a heuristic model (one weight per touch,
// summing to 1).
std::vector<double> TouchWeights(const std::string& model, const Path& path, const PathData& data,
                                 const ModelOptions& options) {
  const size_t n = path.channels.size();
  std::vector<double> weights(n, 0.0);
  if (model == "first_touch") {
    weights[0] = 1;
  } else if (model == "last_touch") {
    weights[n - 1] = 1;
  } else if (model == "last_non_direct") {
    size_t chosen = n - 1;
    for (size_t i = n; i-- > 0;) {
      if (data.channel_names[path.channels[i]] != options.direct_channel) {
        chosen = i;
        break;
      }
    }
    weights[chosen] = 1;
  } else if (model == "linear") {
    for (double& w : weights) w = 1.0 / static_cast<double>(n);
  } else if (model == "linear_unique") {
    std::vector<size_t> first_touches;
    for (size_t i = 0; i < n; ++i) {
      bool seen = false;
      for (size_t j = 0; j < i && !seen; ++j) seen = path.channels[j] == path.channels[i];
      if (!seen) first_touches.push_back(i);
    }
    for (size_t i : first_touches) weights[i] = 1.0 / static_cast<double>(first_touches.size());
  } else if (model == "time_decay") {
    // w_i ∝ 2^(-age_i / half_life); age in touches from the last one, or in
    // days before the conversion when the path has touch times.
    const bool timed = !path.touch_times.empty();
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      const double age = timed ? static_cast<double>(path.end_time - path.touch_times[i]) / kMicrosPerDay
                               : static_cast<double>(n - 1 - i);
      weights[i] = std::exp2(-age / (timed ? options.half_life_days : options.half_life_touches));
      total += weights[i];
    }
    for (double& w : weights) w /= total;
  } else if (model == "position_based") {
    const double first = options.first_weight, last = options.last_weight;
    if (n == 1) {
      weights[0] = 1;
    } else if (n == 2) {
      weights[0] = first / (first + last);
      weights[1] = last / (first + last);
    } else {
      weights[0] = first;
      weights[n - 1] = last;
      for (size_t i = 1; i + 1 < n; ++i) weights[i] = (1 - first - last) / static_cast<double>(n - 2);
    }
  } else {
    throw InvariantError("attribution: no heuristic model named " + model);
  }
  return weights;
}

ModelCredit Heuristic(const PathData& data, const std::string& model, const ModelOptions& options) {
  const size_t channels = data.channel_names.size();
  ModelCredit credit{model,
                     std::vector<double>(channels, 0.0),
                     std::vector<double>(channels, 0.0),
                     std::vector<double>(channels, 0.0),
                     std::vector<double>(channels, 0.0),
                     ""};
  for (size_t p = 0; p < data.paths.size(); ++p) {
    const Path& path = data.paths[p];
    if (path.conversions == 0 || path.channels.empty()) continue;
    if (!path.touch_times.empty() && path.touch_times.size() != path.channels.size())
      throw DataError("attribution: path " + std::to_string(p) + ": touch_times: expected one time per touch (" +
                      std::to_string(path.channels.size()) + "), found " + std::to_string(path.touch_times.size()));
    const std::vector<double> weights = TouchWeights(model, path, data, options);
    for (size_t i = 0; i < weights.size(); ++i) {
      credit.conversions[path.channels[i]] += weights[i] * path.conversions;
      credit.value[path.channels[i]] += weights[i] * path.value;
    }
  }
  return credit;
}

bool IsHeuristic(const std::string& model) {
  return model == "first_touch" || model == "last_touch" || model == "last_non_direct" || model == "linear" ||
         model == "linear_unique" || model == "time_decay" || model == "position_based";
}

// k of "markov<k>", or 0 if `model` is not of that form.
int MarkovOrder(const std::string& model) {
  if (model.rfind("markov", 0) != 0 || model.size() == 6) return 0;
  int order = 0;
  const char* begin = model.data() + 6;
  const char* end = model.data() + model.size();
  const auto [ptr, ec] = std::from_chars(begin, end, order);
  if (ec != std::errc() || ptr != end || *begin == '0') return 0;
  return order;
}

std::string ModelList() {
  std::string list;
  for (const auto& [name, description] : ModelDescriptions()) list += (list.empty() ? "" : ", ") + name;
  return list;
}

// A bad --model or --param, as ConfigError: "attribute: FIELD: expected ..., found ...".
ConfigError BadOption(const std::string& field, const std::string& expected, const std::string& found) {
  return ConfigError("attribute: " + field + ": expected " + expected + ", found " + found);
}

double ParseNumber(const std::string& name, const std::string& text, const std::string& expected) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value))
    throw BadOption("--param " + name, expected, "'" + text + "'");
  return value;
}

int64_t ParseInteger(const std::string& name, const std::string& text, int64_t low, int64_t high) {
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < low || value > high)
    throw BadOption("--param " + name, "an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "]",
                    "'" + text + "'");
  return value;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ModelParameterDefaults() {
  const ModelOptions defaults;
  return {{"direct_channel", defaults.direct_channel},
          {"half_life_touches", "1"},
          {"half_life_days", "7"},
          {"first_weight", "0.4"},
          {"last_weight", "0.4"},
          {"shapley_exact_max", std::to_string(defaults.shapley_exact_max)},
          {"shapley_samples", std::to_string(defaults.shapley_samples)},
          {"seed", std::to_string(defaults.seed)},
          {"calibration_prior", defaults.calibration_prior}};
}

ModelOptions ParseModelOptions(const std::map<std::string, std::string>& params) {
  ModelOptions options;
  for (const auto& [name, text] : params) {
    if (name == "direct_channel") {
      if (text.empty()) throw BadOption("--param direct_channel", "a channel name", "an empty name");
      options.direct_channel = text;
    } else if (name == "half_life_touches" || name == "half_life_days") {
      const double value = ParseNumber(name, text, "a number > 0");
      if (!(value > 0)) throw BadOption("--param " + name, "a number > 0", "'" + text + "'");
      (name == "half_life_touches" ? options.half_life_touches : options.half_life_days) = value;
    } else if (name == "first_weight" || name == "last_weight") {
      const double value = ParseNumber(name, text, "a number in [0, 1]");
      if (value < 0 || value > 1) throw BadOption("--param " + name, "a number in [0, 1]", "'" + text + "'");
      (name == "first_weight" ? options.first_weight : options.last_weight) = value;
    } else if (name == "shapley_exact_max") {
      options.shapley_exact_max = static_cast<int>(ParseInteger(name, text, 0, kMaxShapleyExact));
    } else if (name == "shapley_samples") {
      options.shapley_samples = static_cast<int>(ParseInteger(name, text, 2, 10'000'000));
    } else if (name == "seed") {
      uint64_t seed = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
      if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
        throw BadOption("--param seed", "an integer in [0, 2^64)", "'" + text + "'");
      options.seed = seed;
    } else if (name == "calibration_prior") {
      // Any path model: the holdout models cannot be their own prior.
      if (text == "holdout" || text == "holdout_calibrated")
        throw BadOption("--param calibration_prior",
                        "a path model (first_touch, ..., markov<k>, shapley), average or best_fit", "'" + text + "'");
      try {
        if (text != "average" && text != "best_fit") CheckModelName(text);
      } catch (const ConfigError&) {
        throw BadOption("--param calibration_prior", "a path model, one of " + ModelList() + ", or average or best_fit",
                        "'" + text + "'");
      }
      options.calibration_prior = text;
    } else {
      std::string valid;
      for (const auto& [known, value] : ModelParameterDefaults()) valid += (valid.empty() ? "" : ", ") + known;
      throw BadOption("--param " + name, "one of " + valid, "unknown parameter '" + name + "'");
    }
  }
  if (options.first_weight + options.last_weight > 1 + 1e-12 || options.first_weight + options.last_weight <= 0)
    throw BadOption("--param first_weight, last_weight", "a sum in (0, 1]",
                    std::to_string(options.first_weight + options.last_weight));
  return options;
}

std::vector<std::pair<std::string, std::string>> ModelDescriptions() {
  return {{"first_touch", "all credit to the first touch"},
          {"last_touch", "all credit to the last touch"},
          {"last_non_direct", "all credit to the last touch not on direct_channel (the last touch if all are)"},
          {"linear", "equal credit to every touch (a channel touched twice gets two shares)"},
          {"linear_unique", "equal credit to every distinct channel of the path"},
          {"time_decay",
           "credit halving every half_life_touches touches before the last (half_life_days days before the "
           "conversion on timed paths)"},
          {"position_based",
           "first_weight to the first touch, last_weight to the last, the rest split over the middle touches"},
          {"markov<k>",
           "removal effects of the order-k Markov chain of journeys (k = 1, 2, ...), solved exactly by a sparse "
           "linear solve"},
          {"shapley",
           "Shapley value of the first-order Markov chain's coalition game (exact up to shapley_exact_max "
           "channels, permutation-sampled beyond, with standard errors)"},
          {"holdout",
           "incremental conversions and value measured by each channel's user holdout (journeys.holdout): "
           "(exposed mean - held-out mean) x exposed users, with standard errors"},
          {"holdout_calibrated",
           "the holdout's credit shrunk toward the calibration_prior path model's shares of the holdouts' total "
           "(average / best_fit: the path models weighted by how well the holdout fits them), by empirical-Bayes "
           "weights from the holdout's standard errors (conserves the holdouts' total)"}};
}

void CheckModelName(const std::string& model) {
  if (IsHeuristic(model) || model == "shapley" || model == "holdout" || model == "holdout_calibrated") return;
  const int order = MarkovOrder(model);
  if (order >= 1 && order <= kMaxMarkovOrder) return;
  throw BadOption("--model",
                  "one of " + ModelList() + " (markov<k> for k = 1.." + std::to_string(kMaxMarkovOrder) + ")",
                  "'" + model + "'");
}

ModelCredit Attribute(const PathData& data, const std::string& model, const ModelOptions& options) {
  CheckModelName(model);
  if (IsHeuristic(model)) return Heuristic(data, model, options);
  if (model == "shapley") return ShapleyMarkov(data, options);
  if (model == "holdout") return HoldoutIncrementality(data);
  if (model == "holdout_calibrated") return HoldoutCalibrated(data, options);
  ModelCredit credit = MarkovRemovalEffects(data, MarkovOrder(model));
  credit.model = model;
  return credit;
}

}  // namespace adsim::attribution

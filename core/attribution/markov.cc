// Owns the Markov chain of journeys (JourneyChain) and the two models built on
// it (core/attribution/models.h): markov<k>, the removal effects of the
// order-k chain, and shapley, the Shapley value of the first-order chain's
// coalition game. Absorption probabilities are solved exactly (Eigen's sparse
// LU), never simulated; the Shapley value is exact up to shapley_exact_max
// channels and a permutation mean (Boost.Random, seeded) beyond.
#include <Eigen/Sparse>
#include <Eigen/SparseLU>
#include <cmath>
#include <map>

#include "core/attribution/models.h"
#include "core/error.h"
#include "core/random.h"

namespace adsim::attribution {

JourneyChain::JourneyChain(const PathData& data, int order) {
  if (order < 1) throw InvariantError("JourneyChain: order must be >= 1");
  // States: the last `order` touches (fewer at the start of a journey), keyed
  // by the channel sequence; the start state is the empty sequence.
  std::map<std::vector<int>, int> state_of;
  state_of[{}] = 0;
  last_channel_.push_back(-1);
  std::map<std::pair<int, int>, double> counts;
  std::vector<double> exits(1, 0.0), conversions(1, 0.0), values(1, 0.0);
  for (const Path& path : data.paths) {
    const double occurrences = path.conversions + path.nulls;
    if (occurrences <= 0 || path.channels.empty()) continue;
    occurrences_ += occurrences;
    std::vector<int> history;
    int state = 0;
    for (int channel : path.channels) {
      history.push_back(channel);
      if (static_cast<int>(history.size()) > order) history.erase(history.begin());
      const auto [it, inserted] = state_of.emplace(history, static_cast<int>(last_channel_.size()));
      if (inserted) {
        last_channel_.push_back(channel);
        exits.push_back(0.0);
        conversions.push_back(0.0);
        values.push_back(0.0);
      }
      counts[{state, it->second}] += occurrences;
      exits[state] += occurrences;
      state = it->second;
    }
    exits[state] += occurrences;
    conversions[state] += path.conversions;
    values[state] += path.value;
  }
  for (const auto& [key, count] : counts) transitions_.push_back({key.first, key.second, count / exits[key.first]});
  conversion_probability_.resize(exits.size());
  value_rate_.resize(exits.size());
  for (size_t s = 0; s < exits.size(); ++s) {
    conversion_probability_[s] = exits[s] > 0 ? conversions[s] / exits[s] : 0.0;
    value_rate_[s] = exits[s] > 0 ? values[s] / exits[s] : 0.0;
  }
}

std::pair<double, double> JourneyChain::Absorption(const std::vector<char>& removed) const {
  // h = Q h + r over transient states: (I - Q) h = r, with h(s) = 0 for a
  // state whose last touch is a removed channel (entering it ends in null).
  // Two right-hand sides: r = P(s -> conversion) gives P(conversion); r =
  // E[value of the conversion leaving s] gives the expected value.
  const int n = StateCount();
  const auto is_removed = [&](int s) {
    return last_channel_[s] >= 0 && last_channel_[s] < static_cast<int>(removed.size()) && removed[last_channel_[s]];
  };
  std::vector<Eigen::Triplet<double>> triplets;
  triplets.reserve(transitions_.size() + n);
  for (int s = 0; s < n; ++s) triplets.emplace_back(s, s, 1.0);
  for (const Transition& t : transitions_)
    if (!is_removed(t.from)) triplets.emplace_back(t.from, t.to, -t.probability);
  Eigen::SparseMatrix<double> system(n, n);
  system.setFromTriplets(triplets.begin(), triplets.end());
  Eigen::MatrixXd right(n, 2);
  for (int s = 0; s < n; ++s) {
    right(s, 0) = is_removed(s) ? 0.0 : conversion_probability_[s];
    right(s, 1) = is_removed(s) ? 0.0 : value_rate_[s];
  }
  Eigen::SparseLU<Eigen::SparseMatrix<double>> solver;
  solver.analyzePattern(system);
  solver.factorize(system);
  if (solver.info() != Eigen::Success)
    throw InvariantError("attribution: the journey chain's linear system is singular (" + solver.lastErrorMessage() +
                         ")");
  const Eigen::MatrixXd solution = solver.solve(right);
  return {solution(0, 0), solution(0, 1)};
}

namespace {

ModelCredit EmptyCredit(const std::string& model, size_t channels) {
  return {model,
          std::vector<double>(channels, 0.0),
          std::vector<double>(channels, 0.0),
          std::vector<double>(channels, 0.0),
          std::vector<double>(channels, 0.0),
          ""};
}

}  // namespace

ModelCredit MarkovRemovalEffects(const PathData& data, int order) {
  const size_t channels = data.channel_names.size();
  ModelCredit credit = EmptyCredit("markov" + std::to_string(order), channels);
  const JourneyChain chain(data, order);
  const auto [conversion, value] = chain.Absorption(std::vector<char>(channels, 0));
  // Removal effect of c: the share of P(conversion) (and of E[value]) lost
  // when c is removed; credit is the total split in proportion to them.
  std::vector<double> conversion_effect(channels, 0.0), value_effect(channels, 0.0);
  double conversion_sum = 0, value_sum = 0;
  for (size_t c = 0; c < channels; ++c) {
    std::vector<char> removed(channels, 0);
    removed[c] = 1;
    const auto [removed_conversion, removed_value] = chain.Absorption(removed);
    conversion_effect[c] = conversion > 0 ? std::max(0.0, 1 - removed_conversion / conversion) : 0.0;
    value_effect[c] = value > 0 ? std::max(0.0, 1 - removed_value / value) : 0.0;
    conversion_sum += conversion_effect[c];
    value_sum += value_effect[c];
  }
  const double total_conversions = data.TotalConversions(), total_value = data.TotalValue();
  for (size_t c = 0; c < channels; ++c) {
    credit.conversions[c] = conversion_sum > 0 ? total_conversions * conversion_effect[c] / conversion_sum : 0.0;
    credit.value[c] = value_sum > 0 ? total_value * value_effect[c] / value_sum : 0.0;
  }
  return credit;
}

ModelCredit ShapleyMarkov(const PathData& data, const ModelOptions& options) {
  const int channels = static_cast<int>(data.channel_names.size());
  ModelCredit credit = EmptyCredit("shapley", channels);
  if (channels == 0) return credit;
  const JourneyChain chain(data, 1);
  const double journeys = chain.Occurrences();
  // v(S) = journeys x P(conversion | only the channels of S), likewise for
  // value: v(all) = the observed totals (the fitted chain reproduces them),
  // v(none) = 0, so the Shapley values sum to the totals.
  const auto worth = [&](const std::vector<char>& removed) {
    const auto [conversion, value] = chain.Absorption(removed);
    return std::pair<double, double>{journeys * conversion, journeys * value};
  };
  if (channels <= options.shapley_exact_max) {
    credit.note = "exact over " + std::to_string(channels) + " channels";
    const uint32_t coalitions = 1u << channels;
    std::vector<double> conversion_worth(coalitions), value_worth(coalitions);
    std::vector<char> removed(channels);
    for (uint32_t mask = 0; mask < coalitions; ++mask) {
      for (int c = 0; c < channels; ++c) removed[c] = (mask >> c) & 1u ? 0 : 1;
      std::tie(conversion_worth[mask], value_worth[mask]) =
          mask == 0 ? std::pair<double, double>{0, 0} : worth(removed);
    }
    // weight(s) = s! (n - 1 - s)! / n! = 1 / (n C(n-1, s)).
    std::vector<double> weight(channels);
    for (int s = 0; s < channels; ++s) {
      double binomial = 1;
      for (int i = 1; i <= s; ++i) binomial = binomial * (channels - i) / i;
      weight[s] = 1.0 / (channels * binomial);
    }
    for (uint32_t mask = 0; mask < coalitions; ++mask) {
      const int size = __builtin_popcount(mask);
      for (int c = 0; c < channels; ++c) {
        if ((mask >> c) & 1u) continue;
        const uint32_t with = mask | (1u << c);
        credit.conversions[c] += weight[size] * (conversion_worth[with] - conversion_worth[mask]);
        credit.value[c] += weight[size] * (value_worth[with] - value_worth[mask]);
      }
    }
    return credit;
  }
  // Permutation sampling: each permutation's marginal contributions sum to
  // v(all), so the estimate conserves the totals exactly; the standard error
  // of each channel's mean is its sample standard deviation / sqrt(samples).
  const int samples = options.shapley_samples;
  credit.note = "sampled: " + std::to_string(samples) + " permutations of " + std::to_string(channels) +
                " channels, seed " + std::to_string(options.seed);
  Stream stream(options.seed, "attribution/shapley");
  std::vector<int> order(channels);
  std::vector<double> conversion_sum(channels, 0.0), conversion_squares(channels, 0.0);
  std::vector<double> value_sum(channels, 0.0), value_squares(channels, 0.0);
  for (int sample = 0; sample < samples; ++sample) {
    for (int c = 0; c < channels; ++c) order[c] = c;
    for (int i = channels - 1; i > 0; --i) std::swap(order[i], order[stream.Below(static_cast<uint32_t>(i + 1))]);
    std::vector<char> removed(channels, 1);
    std::pair<double, double> before{0, 0};
    for (int c : order) {
      removed[c] = 0;
      const std::pair<double, double> after = worth(removed);
      const double conversion_margin = after.first - before.first, value_margin = after.second - before.second;
      conversion_sum[c] += conversion_margin;
      conversion_squares[c] += conversion_margin * conversion_margin;
      value_sum[c] += value_margin;
      value_squares[c] += value_margin * value_margin;
      before = after;
    }
  }
  const auto standard_error = [samples](double sum, double squares) {
    const double mean = sum / samples;
    const double variance = std::max(0.0, (squares - samples * mean * mean) / (samples - 1));
    return std::sqrt(variance / samples);
  };
  for (int c = 0; c < channels; ++c) {
    credit.conversions[c] = conversion_sum[c] / samples;
    credit.value[c] = value_sum[c] / samples;
    credit.conversions_se[c] = standard_error(conversion_sum[c], conversion_squares[c]);
    credit.value_se[c] = standard_error(value_sum[c], value_squares[c]);
  }
  return credit;
}

}  // namespace adsim::attribution

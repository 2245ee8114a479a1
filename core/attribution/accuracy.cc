// The accuracy score and the true credit of journey_truth (accuracy.h).
#include "core/attribution/accuracy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "core/error.h"

namespace adsim::attribution {

double AccuracyScore(const std::map<std::string, double>& model_credit,
                     const std::map<std::string, double>& true_credit) {
  auto total = [](const std::map<std::string, double>& credit, const char* which) {
    double sum = 0;
    for (const auto& [player, amount] : credit) {
      if (!std::isfinite(amount) || amount < 0)
        throw DataError(std::string("accuracy: ") + which + " credit of '" + player +
                        "': expected a finite number >= 0, found " + std::to_string(amount));
      sum += amount;
    }
    return sum;
  };
  const double model_total = total(model_credit, "model"), true_total = total(true_credit, "true");
  if (!(model_total > 0) || !(true_total > 0)) return std::numeric_limits<double>::quiet_NaN();
  std::set<std::string> players;
  for (const auto& [player, amount] : model_credit) players.insert(player);
  for (const auto& [player, amount] : true_credit) players.insert(player);
  double distance = 0;  // sum of |share differences|, at most 2
  for (const std::string& player : players) {
    const auto model = model_credit.find(player), truth = true_credit.find(player);
    const double model_share = model == model_credit.end() ? 0.0 : model->second / model_total;
    const double true_share = truth == true_credit.end() ? 0.0 : truth->second / true_total;
    distance += std::abs(model_share - true_share);
  }
  return std::max(0.0, 1.0 - 0.5 * distance);
}

TrueCredit TrueCreditFromJourneys(const Results& results, const std::string& scope, bool value,
                                  const std::string& source) {
  const Table* table = results.Find("journey_truth");
  if (!table)
    throw DataError("'" + source +
                    "': expected a result of a scenario with journeys.truth: true (table journey_truth; "
                    "docs/journeys.md), found none");
  auto column = [&](const std::string& name) -> const Column& {
    const Column* found = table->Find(name);
    if (!found) throw DataError("'" + source + "': table journey_truth: expected a column '" + name + "'");
    return *found;
  };
  const auto& scopes = std::get<std::vector<std::string>>(column("scope").data);
  const auto& names = std::get<std::vector<std::string>>(column("name").data);
  const std::string suffix = value ? "_value" : "_conversions";
  const auto& removal = std::get<std::vector<double>>(column("removal" + suffix).data);
  const auto& shapley = std::get<std::vector<double>>(column("shapley" + suffix).data);
  const auto& cause = std::get<std::vector<double>>(column("cause" + suffix).data);
  const auto& reported = std::get<std::vector<double>>(column("reported" + suffix).data);
  TrueCredit credit;
  for (size_t row = 0; row < scopes.size(); ++row) {
    if (scopes[row] != scope) continue;
    credit.removal[names[row]] = removal[row];
    credit.shapley[names[row]] = shapley[row];
    credit.cause[names[row]] = cause[row];
    credit.reported[names[row]] = reported[row];
  }
  return credit;
}

}  // namespace adsim::attribution

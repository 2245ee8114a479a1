// The market registry (core/market.h): names to factories. Owns nothing of
// any market; may not include simulators/ or strategies/.
#include "core/market.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "core/error.h"

namespace adsim {
namespace {

struct MarketTable {
  std::mutex mutex;
  std::map<std::string, MarketInfo> markets;
};

MarketTable& Table() {
  static MarketTable* table = new MarketTable();  // never destroyed: registrations outlive static teardown
  return *table;
}

std::string JoinQuoted(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "'" : ", '") + name + "'";
  return out;
}

}  // namespace

void RegisterMarket(MarketInfo info) {
  if (info.name.empty() || !info.make) throw ConfigError("a market needs a name and a factory");
  MarketTable& table = Table();
  std::lock_guard<std::mutex> lock(table.mutex);
  if (table.markets.count(info.name)) throw ConfigError("a market named '" + info.name + "' is already registered");
  std::string name = info.name;
  table.markets.emplace(std::move(name), std::move(info));
}

std::vector<MarketInfo> RegisteredMarkets() {
  MarketTable& table = Table();
  std::lock_guard<std::mutex> lock(table.mutex);
  std::vector<MarketInfo> out;
  for (const auto& [name, info] : table.markets) out.push_back(info);
  return out;
}

std::vector<std::string> MarketNames() {
  std::vector<std::string> names;
  for (const auto& info : RegisteredMarkets()) names.push_back(info.name);
  return names;
}

std::unique_ptr<Market> MakeMarket(const Scenario& scenario, uint64_t seed) {
  MarketFactory make;
  {
    MarketTable& table = Table();
    std::lock_guard<std::mutex> lock(table.mutex);
    auto it = table.markets.find(scenario.market);
    if (it != table.markets.end()) make = it->second.make;
  }
  if (!make)
    throw ConfigError(std::vector<ConfigIssue>{{scenario.source_name, "market", 0,
                                                "one of the registered markets: " + JoinQuoted(MarketNames()),
                                                "'" + scenario.market + "'"}});
  return make(scenario, seed);
}

}  // namespace adsim

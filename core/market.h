// The market interface: where impression opportunities come from, and the
// registry of markets by name. The engine only sees this interface and gets
// its market from the registry (the scenario's `market` field), so a new
// market (log replay, calibrated, journeys) is one file in simulators/ plus
// one line in its CMakeLists.txt, like a strategy. Owns the Opportunity and
// MarketConditions types; may not include simulators/ or strategies/.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/scenario.h"
#include "core/types.h"

namespace adsim {

struct Results;  // core/results.h

// What a log says happened after one logged request (log replay,
// simulators/replay.cc): whether the logging advertiser won it and, then, its
// click and conversion with their logged times. For a request the logger lost,
// a market that models the unlogged fills `click`/`conversion_time` in from
// its model and sets `modelled`. Read only by the replay user response
// (core/engine/user_response.h), once per slot we win.
struct LoggedOutcome {
  bool logger_won = false;
  bool modelled = false;  // lost by the logger: the outcome comes from the market's model
  bool click = false;
  SimTime conversion_time = -1;  // absolute time of the conversion, -1 = none
  double conversion_value = 0.0;
  // The logged platform quality (click-rate estimate) that ranks a click bid
  // on a click-billed channel (score = bid per click x quality); 0 = not logged.
  double quality = 0.0;
  // With `modelled`: the fill-in model's rates for this request's channel
  // and segment, one entry per creative of ours (campaigns in scenario order,
  // each campaign's creatives in order); the user response draws the outcome
  // of the creative that won.
  const struct ModelledRates* model = nullptr;
};

// The fill-in model of a log replay (unlogged: model) for one channel,
// segment and creative of ours: rates drawn once per run from their Beta
// posteriors, the mean logged conversion delay and value.
struct ModelledRates {
  double ctr = 0.0;
  double cvr = 0.0;
  double mean_delay_us = 0.0;
  double mean_value = 0.0;
};

// One impression opportunity with the market's private truth attached. Never
// handed to a strategy: the engine builds a BidRequest from it.
struct Opportunity {
  SimTime time = 0;
  int32_t channel = 0;
  int32_t segment = 0;
  int64_t user = 0;
  uint64_t response_key = 0;  // seeds the user's response draws (see ResponseRng)
  // The highest competing bids (per-impression value), descending, read with
  // CompetingBid(slot). A market either stores the bids in `competing`, or
  // (competing_as_logs) their logarithms before one common multiplier,
  // competing_scale, and leaves the exponentials to the reader: the bid is
  // then competing_scale * exp(competing[slot]), computed only when one of
  // our campaigns bids or the event log records it.
  double competing[kMaxSlots];
  double competing_scale = 1.0;
  bool competing_as_logs = false;
  // The user's true click propensity multiplier, read with Propensity(): a
  // pointer into the market's per-user table (null means 1), so that the
  // cache miss of the lookup is paid only when someone reads it (the click
  // draw of a win, the oracle's bid, the event log), not per opportunity.
  const float* propensity = nullptr;
  // Log replay only (null otherwise): the logged outcome of this request, valid
  // until the market's next Generate call. Never read for synthetic markets.
  const LoggedOutcome* logged = nullptr;

  double Propensity() const { return propensity ? static_cast<double>(*propensity) : 1.0; }
  double CompetingBid(int slot) const {
    return competing_as_logs ? competing_scale * std::exp(competing[slot]) : competing[slot];
  }
};

// Multipliers the engine applies from active shocks, per channel x segment.
struct MarketConditions {
  int num_segments = 0;
  std::vector<double> traffic;         // [channel * num_segments + segment]
  std::vector<double> competing_bids;  // same layout
};

class Market {
 public:
  virtual ~Market() = default;
  // Fills `out` with up to `max` opportunities with time < `until`, in
  // non-decreasing time order, continuing where the last call stopped. Returns
  // how many were written; fewer than `max` means none is left before `until`.
  // Must not depend on anything the strategies do (common random numbers).
  virtual size_t Generate(SimTime until, Opportunity* out, size_t max) = 0;
  // Market conditions changed at time `now` (a shock started or ended).
  // Opportunities already generated are unaffected.
  virtual void OnConditionsChanged(SimTime now, const MarketConditions& conditions) = 0;
  // True when the opportunities carry logged outcomes (Opportunity::logged):
  // the engine then uses the replay user response instead of the synthetic
  // one. Called once per run, before the first opportunity.
  virtual bool HasLoggedOutcomes() const { return false; }
  // Called once after the run: adds the market's own tables to the result (a
  // log replay's rows read and dropped, per kind). Must not touch other tables.
  virtual void AddTables(Results& /*results*/) const {}
};

// ---- The market registry. Each market registers itself in its own file:
//   ADSIM_REGISTER_MARKET("synthetic", "Poisson arrivals, lognormal competitors", SyntheticMarket);
// with a constructor Type(const Scenario&, uint64_t seed). The folders holding
// markets are CMake OBJECT libraries, so registrations are never dropped.
using MarketFactory = std::function<std::unique_ptr<Market>(const Scenario& scenario, uint64_t seed)>;

struct MarketInfo {
  std::string name;
  std::string description;
  MarketFactory make;
};

// Throws ConfigError if the name is taken or empty. Thread-safe.
void RegisterMarket(MarketInfo info);
// Every registered market, sorted by name.
std::vector<MarketInfo> RegisteredMarkets();
std::vector<std::string> MarketNames();
// The market the scenario names (Scenario::market), for this run's seed. An
// unknown name is a ConfigError naming the scenario's file, the field
// `market` and the valid names.
std::unique_ptr<Market> MakeMarket(const Scenario& scenario, uint64_t seed);

struct MarketRegistration {
  explicit MarketRegistration(MarketInfo info) { RegisterMarket(std::move(info)); }
};

}  // namespace adsim

#define ADSIM_MARKET_CONCAT_INNER(a, b) a##b
#define ADSIM_MARKET_CONCAT(a, b) ADSIM_MARKET_CONCAT_INNER(a, b)
// One line registers a market type under a name (at static initialisation).
#define ADSIM_REGISTER_MARKET(name, description, Type)                                                       \
  static const ::adsim::MarketRegistration ADSIM_MARKET_CONCAT(adsim_market_registration_, __LINE__)(        \
      ::adsim::MarketInfo{name, description, [](const ::adsim::Scenario& scenario, uint64_t seed) {          \
                            return std::unique_ptr<::adsim::Market>(std::make_unique<Type>(scenario, seed)); \
                          }})

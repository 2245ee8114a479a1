// The cost of journeys (docs/journeys.md, "Cost"): runs one scenario on one
// core and prints its throughput (of the whole run, and of the loop between
// the first and the last control cycle), the process's peak memory and how many
// heap allocations the run loop made, counted by a replaced global operator
// new between the first and the last control cycle (so setting up the rings
// and tables before the run, and writing the paths after it, are left out).
// Journeys must not allocate on the hot path (per opportunity, per touch):
// the loop's allocations come from per-cycle work, table rows and the event
// heap's doubling, so they stay far below one per won slot (about 0.02 per
// won slot on the reference week, with or without journeys, almost all of
// them per control cycle), while one allocation per touch would be at least 1.
//   build/bench/adsim_journeys_cost SCENARIO [--max-allocations-per-win X]
// Exits 1 when the loop made more than X allocations per won slot (default
// 0.1). bench/journeys_benchmark.sh runs it with and without journeys.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <variant>

#include "core/engine.h"
#include "core/error.h"
#include "core/scenario.h"

namespace {

std::atomic<int64_t> allocations{0};

// The sum of an integer column of a result table (0 if absent).
int64_t ColumnSum(const adsim::Results& results, const std::string& table, const std::string& column) {
  const adsim::Table* found = results.Find(table);
  if (!found) return 0;
  const adsim::Column* values = found->Find(column);
  if (!values) return 0;
  int64_t sum = 0;
  for (int64_t v : std::get<std::vector<int64_t>>(values->data)) sum += v;
  return sum;
}

int64_t AttributeOr(const adsim::Results& results, const std::string& name) {
  const auto it = results.int_attrs.find(name);
  return it == results.int_attrs.end() ? 0 : it->second;
}

}  // namespace

// Every heap allocation of the process goes through these (the sized and
// aligned forms of the library call the plain ones or are not used here).
void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: adsim_journeys_cost SCENARIO [--max-allocations-per-win X]\n");
    return 2;
  }
  const std::string path = argv[1];
  double max_per_win = 0.1;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--max-allocations-per-win") == 0 && i + 1 < argc) {
      char* end = nullptr;
      max_per_win = std::strtod(argv[++i], &end);
      if (*end != '\0' || !(max_per_win >= 0)) {
        std::fprintf(stderr, "adsim_journeys_cost: --max-allocations-per-win expects a number >= 0, found '%s'\n",
                     argv[i]);
        return 2;
      }
    } else {
      std::fprintf(stderr, "adsim_journeys_cost: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  try {
    const adsim::Scenario scenario = adsim::LoadScenarioFile(path);
    adsim::RunOptions options;
    int64_t at_first_cycle = -1, at_last_cycle = -1;
    double first_fraction = 0, last_fraction = 0;
    using Clock = std::chrono::steady_clock;
    Clock::time_point first_cycle_time, last_cycle_time;
    options.progress = [&](double fraction) {  // once per control cycle
      const int64_t now = allocations.load(std::memory_order_relaxed);
      const Clock::time_point wall = Clock::now();
      if (at_first_cycle < 0) {
        at_first_cycle = now;
        first_fraction = fraction;
        first_cycle_time = wall;
      }
      at_last_cycle = now;
      last_fraction = fraction;
      last_cycle_time = wall;
    };
    const auto start = Clock::now();
    const adsim::Results results = adsim::RunScenario(scenario, options);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    // Setup (the rings: users x N touchpoints, written once) and the end of
    // the run (journey_paths) are fixed costs: the loop's own throughput is
    // measured between the first and the last control cycle.
    const double loop_seconds = std::chrono::duration<double>(last_cycle_time - first_cycle_time).count();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    // The whole process's CPU time (user + system, setup included), which a
    // busy machine disturbs less than the wall time of the run.
    const double cpu_seconds =
        usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec * 1e-6;
    const int64_t opportunities = AttributeOr(results, "opportunities");
    const int64_t wins = ColumnSum(results, "aggregates", "impressions");
    const int64_t journey_conversions =
        AttributeOr(results, "journey_organic_conversions") + AttributeOr(results, "journey_incremental_conversions");
    // The loop's window covers this share of the run's opportunities, roughly
    // (by simulated time): scale the wins to it.
    const double window = last_fraction - first_fraction;
    const int64_t loop_allocations = at_last_cycle - at_first_cycle;
    const double per_win = wins > 0 && window > 0 ? loop_allocations / (window * static_cast<double>(wins)) : 0.0;
    const double per_opportunity =
        opportunities > 0 && window > 0 ? loop_allocations / (window * static_cast<double>(opportunities)) : 0.0;
    std::printf(
        "scenario=%s journeys=%s opportunities=%lld wins=%lld journey_conversions=%lld secs=%.3f cpu_secs=%.3f "
        "opportunities_per_s=%.4g loop_opportunities_per_s=%.4g peak_rss_mb=%.1f loop_allocations=%lld "
        "allocations_per_opportunity=%.2e "
        "allocations_per_win=%.2e\n",
        path.c_str(), scenario.journeys ? "on" : "off", static_cast<long long>(opportunities),
        static_cast<long long>(wins), static_cast<long long>(journey_conversions), seconds, cpu_seconds,
        opportunities / seconds, loop_seconds > 0 ? window * opportunities / loop_seconds : 0.0,
        usage.ru_maxrss / 1024.0, static_cast<long long>(loop_allocations), per_opportunity, per_win);
    if (per_win > max_per_win) {
      std::fprintf(stderr,
                   "adsim_journeys_cost: the run loop made %.2e allocations per won slot, more than %.2e: something "
                   "allocates on the hot path\n",
                   per_win, max_per_win);
      return 1;
    }
  } catch (const adsim::Error& e) {
    std::fprintf(stderr, "adsim_journeys_cost: %s\n", e.what());
    return 2;
  }
  return 0;
}

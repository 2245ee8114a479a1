// Google Benchmark suite for the per-opportunity hot path. Run:
//   build/bench/adsim_bench_hot_path
// Figures are reported in README.md with the machine and the command.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "core/engine.h"
#include "core/engine/auction.h"
#include "core/ledger.h"
#include "core/random.h"
#include "core/scenario.h"
#include "simulators/synthetic.h"

namespace adsim {
namespace {

const char* kScenario =
    "name: bench\nseed: 1\nduration: 7d\ncontrol_cycle: 15m\n"
    "channels:\n  - name: display\n    traffic: {per_hour: 400000}\n"
    "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
    "  - name: social\n    traffic: {per_hour: 200000}\n"
    "    competition: {competitors: 5, median: 0.003, sigma: 0.5}\n"
    "segments:\n"
    "  - {name: s1, ctr: 0.004, cvr: 0.03, conversion_delay: {distribution: exponential, mean: 6h}}\n"
    "  - {name: s2, ctr: 0.003, cvr: 0.04, conversion_delay: {distribution: exponential, mean: 6h}}\n"
    "campaigns:\n  - {name: c1, bid: 0.003, budget: {daily: 900}, controllers: [pid_pacing]}\n"
    "  - {name: c2, bid: 0.0025, creatives: [a, b], budget: {daily: 400}}\n"
    "  - {name: c3, bid: 0.004, creatives: [a, b, c], budget: {daily: 500}}\n";

void BM_StreamUniform(benchmark::State& state) {
  Stream s(1, "bench");
  double acc = 0;
  for (auto _ : state) acc += s.Uniform();
  benchmark::DoNotOptimize(acc);
}
BENCHMARK(BM_StreamUniform);

void BM_StreamExponential(benchmark::State& state) {
  Stream s(1, "bench");
  double acc = 0;
  for (auto _ : state) acc += s.Exponential();
  benchmark::DoNotOptimize(acc);
}
BENCHMARK(BM_StreamExponential);

void BM_MaxNormalQuantileTable(benchmark::State& state) {
  const MaxNormalQuantile q(5);
  Stream s(1, "bench");
  double acc = 0;
  for (auto _ : state) acc += q(s.Uniform());
  benchmark::DoNotOptimize(acc);
}
BENCHMARK(BM_MaxNormalQuantileTable);

void BM_MaxNormalQuantileExact(benchmark::State& state) {
  const MaxNormalQuantile q(5);
  Stream s(1, "bench");
  double acc = 0;
  for (auto _ : state) acc += q.Exact(s.Uniform());
  benchmark::DoNotOptimize(acc);
}
BENCHMARK(BM_MaxNormalQuantileExact);

void BM_SecondPriceAuction(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Stream s(1, "bench");
  std::vector<Candidate> ours(n), work(n + 1);
  SlotWin wins[kMaxSlots];
  int64_t won = 0;
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) ours[i] = {s.Uniform(), i};
    const double competing = s.Uniform();
    won += RunAuction(AuctionType::kSecondPrice, 1, 0.01, &competing, 1, ours.data(), n, work.data(), wins);
  }
  benchmark::DoNotOptimize(won);
}
BENCHMARK(BM_SecondPriceAuction)->Arg(1)->Arg(3)->Arg(10);

void BM_LedgerChargeCheck(benchmark::State& state) {
  Ledger l;
  l.SetDailyBudget(Micros{1} << 50);
  for (auto _ : state) {
    const Micros r = l.Remaining();
    if (r > 10) l.Charge(1);
    benchmark::DoNotOptimize(l);
  }
}
BENCHMARK(BM_LedgerChargeCheck);

// The market alone: arrivals, segment, user, competitor top bid, response draws.
void BM_MarketGenerate(benchmark::State& state) {
  const Scenario sc = ParseScenario(kScenario, "bench");
  auto m = std::make_unique<SyntheticMarket>(sc, 1);
  std::vector<Opportunity> batch(64);
  SimTime until = 0;
  int64_t n = 0;
  for (auto _ : state) {
    size_t k = m->Generate(until, batch.data(), batch.size());
    if (k < batch.size()) until += kMicrosPerHour;
    n += static_cast<int64_t>(k);
    if (until > sc.duration) {
      state.PauseTiming();
      m = std::make_unique<SyntheticMarket>(sc, 1);
      until = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(n);
}
BENCHMARK(BM_MarketGenerate);

// The whole engine on one simulated day: items = opportunities.
void BM_EngineDay(benchmark::State& state) {
  std::string text = kScenario;
  text.replace(text.find("duration: 7d"), 12, "duration: 1d");
  const Scenario sc = ParseScenario(text, "bench");
  int64_t n = 0;
  for (auto _ : state) {
    const Results r = RunScenario(sc);
    n += r.int_attrs.at("opportunities");
  }
  state.SetItemsProcessed(n);
}
BENCHMARK(BM_EngineDay)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace adsim

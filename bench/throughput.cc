// End-to-end throughput: runs a scenario (default: bench/scenarios/reference.yaml)
// REPEAT times on one core and prints opportunities per second.
//   build/bench/adsim_throughput [SCENARIO] [REPEAT]
// bench/run_throughput.sh runs it next to the bare loop and prints the ratio.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/engine.h"
#include "core/error.h"
#include "core/scenario.h"

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : std::string(ADSIM_SOURCE_DIR) + "/bench/scenarios/reference.yaml";
  const int repeat = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  try {
    const adsim::Scenario sc = adsim::LoadScenarioFile(path);
    double best = 0;
    for (int i = 0; i < repeat; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const adsim::Results r = adsim::RunScenario(sc);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double opp = static_cast<double>(r.int_attrs.at("opportunities"));
      best = std::max(best, opp / s);
      std::printf("run %d: opportunities=%.0f secs=%.3f ns_per_opportunity=%.2f opportunities_per_s=%.4g\n", i + 1, opp,
                  s, 1e9 * s / opp, opp / s);
    }
    std::printf("best opportunities_per_s=%.4g ns_per_opportunity=%.2f scenario=%s\n", best, 1e9 / best, path.c_str());
  } catch (const adsim::Error& e) {
    std::fprintf(stderr, "adsim_throughput: %s\n", e.what());
    return 2;
  }
  return 0;
}

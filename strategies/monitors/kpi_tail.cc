// kpi_tail: a windowed Gaussian tail detector on a KPI: the mean and sd of the
// trailing window (excluding the current cycle) give the tail probability of
// the current value; it alerts below alpha.
#include "strategies/monitors/lib/kpi_series.h"

namespace adsim::monitors {
namespace {

class KpiTail final : public monitors::KpiMonitor {
 public:
  explicit KpiTail(const BuildContext& ctx) : KpiMonitor(ctx) {
    params_.window = static_cast<int>(ctx.params.Number("window_cycles"));
    params_.alpha = ctx.params.Number("alpha");
    params_.side = monitors::SideParam(ctx.params);
    MakeDetector();  // its own checks now, not at the first observation days into the run
  }

 private:
  struct D final : Detector {
    explicit D(const monitors::WindowTailParams& p) : tail(p) {}
    monitors::DetectorResult Update(const monitors::KpiObservation& o, int) override { return tail.Update(o.value); }
    monitors::WindowTail tail;
  };
  std::unique_ptr<Detector> MakeDetector() const override { return std::make_unique<D>(params_); }
  std::string Describe() const override { return "tail probability below " + FormatNumber(params_.alpha); }
  monitors::WindowTailParams params_;
};

ADSIM_REGISTER_MONITOR(
    KpiTail, "kpi_tail", "Windowed Gaussian tail detector on a KPI per campaign x channel (x segment).",
    monitors::KpiParams({NumberParam("window_cycles", 24, "trailing window of charted cycles", 3, 100000),
                         NumberParam("alpha", 1e-3, "tail probability that alerts", 1e-12, 0.5)}));

}  // namespace
}  // namespace adsim::monitors

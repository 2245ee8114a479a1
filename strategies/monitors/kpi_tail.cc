// kpi_tail: a windowed Gaussian tail detector on a KPI: the mean and sd of the
// trailing window (excluding the current cycle) give the tail probability of
// the current value; it alerts below alpha.
#include "strategies/monitors/lib/kpi_series.h"

namespace adsim::monitors {
namespace {

class KpiTail final : public monitors::KpiMonitor {
 public:
  explicit KpiTail(const BuildContext& ctx) : KpiMonitor(ctx) {
    alpha_ = ctx.params.Number("alpha");
    UseDetector(ctx, "tail",
                {{"window", ParamText(ctx.params.Number("window_cycles"))}, {"threshold", ParamText(1.0 - alpha_)}});
  }

 private:
  std::string Describe() const override { return "tail probability below " + FormatNumber(alpha_); }
  double alpha_;
};

ADSIM_REGISTER_MONITOR(
    KpiTail, "kpi_tail", "Windowed Gaussian tail detector on a KPI per campaign x channel (x segment).",
    monitors::KpiParams({NumberParam("window_cycles", 24, "trailing window of charted cycles", 3, 100000),
                         NumberParam("alpha", 1e-3, "tail probability that alerts", 1e-12, 0.5)}));

}  // namespace
}  // namespace adsim::monitors

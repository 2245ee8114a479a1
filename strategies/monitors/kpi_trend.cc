// kpi_trend: the `trend` detector of series_detect.h on a KPI: the OLS slope
// over a trailing window of cycles with its t-statistic (score 1 - p); it
// alerts when the slope is significant at alpha in the chosen direction (slow
// drifts that jump detectors miss) and restarts its window.
#include "strategies/monitors/lib/kpi_series.h"

namespace adsim::monitors {
namespace {

class KpiTrend final : public monitors::KpiMonitor {
 public:
  explicit KpiTrend(const BuildContext& ctx) : KpiMonitor(ctx) {
    alpha_ = ctx.params.Number("alpha");
    UseDetector(ctx, "trend",
                {{"window", ParamText(ctx.params.Number("window_cycles"))}, {"threshold", ParamText(1.0 - alpha_)}});
  }

 private:
  std::string Describe() const override { return "slope significant at " + FormatNumber(alpha_); }
  double alpha_;
};

ADSIM_REGISTER_MONITOR(
    KpiTrend, "kpi_trend", "Trend test (OLS slope t-test over a window) on a KPI per campaign x channel (x segment).",
    monitors::KpiParams({NumberParam("window_cycles", 48, "trailing window of charted cycles", 4, 100000),
                         NumberParam("alpha", 1e-3, "significance level of the slope test", 1e-12, 0.5)}));

}  // namespace
}  // namespace adsim::monitors

// kpi_trend: a trend test on a KPI: the OLS slope over a trailing window of
// cycles with its t-statistic; it alerts when the slope is significant at
// alpha in the chosen direction (slow drifts that jump detectors miss).
#include "strategies/monitors/lib/kpi_series.h"

namespace adsim::monitors {
namespace {

class KpiTrend final : public monitors::KpiMonitor {
 public:
  explicit KpiTrend(const BuildContext& ctx) : KpiMonitor(ctx) {
    params_.window = static_cast<int>(ctx.params.Number("window_cycles"));
    params_.alpha = ctx.params.Number("alpha");
    params_.side = monitors::SideParam(ctx.params);
    MakeDetector();  // its own checks now, not at the first observation days into the run
  }

 private:
  struct D final : Detector {
    explicit D(const monitors::TrendParams& p) : trend(p) {}
    monitors::DetectorResult Update(const monitors::KpiObservation& o, int) override { return trend.Update(o.value); }
    monitors::TrendDetector trend;
  };
  std::unique_ptr<Detector> MakeDetector() const override { return std::make_unique<D>(params_); }
  std::string Describe() const override { return "slope significant at " + FormatNumber(params_.alpha); }
  monitors::TrendParams params_;
};

ADSIM_REGISTER_MONITOR(
    KpiTrend, "kpi_trend", "Trend test (OLS slope t-test over a window) on a KPI per campaign x channel (x segment).",
    monitors::KpiParams({NumberParam("window_cycles", 48, "trailing window of charted cycles", 4, 100000),
                         NumberParam("alpha", 1e-3, "significance level of the slope test", 1e-12, 0.5)}));

}  // namespace
}  // namespace adsim::monitors

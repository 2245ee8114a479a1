// kpi_trend: a trend test on a KPI: the OLS slope over a trailing window of
// cycles with its t-statistic; it alerts when the slope is significant at
// alpha in the chosen direction (slow drifts that jump detectors miss).
#include "strategies/monitors/kpi_series.h"

namespace adsim {
namespace {

class KpiTrend final : public monitor::KpiMonitor {
 public:
  explicit KpiTrend(const BuildContext& ctx) : KpiMonitor(ctx) {
    params_.window = static_cast<int>(ctx.params.Number("window_cycles"));
    params_.alpha = ctx.params.Number("alpha");
    params_.side = monitor::SideParam(ctx.params);
    MakeDetector();  // its own checks now, not at the first observation days into the run
  }

 private:
  struct D final : Detector {
    explicit D(const monitor::TrendParams& p) : trend(p) {}
    monitor::DetectorResult Update(const monitor::KpiObservation& o, int) override { return trend.Update(o.value); }
    monitor::TrendDetector trend;
  };
  std::unique_ptr<Detector> MakeDetector() const override { return std::make_unique<D>(params_); }
  std::string Describe() const override { return "slope significant at " + FormatNumber(params_.alpha); }
  monitor::TrendParams params_;
};

const Registration kKpiTrend({
    .name = "kpi_trend",
    .kind = ComponentKind::kMonitor,
    .description = "Trend test (OLS slope t-test over a window) on a KPI per campaign x channel (x segment).",
    .params = monitor::KpiParams({NumberParam("window_cycles", 48, "trailing window of charted cycles", 4, 100000),
                                  NumberParam("alpha", 1e-3, "significance level of the slope test", 1e-12, 0.5)}),
    .campaign_scoped = false,
    .origin = "C++",
    .make_bidder = nullptr,
    .make_controller = nullptr,
    .make_monitor = [](const BuildContext& ctx) -> std::unique_ptr<Monitor> { return std::make_unique<KpiTrend>(ctx); },
});

}  // namespace
}  // namespace adsim

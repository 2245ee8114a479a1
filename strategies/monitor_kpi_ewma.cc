// kpi_ewma: an EWMA control chart (Roberts 1959) with exact time-varying
// limits on a KPI per campaign x channel (x segment).
#include "strategies/monitors/kpi_series.h"

namespace adsim {
namespace {

class KpiEwma final : public monitor::KpiMonitor {
 public:
  explicit KpiEwma(const BuildContext& ctx) : KpiMonitor(ctx) {
    params_.lambda = ctx.params.Number("lambda");
    params_.L = ctx.params.Number("L");
    params_.warmup = static_cast<int>(ctx.params.Number("warmup_cycles"));
    params_.side = monitor::SideParam(ctx.params);
    MakeDetector();  // its own checks now, not at the first observation days into the run
  }

 private:
  struct D final : Detector {
    explicit D(const monitor::EwmaParams& p) : chart(p) {}
    monitor::DetectorResult Update(const monitor::KpiObservation& o, int) override {
      return o.rate ? chart.UpdateRate(o.successes, o.trials) : chart.Update(o.value);
    }
    monitor::EwmaChart chart;
  };
  std::unique_ptr<Detector> MakeDetector() const override { return std::make_unique<D>(params_); }
  std::string Describe() const override {
    return "EWMA lambda = " + FormatNumber(params_.lambda) + " outside " + FormatNumber(params_.L) + " sd";
  }
  monitor::EwmaParams params_;
};

const Registration kKpiEwma({
    .name = "kpi_ewma",
    .kind = ComponentKind::kMonitor,
    .description = "EWMA control chart on a KPI per campaign x channel (x segment).",
    .params = monitor::KpiParams(
        {NumberParam("lambda", 0.1, "weight of the newest cycle", 0.001, 1),
         NumberParam("L", 2.814, "limit width in EWMA standard deviations (lambda 0.1: ARL0 about 500)", 0.1, 20),
         NumberParam("warmup_cycles", 96,
                     "charted cycles used to estimate the in-control level (and sd); 96 = a day of 15-min cycles", 2,
                     10000)}),
    .campaign_scoped = false,
    .origin = "C++",
    .make_bidder = nullptr,
    .make_controller = nullptr,
    .make_monitor = [](const BuildContext& ctx) -> std::unique_ptr<Monitor> { return std::make_unique<KpiEwma>(ctx); },
});

}  // namespace
}  // namespace adsim

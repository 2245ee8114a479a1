// kpi_ewma: an EWMA control chart (Roberts 1959) with exact time-varying
// limits on a KPI per campaign x channel (x segment).
#include "strategies/monitors/lib/kpi_series.h"

namespace adsim::monitors {
namespace {

class KpiEwma final : public monitors::KpiMonitor {
 public:
  explicit KpiEwma(const BuildContext& ctx) : KpiMonitor(ctx) {
    params_.lambda = ctx.params.Number("lambda");
    params_.L = ctx.params.Number("L");
    params_.warmup = static_cast<int>(ctx.params.Number("warmup_cycles"));
    params_.side = monitors::SideParam(ctx.params);
    MakeDetector();  // its own checks now, not at the first observation days into the run
  }

 private:
  struct D final : Detector {
    explicit D(const monitors::EwmaParams& p) : chart(p) {}
    monitors::DetectorResult Update(const monitors::KpiObservation& o, int) override {
      return o.rate ? chart.UpdateRate(o.successes, o.trials) : chart.Update(o.value);
    }
    monitors::EwmaChart chart;
  };
  std::unique_ptr<Detector> MakeDetector() const override { return std::make_unique<D>(params_); }
  std::string Describe() const override {
    return "EWMA lambda = " + FormatNumber(params_.lambda) + " outside " + FormatNumber(params_.L) + " sd";
  }
  monitors::EwmaParams params_;
};

ADSIM_REGISTER_MONITOR(
    KpiEwma, "kpi_ewma", "EWMA control chart on a KPI per campaign x channel (x segment).",
    monitors::KpiParams(
        {NumberParam("lambda", 0.1, "weight of the newest cycle", 0.001, 1),
         NumberParam("L", 2.814, "limit width in EWMA standard deviations (lambda 0.1: ARL0 about 500)", 0.1, 20),
         NumberParam("warmup_cycles", 96,
                     "charted cycles used to estimate the in-control level (and sd); 96 = a day of 15-min cycles", 2,
                     10000)}));

}  // namespace
}  // namespace adsim::monitors

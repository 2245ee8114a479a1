// kpi_tail: a windowed Gaussian tail detector on a KPI: the mean and sd of the
// trailing window (excluding the current cycle) give the tail probability of
// the current value; it alerts below alpha.
#include "strategies/monitors/kpi_series.h"

namespace adsim {
namespace {

class KpiTail final : public monitor::KpiMonitor {
 public:
  explicit KpiTail(const BuildContext& ctx) : KpiMonitor(ctx) {
    params_.window = static_cast<int>(ctx.params.Number("window_cycles"));
    params_.alpha = ctx.params.Number("alpha");
    params_.side = monitor::SideParam(ctx.params);
    MakeDetector();  // its own checks now, not at the first observation days into the run
  }

 private:
  struct D final : Detector {
    explicit D(const monitor::WindowTailParams& p) : tail(p) {}
    monitor::DetectorResult Update(const monitor::KpiObservation& o, int) override { return tail.Update(o.value); }
    monitor::WindowTail tail;
  };
  std::unique_ptr<Detector> MakeDetector() const override { return std::make_unique<D>(params_); }
  std::string Describe() const override { return "tail probability below " + FormatNumber(params_.alpha); }
  monitor::WindowTailParams params_;
};

const Registration kKpiTail({
    .name = "kpi_tail",
    .kind = ComponentKind::kMonitor,
    .description = "Windowed Gaussian tail detector on a KPI per campaign x channel (x segment).",
    .params = monitor::KpiParams({NumberParam("window_cycles", 24, "trailing window of charted cycles", 3, 100000),
                                  NumberParam("alpha", 1e-3, "tail probability that alerts", 1e-12, 0.5)}),
    .campaign_scoped = false,
    .origin = "C++",
    .make_bidder = nullptr,
    .make_controller = nullptr,
    .make_monitor = [](const BuildContext& ctx) -> std::unique_ptr<Monitor> { return std::make_unique<KpiTail>(ctx); },
});

}  // namespace
}  // namespace adsim

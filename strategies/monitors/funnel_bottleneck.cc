// funnel_bottleneck: finds the funnel stage whose rate fell most against its
// own baseline (docs/funnel.md). Per channel it follows the four stage rates
// an advertiser observes (click per impression, visit per click, cart per
// visit, purchase = reported conversion per cart), each over a recent window
// of control cycles against a slowly forgetting baseline of the cycles before
// the window, and alerts naming the stage whose rate fell most among those
// that fell significantly (a binomial z-score beyond the threshold).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <deque>
#include <vector>

#include "core/registry.h"

namespace adsim::monitors {
namespace {

constexpr int kStages = 4;  // click, visit, cart, purchase: each as a rate of the stage before
constexpr const char* kStageNames[kStages] = {"click", "visit", "cart", "purchase"};

// Counts of one cycle (or a sum of cycles) of one channel: per stage, the
// stage's count (numerator) and the previous stage's (denominator).
struct StageCounts {
  std::array<double, kStages> entered{}, from{};
  void Add(const StageCounts& other, double weight = 1.0) {
    for (int k = 0; k < kStages; ++k) {
      entered[k] += weight * other.entered[k];
      from[k] += weight * other.from[k];
    }
  }
};

class FunnelBottleneck final : public Monitor {
 public:
  explicit FunnelBottleneck(const BuildContext& ctx)
      : window_cycles_(static_cast<int>(ctx.params.Number("window_cycles"))),
        warmup_cycles_(static_cast<int>(ctx.params.Number("warmup_cycles"))),
        cooldown_cycles_(static_cast<int>(ctx.params.Number("cooldown_cycles"))),
        forget_(ctx.params.Number("forget")),
        threshold_(ctx.params.Number("z")),
        min_drop_(ctx.params.Number("min_drop")),
        min_count_(ctx.params.Number("min_count")) {}

  void OnCycle(const Snapshot& snapshot, std::vector<Alert>* alerts) override {
    if (channels_.empty()) channels_.resize(snapshot.num_channels);
    ++cycle_;
    for (int channel = 0; channel < snapshot.num_channels; ++channel) {
      ChannelState& state = channels_[channel];
      state.window.push_back(CycleCounts(snapshot, channel));
      if (static_cast<int>(state.window.size()) <= window_cycles_) continue;
      // The cycle leaving the window joins the baseline, unless a stage is low
      // now (a drop must not teach the baseline its new level while it lasts).
      const StageCounts leaving = state.window.front();
      state.window.pop_front();
      StageCounts recent;
      for (const StageCounts& counts : state.window) recent.Add(counts);
      std::array<double, kStages> z{}, drop{}, rate{}, expected{};
      bool any_low = false;
      for (int k = 0; k < kStages; ++k) {
        const double base_from = state.baseline.from[k];
        if (base_from < min_count_ || recent.from[k] < min_count_) continue;
        expected[k] = state.baseline.entered[k] / base_from;
        rate[k] = recent.entered[k] / recent.from[k];
        // Binomial z of the window's count against the baseline rate; the
        // baseline's own sampling error widens it (factor 1 + n_window / n_baseline).
        const double variance =
            recent.from[k] * expected[k] * (1 - expected[k]) * (1 + recent.from[k] / std::max(base_from, 1.0));
        if (!(variance > 0)) continue;
        z[k] = (recent.entered[k] - recent.from[k] * expected[k]) / std::sqrt(variance);
        drop[k] = 1 - rate[k] / expected[k];
        any_low |= z[k] < -threshold_;
      }
      if (!any_low) {
        for (int k = 0; k < kStages; ++k) {
          state.baseline.entered[k] *= 1 - forget_;
          state.baseline.from[k] *= 1 - forget_;
        }
        state.baseline.Add(leaving);
      }
      if (cycle_ <= warmup_cycles_) continue;
      // The bottleneck: the significantly low stage whose rate fell most.
      int worst = -1;
      for (int k = 0; k < kStages; ++k)
        if (z[k] < -threshold_ && drop[k] >= min_drop_ && (worst < 0 || drop[k] > drop[worst])) worst = k;
      if (worst < 0 || cycle_ - state.last_alert[worst] < cooldown_cycles_) continue;
      state.last_alert[worst] = cycle_;
      Alert alert;
      alert.channel = channel;
      alert.metric = std::string("funnel_") + kStageNames[worst];
      alert.value = rate[worst];
      alert.expected = expected[worst];
      alert.score = -drop[worst];
      alert.severity = drop[worst] >= 0.5 ? "critical" : "warning";
      std::string others;
      for (int k = 0; k < kStages; ++k) {
        if (k == worst || !(expected[k] > 0)) continue;
        others += (others.empty() ? "" : ", ") + std::string(kStageNames[k]) + " " + Percent(-drop[k]);
      }
      alert.message = std::string(kStageNames[worst]) + " rate on " + snapshot.channel_names[channel] + " fell " +
                      Percent(drop[worst]).substr(1) + " against its baseline (" + Number(rate[worst]) + " vs " +
                      Number(expected[worst]) + ", z " + Number(z[worst]) + ")" +
                      (others.empty() ? "" : "; other stages: " + others);
      alerts->push_back(alert);
    }
  }

 private:
  struct ChannelState {
    std::deque<StageCounts> window;  // the last window_cycles cycles (plus the newest, briefly)
    StageCounts baseline;            // the cycles before the window, forgetting `forget` per cycle
    std::array<int64_t, kStages> last_alert{-1000000, -1000000, -1000000, -1000000};
  };

  // The last cycle's stage counts of one channel, over campaigns, segments and creatives.
  static StageCounts CycleCounts(const Snapshot& snapshot, int channel) {
    StageCounts counts;
    for (size_t campaign = 0; campaign < snapshot.campaigns.size(); ++campaign) {
      const int c = static_cast<int>(campaign);
      for (int segment = 0; segment < snapshot.num_segments; ++segment)
        for (int creative = 0; creative < snapshot.num_creatives[campaign]; ++creative) {
          const ObservedStats& cell = snapshot.last_cycle[snapshot.Cell(c, channel, segment, creative)];
          const std::array<double, kStages + 1> stage = {
              static_cast<double>(cell.impressions), static_cast<double>(cell.clicks), static_cast<double>(cell.visits),
              static_cast<double>(cell.carts), static_cast<double>(cell.conversions)};
          for (int k = 0; k < kStages; ++k) {
            counts.from[k] += stage[k];
            counts.entered[k] += stage[k + 1];
          }
        }
    }
    return counts;
  }
  static std::string Percent(double fraction) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%+.0f%%", 100 * fraction);
    return buffer;
  }
  static std::string Number(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3g", value);
    return buffer;
  }

  int window_cycles_, warmup_cycles_, cooldown_cycles_;
  double forget_, threshold_, min_drop_, min_count_;
  int64_t cycle_ = 0;
  std::vector<ChannelState> channels_;
};

ADSIM_REGISTER_MONITOR(
    FunnelBottleneck, "funnel_bottleneck",
    "Funnel: alerts naming the stage (click, visit, cart, purchase) whose rate fell most against its own baseline.",
    NumberParam("window_cycles", 8, "recent control cycles compared with the baseline (8 = 2 h of 15-min cycles)", 1,
                1000),
    NumberParam("warmup_cycles", 48, "cycles before the first alert (the baseline fills meanwhile)", 0, 100000),
    NumberParam("cooldown_cycles", 16, "cycles between two alerts on the same channel and stage", 1, 100000),
    NumberParam("forget", 0.01, "share of the baseline forgotten per cycle (0: it never forgets)", 0, 1),
    NumberParam("z", 4.0, "binomial z-score below which a stage's window rate counts as fallen", 1, 20),
    NumberParam("min_drop", 0.1, "smallest relative fall of a rate that alerts", 0, 1),
    NumberParam("min_count", 30, "smallest count of the stage before (window and baseline) to judge a rate", 1, 1e9));

}  // namespace
}  // namespace adsim::monitors

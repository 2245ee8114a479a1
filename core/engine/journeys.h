// Journeys (docs/journeys.md): per-user state across channels and the
// conversion hazard of a scenario with a `journeys:` block. A user is one
// identity (segment, index) wherever the market shows them; every impression
// and click of one of our campaigns is a touchpoint in the user's ring of the
// last N (8 bytes each, packed exactly; one zeroed block of users x (32 + 8 N)
// bytes made before the run, resident as users are touched; nothing allocated
// per touch). Conversions
// come from a hazard: the segment's organic baseline (a Poisson process per
// segment, drawn as one stream of arrivals over all its users) plus the
// incremental lift of the user's touchpoints, each decaying with its
// half-life, saturating in frequency per channel and kind, simulated exactly
// by thinning (the lift only falls between touches, so its value at a touch
// bounds it until the next one). With `journeys.interactions`, the lifts of
// channels that interact are multiplied while the user has touches of all of
// them (fixed between touches, so the bound holds); with a `funnel:` block,
// each arrival of the hazard passes through the funnel's stages and only a
// purchase converts. Each conversion is recorded with whether it
// was organic or incremental and which touchpoint caused it, in the
// `journey_conversions` table; the paths of touchpoints of non-converting
// users go to `journey_paths` at the end of the run.
//
// Owns: the rings, the per-user hazard bookkeeping, its random draws (per user,
// counter-based, so a user's draws do not depend on other users), the two
// journey tables.
// May not touch: counters, budgets, campaigns: it tells the run loop which
// campaign a platform would credit (RunLoop books it as a reported conversion).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/journey_truth.h"
#include "core/engine/run_state.h"
#include "core/engine/user_response.h"
#include "core/journey_observations.h"
#include "core/random.h"
#include "core/results.h"

namespace adsim::engine {

// One touchpoint: an impression (view) or a click of one of our campaigns,
// as the code reads it (RingAt unpacks it from the ring's 8-byte word).
struct Touchpoint {
  SimTime time = 0;
  int16_t campaign = 0;
  int16_t creative = 0;
  int8_t channel = 0;
  TouchKind kind = TouchKind::kView;
};

// A touchpoint packed into the ring's 8-byte word, exactly: the time in
// microseconds from the run start in the low kTouchTimeBits bits (scenarios
// last at most 366 days, 2^45 microseconds), the kind in the next bit, and
// the placement (an index of the scenario's (campaign, channel, creative)
// triples, Journeys::placements) in the top 16 bits.
constexpr int kTouchTimeBits = 47;
constexpr SimTime kMaxTouchTime = (SimTime{1} << kTouchTimeBits) - 1;
constexpr int kMaxPlacements = 1 << 16;
constexpr uint64_t PackTouch(SimTime time, TouchKind kind, int placement) {
  return static_cast<uint64_t>(time) | (static_cast<uint64_t>(kind) << kTouchTimeBits) |
         (static_cast<uint64_t>(placement) << (kTouchTimeBits + 1));
}
constexpr SimTime PackedTime(uint64_t packed) { return static_cast<SimTime>(packed & kMaxTouchTime); }
constexpr TouchKind PackedKind(uint64_t packed) { return static_cast<TouchKind>((packed >> kTouchTimeBits) & 1); }
constexpr int PackedPlacement(uint64_t packed) { return static_cast<int>(packed >> (kTouchTimeBits + 1)); }

// A user's journey bookkeeping, in front of the user's ring in one flat
// allocation (Journeys::users_). All zeros is a user never touched, so the
// allocation is left to the kernel's zero pages until a user's first touch:
// users never exposed cost no resident memory.
struct JourneyUser {
  double bound = 0;                      // the hazard bound of the pending candidate
  SimTime next_candidate = 0;            // the pending candidate's time; 0 none (candidates come at 1 or later)
  SimTime last_conversion_plus_one = 0;  // the user's last conversion time + 1; 0 none
  uint32_t draws = 0;                    // draws used (counter of the user's random stream)
  uint16_t head = 0, count = 0;          // the ring's next slot and its touchpoints (at most N <= 1024)
};

// A journey conversion a platform credits to one campaign (the latest click
// in the click-through window, else the latest view in the view-through
// window): the run loop books it like a click conversion arriving now.
struct CreditedConversion {
  bool credited = false;
  PendingConversion conversion{};
  // Journeys with a funnel (docs/journeys.md, "Funnel stages"): the cell of the
  // touch the hazard's arrival landed through (the credited touch; -1 for a
  // direct visit) and the stages it reached (0 none, 1 visit, 2 cart, 3
  // purchase): the run loop counts them in that cell (the funnel table).
  int funnel_cell = -1;
  int funnel_stages = 0;
};

class Journeys final : public JourneyObservations {
 public:
  // Allocates the block of rings and bookkeeping (users of every segment x
  // (32 + 8 N) bytes, zeroed, mapped lazily) and adds the journey tables to
  // `results`. Throws ConfigError when the scenario has more placements than
  // a packed touchpoint holds.
  Journeys(RunState& state, Results* results);
  // Schedules each segment's first organic conversion (before the first opportunity).
  void Start();
  // A slot one of our campaigns won: a view touchpoint, and a click one when
  // the user clicked. Re-schedules the user's next incremental candidate.
  void Touch(const Opportunity& opportunity, const Win& win, bool click);
  // An EventKind::kJourney event: an organic arrival (payload < 0) or a
  // user's incremental candidate (payload = user index; stale candidates,
  // superseded by a later touch, are ignored). Returns the credit to book.
  CreditedConversion Handle(const Event& event);
  // Writes journey_paths (touchpoints since each user's last conversion, in
  // the windows, for users who did not convert after them). Call once, after the run.
  void Finish();

  // Holdout (`journeys.holdout`): whether the opportunity's user is held out
  // of its channel, so that none of our campaigns bids. A hash of the seed,
  // the user and the channel: a user is held out of a channel for the whole
  // run, independently per channel. Hot: no allocation.
  bool HeldOut(const Opportunity& opportunity) const {
    if (holdout_threshold_.empty()) return false;
    const uint64_t threshold = holdout_threshold_[opportunity.channel];
    return threshold > 0 &&
           HoldoutDraw(user_offset_[opportunity.segment] + opportunity.user, opportunity.channel) < threshold;
  }
  // JourneyObservations: the paths and holdout counts so far.
  attribution::PathData PathsSoFar(SimTime now) const override;

  int64_t organic_conversions() const { return organic_conversions_; }
  int64_t incremental_conversions() const { return incremental_conversions_; }
  // With a funnel: the hazard's arrivals (organic and accepted incremental
  // candidates), and how many of them visited and carted; the purchases are the
  // conversions.
  int64_t funnel_arrivals() const { return funnel_arrivals_; }
  int64_t funnel_visits() const { return funnel_visits_; }
  int64_t funnel_carts() const { return funnel_carts_; }

 private:
  // The incremental hazard of `user` at `now` (conversions per microsecond);
  // fills group_sum_ with each lift's decayed touch count.
  double IncrementalHazard(int64_t user, SimTime now);
  // Draws the user's next candidate after `now` from the bound `hazard`.
  void Schedule(int64_t user, SimTime now, double hazard);
  double UserUniform(int64_t user);
  double DrawValue(int segment, double first_uniform, double second_uniform) const;
  void Convert(int64_t user, int segment, SimTime now, bool organic, int cause, CreditedConversion* credit);
  // "search > display" for the user's touches in the windows after `after`, up to `now`
  // (campaign names instead of channels with `campaign_names`).
  std::string PathText(int64_t user, SimTime after, SimTime now, int* touches, bool campaign_names = false) const;
  // With truth: each channel's dashboard claims the conversion for the campaign of its own
  // latest click in the click-through window, else its latest view in the view-through window.
  void ReportToDashboards(int64_t user, SimTime now, double value);
  bool InWindow(const Touchpoint& touch, SimTime now) const;
  // The ring index of the touch a platform credits at `now`: the latest click in
  // the click-through window, else the latest view in the view-through window; -1 none.
  int CreditedTouch(int64_t user, SimTime now) const;
  // With a funnel: an arrival of the user's hazard at `now` enters visit, cart and
  // purchase, each with the stage rate of the credited touch's cell (of the
  // segment for a direct visit) times the stage shocks, one draw of the user's
  // stream per stage, stopping at the first stage not entered. Fills the credit's
  // funnel fields; returns whether it purchased (a conversion).
  bool PassesFunnel(int64_t user, int segment, SimTime now, CreditedConversion* credit);
  JourneyUser& UserAt(int64_t user) const {
    return *reinterpret_cast<JourneyUser*>(users_.get() + static_cast<size_t>(user) * user_stride_);
  }
  uint64_t* RingOf(int64_t user) const {
    return reinterpret_cast<uint64_t*>(users_.get() + static_cast<size_t>(user) * user_stride_ + sizeof(JourneyUser));
  }
  SimTime LastConversion(int64_t user) const { return UserAt(user).last_conversion_plus_one - 1; }
  Touchpoint Unpack(uint64_t packed) const {
    const Placement& placement = placements_[PackedPlacement(packed)];
    return {PackedTime(packed), placement.campaign, placement.creative, placement.channel, PackedKind(packed)};
  }
  Touchpoint RingAt(int64_t user, int k) const {  // k = 0 oldest .. count - 1 newest
    const JourneyUser& record = UserAt(user);
    const int n = spec_.touchpoints;
    return Unpack(RingOf(user)[(record.head + n - record.count + k) % n]);
  }

  uint64_t HoldoutDraw(int64_t user, int channel) const {
    return Mix64(holdout_key_ ^ Mix64(static_cast<uint64_t>(user) * 256 + static_cast<uint64_t>(channel)));
  }
  // The holdout counts per channel with a holdout, over every user (per-cycle and end-of-run code).
  std::vector<attribution::ChannelHoldout> HoldoutCounts() const;

  RunState& state_;
  const JourneySpec& spec_;
  // Holdout: per channel, held out when HoldoutDraw < threshold (share x 2^64); empty without a holdout.
  std::vector<uint64_t> holdout_threshold_;
  uint64_t holdout_key_ = 0;
  std::vector<uint32_t> user_conversions_;  // with a holdout: per user, conversions so far
  std::vector<double> user_value_;          // and their value
  struct {
    std::vector<int64_t>* channel;
    std::vector<double>*held_out_users, *held_out_conversions, *held_out_conversions_sq, *held_out_value,
        *held_out_value_sq, *exposed_users, *exposed_conversions, *exposed_conversions_sq, *exposed_value,
        *exposed_value_sq;
  } holdout_{};
  std::vector<int64_t> user_offset_;  // per segment, then the total
  // Per user, a JourneyUser then its ring of N packed touchpoints: user_stride_
  // bytes each, one zeroed allocation (calloc: untouched pages stay unmapped).
  struct FreeMemory {
    void operator()(unsigned char* memory) const { std::free(memory); }
  };
  std::unique_ptr<unsigned char[], FreeMemory> users_;
  size_t user_stride_ = 0;
  // The (campaign, channel, creative) triples a touchpoint packs as one index:
  // placement_base_[campaign * channels + channel] + creative (-1: the campaign is not on the channel).
  struct Placement {
    int16_t campaign = 0, creative = 0;
    int8_t channel = 0;
  };
  std::vector<Placement> placements_;
  std::vector<int> placement_base_;
  std::vector<int> lift_index_;                        // per channel * 2 + kind: index into spec_.lifts, -1 = none
  std::vector<double> lift_rate_, inverse_half_life_;  // per lift: per microsecond, per microsecond
  std::vector<double> group_sum_;                      // scratch per lift
  // With journeys.interactions, scratch per channel: its lift, whether the user has a lifted
  // touch of it, and the interactions' multiplier of its lift (of the last IncrementalHazard).
  std::vector<double> channel_lift_, channel_multiplier_;
  std::vector<char> channel_present_;
  std::vector<Stream> organic_;        // per segment
  std::vector<double> organic_rate_;   // per segment: arrivals per microsecond over all its users
  std::optional<JourneyTruth> truth_;  // `journeys.truth`: the counterfactual ground truth
  uint64_t user_key_ = 0;
  int64_t organic_conversions_ = 0, incremental_conversions_ = 0;
  int64_t funnel_arrivals_ = 0, funnel_visits_ = 0, funnel_carts_ = 0;
  struct {
    std::vector<int64_t>*time, *user, *segment, *organic, *cause_campaign, *cause_channel, *cause_time,
        *credited_campaign, *credited_channel, *touches;
    std::vector<std::string>*cause_kind, *through, *path;
    std::vector<double>* value;
  } conversions_{};
  struct {
    std::vector<std::string>* path;
    std::vector<int64_t>* users;
  } paths_{};
};

}  // namespace adsim::engine

// Journeys (journeys.h): the touchpoint rings, the conversion hazard by
// thinning, and the journey tables.
// May not touch: counters, budgets, campaigns (the run loop books the credit).
#include "core/engine/journeys.h"

#if __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif

#include <algorithm>
#include <array>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <cstdint>
#include <map>
#include <new>

#include "core/error.h"
#include "core/random.h"

namespace adsim::engine {

namespace {

const char* KindName(TouchKind kind) { return kind == TouchKind::kClick ? "click" : "view"; }

// Asks Linux to back the 2 MiB-aligned interior of `block` with transparent
// huge pages (where the system allows them on request, as with the common
// `madvise` setting). A touch lands on a random user of millions: with 4 KiB
// pages each first touch of a page is a page fault and most touches a TLB miss;
// on the journeys benchmark (docs/journeys.md, "Cost") those took about 60 %
// of the run's CPU, and huge pages cut its CPU time by more than half. The
// block stays lazily mapped, in 2 MiB pages instead of 4 KiB.
void AdviseHugePages(void* block, size_t bytes) {
#ifdef MADV_HUGEPAGE
  constexpr uintptr_t kHugePage = uintptr_t{1} << 21;
  const auto address = reinterpret_cast<uintptr_t>(block);
  const size_t skip = (kHugePage - address % kHugePage) % kHugePage;  // to the first 2 MiB boundary
  if (bytes <= skip) return;
  const size_t length = (bytes - skip) / kHugePage * kHugePage;
  // Advice only: where it is refused (huge pages off), the block works as before.
  if (length > 0) madvise(static_cast<char*>(block) + skip, length, MADV_HUGEPAGE);
#else
  (void)block;
  (void)bytes;
#endif
}

}  // namespace

// core/memory_needs.cc counts 8 bytes per touchpoint and 32 per user.
static_assert(sizeof(JourneyUser) == 32, "memory_needs.cc assumes 32 bytes of bookkeeping per user");
static_assert(kMaxTouchTime > 366 * kMicrosPerDay, "a touch time of the longest scenario (366d) must pack exactly");

Journeys::Journeys(RunState& state, Results* results) : state_(state), spec_(*state.scenario.journeys) {
  const Scenario& scenario = state.scenario;
  user_offset_.push_back(0);
  for (const SegmentSpec& segment : scenario.segments) user_offset_.push_back(user_offset_.back() + segment.users);
  const auto users = static_cast<size_t>(user_offset_.back());
  if (scenario.duration > kMaxTouchTime)
    throw ConfigError("duration: journeys pack a touch's time in " + std::to_string(kTouchTimeBits) +
                      " bits of microseconds: expected at most " + std::to_string(kMaxTouchTime) +
                      " microseconds, found " + std::to_string(scenario.duration));
  const auto channels = static_cast<int>(scenario.channels.size());
  placement_base_.assign(scenario.campaigns.size() * static_cast<size_t>(channels), -1);
  for (size_t campaign = 0; campaign < scenario.campaigns.size(); ++campaign) {
    const CampaignSpec& spec = scenario.campaigns[campaign];
    for (const int channel : spec.channels) {
      placement_base_[campaign * channels + channel] = static_cast<int>(placements_.size());
      for (size_t creative = 0; creative < spec.creatives.size(); ++creative)
        placements_.push_back(
            {static_cast<int16_t>(campaign), static_cast<int16_t>(creative), static_cast<int8_t>(channel)});
    }
  }
  if (placements_.size() > static_cast<size_t>(kMaxPlacements))
    throw ConfigError("campaigns: journeys pack a touch's (campaign, channel, creative) in 16 bits: expected at most " +
                      std::to_string(kMaxPlacements) + " of them (each campaign's channels x its creatives), found " +
                      std::to_string(placements_.size()));
  // One zeroed allocation: calloc maps fresh zero pages for a block this size
  // (no writes), so a user's memory becomes resident at the first touch of a
  // user on its page.
  user_stride_ = sizeof(JourneyUser) + sizeof(uint64_t) * static_cast<size_t>(spec_.touchpoints);
  users_.reset(static_cast<unsigned char*>(std::calloc(std::max<size_t>(users, 1), user_stride_)));
  // As a vector would: the CLI and Python turn it into the scenario's memory needs (core/memory_needs.h).
  if (!users_) throw std::bad_alloc();
  AdviseHugePages(users_.get(), users * user_stride_);
  lift_index_.assign(static_cast<size_t>(scenario.channels.size()) * 2, -1);
  for (size_t i = 0; i < spec_.lifts.size(); ++i) {
    const JourneyLiftSpec& lift = spec_.lifts[i];
    lift_index_[lift.channel * 2 + static_cast<int>(lift.kind)] = static_cast<int>(i);
    lift_rate_.push_back(lift.lift / static_cast<double>(kMicrosPerDay));
    inverse_half_life_.push_back(1.0 / static_cast<double>(lift.half_life));
  }
  group_sum_.assign(spec_.lifts.size(), 0.0);
  if (!spec_.interactions.empty()) {
    channel_lift_.assign(scenario.channels.size(), 0.0);
    channel_multiplier_.assign(scenario.channels.size(), 1.0);
    channel_present_.assign(scenario.channels.size(), 0);
  }
  for (size_t s = 0; s < scenario.segments.size(); ++s) {
    organic_.emplace_back(state.seed, "journeys/organic/" + scenario.segments[s].name);
    organic_rate_.push_back(spec_.baseline[s] * static_cast<double>(scenario.segments[s].users) /
                            static_cast<double>(kMicrosPerDay));
  }
  user_key_ = StreamSeed(state.seed, "journeys/users");

  Table& table = results->Add("journey_conversions",
                              "Journeys only: every conversion the hazard produced (truth), organic or incremental, "
                              "with the touchpoint that caused it and the campaign a platform would credit");
  conversions_.time = &table.Int("time", "us", "simulated time of the conversion");
  conversions_.user = &table.Int("user", "index", "the user: index within the segment's population");
  conversions_.segment = &table.Int("segment", "index", "index into the segments table");
  conversions_.organic = &table.Int("organic", "bool", "1: from the baseline hazard (would have happened without ads)");
  conversions_.value = &table.Real("value", "currency", "conversion value");
  conversions_.cause_campaign =
      &table.Int("cause_campaign", "index", "incremental: campaign of the touchpoint whose lift caused it; -1 organic");
  conversions_.cause_channel =
      &table.Int("cause_channel", "index", "incremental: that touchpoint's channel; -1 organic");
  conversions_.cause_kind = &table.Text("cause_kind", "incremental: view or click; empty when organic");
  conversions_.cause_time = &table.Int("cause_time", "us", "incremental: that touchpoint's time; -1 organic");
  conversions_.through = &table.Text(
      "through", "click (a click in the click-through window), view (else a view in the view-through window) or none");
  conversions_.credited_campaign = &table.Int(
      "credited_campaign", "index", "campaign of the latest touch in its window (what a platform credits); -1 none");
  conversions_.credited_channel = &table.Int("credited_channel", "index", "that touch's channel; -1 none");
  conversions_.touches = &table.Int("touches", "count", "touchpoints in the path");
  conversions_.path = &table.Text("path",
                                  "channel names of the user's touchpoints in their windows since the user's previous "
                                  "conversion, oldest first, joined by ' > ' (a clicked impression counts once)");
  Table& paths = results->Add("journey_paths",
                              "Journeys only: at the end of the run, the paths of touchpoints (in their windows) of "
                              "users who did not convert after them, counted per distinct path");
  paths_.path = &paths.Text("path", "channel names joined by ' > ', oldest first (as in journey_conversions.path)");
  paths_.users = &paths.Int("users", "count", "users whose journey ended without conversion on this path");
  if (spec_.truth) truth_.emplace(scenario, state.seed, results);
  bool any_holdout = false;
  for (const double share : spec_.holdout) any_holdout |= share > 0;
  if (any_holdout) {
    for (const double share : spec_.holdout) holdout_threshold_.push_back(static_cast<uint64_t>(std::ldexp(share, 64)));
    holdout_key_ = StreamSeed(state.seed, "journeys/holdout");
    user_conversions_.assign(users, 0);
    user_value_.assign(users, 0.0);
    Table& holdout = results->Add(
        "journey_holdout",
        "Journeys with journeys.holdout only: per channel with a holdout, the users held out of it (shown none of our "
        "ads there) and the others, with their conversions and value over the run (docs/attribution.md)");
    holdout_.channel = &holdout.Int("channel", "index", "index into the channels table");
    auto group = [&](const std::string& name, const std::string& who) {
      return std::array<std::vector<double>*, 5>{
          &holdout.Real(name + "_users", "count", "users " + who),
          &holdout.Real(name + "_conversions", "count", "conversions of the users " + who),
          &holdout.Real(name + "_conversions_sq", "count^2",
                        "sum over the users " + who + " of their conversions squared"),
          &holdout.Real(name + "_value", "currency", "conversion value of the users " + who),
          &holdout.Real(name + "_value_sq", "currency^2", "sum over the users " + who + " of their value squared")};
    };
    const auto held = group("held_out", "held out of the channel");
    const auto exposed = group("exposed", "not held out of the channel");
    holdout_.held_out_users = held[0], holdout_.held_out_conversions = held[1],
    holdout_.held_out_conversions_sq = held[2];
    holdout_.held_out_value = held[3], holdout_.held_out_value_sq = held[4];
    holdout_.exposed_users = exposed[0], holdout_.exposed_conversions = exposed[1];
    holdout_.exposed_conversions_sq = exposed[2], holdout_.exposed_value = exposed[3],
    holdout_.exposed_value_sq = exposed[4];
  }
}

void Journeys::Start() {
  for (size_t s = 0; s < organic_.size(); ++s) {
    if (!(organic_rate_[s] > 0)) continue;
    const double at = organic_[s].Exponential() / organic_rate_[s];
    if (at < static_cast<double>(state_.scenario.duration))
      state_.Push(static_cast<SimTime>(at), EventKind::kJourney, -static_cast<int64_t>(s) - 1);
  }
}

double Journeys::UserUniform(int64_t user) {
  ResponseRng rng(user_key_ ^ Mix64(static_cast<uint64_t>(user)), static_cast<int>(UserAt(user).draws++));
  return rng.Uniform();
}

double Journeys::IncrementalHazard(int64_t user, SimTime now) {
  std::fill(group_sum_.begin(), group_sum_.end(), 0.0);
  const int count = UserAt(user).count;
  for (int k = 0; k < count; ++k) {
    const Touchpoint touch = RingAt(user, k);
    const int lift = lift_index_[touch.channel * 2 + static_cast<int>(touch.kind)];
    if (lift < 0) continue;
    group_sum_[lift] += std::exp2(-static_cast<double>(now - touch.time) * inverse_half_life_[lift]);
  }
  double hazard = 0;
  if (!spec_.interactions.empty()) {  // per channel, then the interactions' multipliers (journey_truth.h)
    std::fill(channel_lift_.begin(), channel_lift_.end(), 0.0);
    std::fill(channel_present_.begin(), channel_present_.end(), 0);
  }
  for (size_t lift = 0; lift < group_sum_.size(); ++lift) {
    const double sum = group_sum_[lift];
    if (sum <= 0) continue;
    const double saturation = spec_.lifts[lift].saturation;
    // Diminishing returns: S * (1 - exp(-n / S)) grows like n for n << S and tends to S.
    const double lift_hazard = lift_rate_[lift] * (saturation > 0 ? -saturation * std::expm1(-sum / saturation) : sum);
    if (spec_.interactions.empty()) {
      hazard += lift_hazard;
    } else {
      channel_lift_[spec_.lifts[lift].channel] += lift_hazard;
      channel_present_[spec_.lifts[lift].channel] = 1;
    }
  }
  if (!spec_.interactions.empty())
    hazard = CombineChannelLifts(spec_, channel_lift_, channel_present_, &channel_multiplier_);
  return hazard;
}

void Journeys::Schedule(int64_t user, SimTime now, double hazard) {
  JourneyUser& record = UserAt(user);
  record.next_candidate = 0;
  if (!(hazard > 0)) return;
  const double at = static_cast<double>(now) - std::log(UserUniform(user)) / hazard;
  if (at >= static_cast<double>(state_.scenario.duration)) return;
  const SimTime time = std::max(now + 1, static_cast<SimTime>(at));
  record.next_candidate = time;
  record.bound = hazard;
  state_.Push(time, EventKind::kJourney, user);
}

void Journeys::Touch(const Opportunity& opportunity, const Win& win, bool click) {
  const int64_t user = user_offset_[opportunity.segment] + opportunity.user;
  const int n = spec_.touchpoints;
  JourneyUser& record = UserAt(user);
  uint64_t* ring = RingOf(user);
  const int placement = placement_base_[static_cast<size_t>(win.campaign) * state_.scenario.channels.size() +
                                        static_cast<size_t>(opportunity.channel)] +
                        win.creative;
  auto append = [&](TouchKind kind) {
    ring[record.head] = PackTouch(opportunity.time, kind, placement);
    record.head = static_cast<uint16_t>((record.head + 1) % n);
    if (record.count < n) ++record.count;
  };
  append(TouchKind::kView);
  if (click) append(TouchKind::kClick);
  if (spec_.lifts.empty()) return;
  Schedule(user, opportunity.time, IncrementalHazard(user, opportunity.time));
}

bool Journeys::InWindow(const Touchpoint& touch, SimTime now) const {
  const SimTime age = now - touch.time;
  return age >= 0 && age <= (touch.kind == TouchKind::kClick ? spec_.click_through_window : spec_.view_through_window);
}

std::string Journeys::PathText(int64_t user, SimTime after, SimTime now, int* touches, bool campaign_names) const {
  std::string path;
  *touches = 0;
  const int count = UserAt(user).count;
  for (int k = 0; k < count; ++k) {
    const Touchpoint touch = RingAt(user, k);
    if (touch.time <= after || !InWindow(touch, now)) continue;
    if (touch.kind == TouchKind::kView && k + 1 < count) {  // a clicked impression counts once, as its click
      const Touchpoint next = RingAt(user, k + 1);
      if (next.kind == TouchKind::kClick && next.time == touch.time && next.campaign == touch.campaign &&
          InWindow(next, now))
        continue;
    }
    if (!path.empty()) path += " > ";
    path +=
        campaign_names ? state_.scenario.campaigns[touch.campaign].name : state_.scenario.channels[touch.channel].name;
    ++*touches;
  }
  return path;
}

double Journeys::DrawValue(int segment, double first_uniform, double second_uniform) const {
  const SegmentSpec& spec = state_.scenario.segments[segment];
  if (spec.value_dist != ValueDist::kLognormal) return spec.value_mean;
  // Box-Muller from two of the user's uniforms; mean-preserving: E[value] = value_mean.
  const double normal = std::sqrt(-2.0 * std::log(first_uniform)) * std::cos(2.0 * M_PI * second_uniform);
  return spec.value_mean * std::exp(spec.value_sigma * normal - 0.5 * spec.value_sigma * spec.value_sigma);
}

int Journeys::CreditedTouch(int64_t user, SimTime now) const {
  int credited = -1;
  const int count = UserAt(user).count;
  for (int k = count - 1; k >= 0 && credited < 0; --k) {
    const Touchpoint touch = RingAt(user, k);
    if (touch.kind == TouchKind::kClick && InWindow(touch, now)) credited = k;
  }
  for (int k = count - 1; k >= 0 && credited < 0; --k) {
    const Touchpoint touch = RingAt(user, k);
    if (touch.kind == TouchKind::kView && InWindow(touch, now)) credited = k;
  }
  return credited;
}

bool Journeys::PassesFunnel(int64_t user, int segment, SimTime now, CreditedConversion* credit) {
  ++funnel_arrivals_;
  // The arrival lands through the touch a platform credits (the same touch in every
  // counterfactual of the truth, which keeps the delivery and removes only lift).
  const int landing = CreditedTouch(user, now);
  size_t cell_stage = 0, shock_stage = 0;
  int channel_segment = -1;
  if (landing >= 0) {
    const Touchpoint touch = RingAt(user, landing);
    channel_segment = state_.ChannelSegment(touch.channel, segment);
    credit->funnel_cell = state_.Cell(touch.campaign, channel_segment, touch.creative);
    cell_stage = static_cast<size_t>(credit->funnel_cell) * kFunnelStages;
    shock_stage = static_cast<size_t>(channel_segment) * kFunnelStages;
  }
  for (int stage = 0; stage < kFunnelStages; ++stage) {
    double rate;
    if (landing >= 0) {
      rate = state_.funnel_rate[cell_stage + stage] * state_.funnel_multiplier[shock_stage + stage];
      if (stage == kPurchase) rate *= state_.cvr_multiplier[channel_segment];
    } else {  // a direct visit: the segment's rates, the shocks on every channel
      rate = state_.scenario.funnel->rates[segment][stage] *
             state_.funnel_direct_multiplier[static_cast<size_t>(segment) * kFunnelStages + stage];
    }
    if (!(UserUniform(user) < rate)) return false;
    credit->funnel_stages = stage + 1;
    if (stage == kVisit) ++funnel_visits_;
    if (stage == kCart) ++funnel_carts_;
  }
  return true;
}

void Journeys::Convert(int64_t user, int segment, SimTime now, bool organic, int cause, CreditedConversion* credit) {
  const double first = UserUniform(user), second = UserUniform(user);
  const double value = DrawValue(segment, first, second);
  // The platform's view: the latest click in the click-through window, else the latest view in the view-through one.
  const int credited = CreditedTouch(user, now);
  const int64_t local_user = user - user_offset_[segment];
  conversions_.time->push_back(now);
  conversions_.user->push_back(local_user);
  conversions_.segment->push_back(segment);
  conversions_.organic->push_back(organic ? 1 : 0);
  conversions_.value->push_back(value);
  if (cause >= 0) {
    const Touchpoint touch = RingAt(user, cause);
    conversions_.cause_campaign->push_back(touch.campaign);
    conversions_.cause_channel->push_back(touch.channel);
    conversions_.cause_kind->push_back(KindName(touch.kind));
    conversions_.cause_time->push_back(touch.time);
  } else {
    conversions_.cause_campaign->push_back(-1);
    conversions_.cause_channel->push_back(-1);
    conversions_.cause_kind->push_back("");
    conversions_.cause_time->push_back(-1);
  }
  if (credited >= 0) {
    const Touchpoint touch = RingAt(user, credited);
    conversions_.through->push_back(KindName(touch.kind));
    conversions_.credited_campaign->push_back(touch.campaign);
    conversions_.credited_channel->push_back(touch.channel);
    credit->credited = true;
    credit->conversion = PendingConversion{touch.time,     touch.campaign, touch.channel, segment,
                                           touch.creative, local_user,     value,         UserUniform(user)};
  } else {
    conversions_.through->push_back("none");
    conversions_.credited_campaign->push_back(-1);
    conversions_.credited_channel->push_back(-1);
  }
  int touches = 0;
  conversions_.path->push_back(PathText(user, LastConversion(user), now, &touches));
  conversions_.touches->push_back(touches);
  if (truth_) {
    ReportToDashboards(user, now, value);
    truth_->AddCampaignPath(PathText(user, LastConversion(user), now, &touches, true), 1, value, 0);
  }
  UserAt(user).last_conversion_plus_one = now + 1;
  ++(organic ? organic_conversions_ : incremental_conversions_);
  if (!user_conversions_.empty()) {
    ++user_conversions_[user];
    user_value_[user] += value;
  }
}

CreditedConversion Journeys::Handle(const Event& event) {
  CreditedConversion credit;
  if (event.payload < 0) {  // an organic arrival in a segment: a uniformly drawn user of it converts
    const auto segment = static_cast<size_t>(-event.payload - 1);
    Stream& stream = organic_[segment];
    const auto users = static_cast<uint64_t>(state_.scenario.segments[segment].users);
    const auto index = static_cast<int64_t>(users <= 0xffffffffULL ? stream.Below(static_cast<uint32_t>(users))
                                                                   : stream.engine()() % users);
    const int64_t user = user_offset_[segment] + index;
    // With a funnel, only an arrival that reaches the purchase stage converts.
    if (!state_.scenario.funnel || PassesFunnel(user, static_cast<int>(segment), event.time, &credit))
      Convert(user, static_cast<int>(segment), event.time, true, -1, &credit);
    const double at = static_cast<double>(event.time) + stream.Exponential() / organic_rate_[segment];
    if (at < static_cast<double>(state_.scenario.duration))
      state_.Push(std::max(event.time + 1, static_cast<SimTime>(at)), EventKind::kJourney, event.payload);
    return credit;
  }
  const int64_t user = event.payload;
  if (UserAt(user).next_candidate != event.time) return credit;  // superseded by a later touch
  const double hazard = IncrementalHazard(user, event.time);
  // Thinning: the candidate came from the bound at the last touch or candidate;
  // accept with probability hazard / bound.
  const double threshold = UserUniform(user) * UserAt(user).bound;
  const auto segment =
      static_cast<int>(std::upper_bound(user_offset_.begin(), user_offset_.end(), user) - user_offset_.begin()) - 1;
  // With a funnel, an accepted candidate converts only when it reaches the purchase stage.
  // The stage draws and rates do not depend on the lift, so every counterfactual of the
  // truth shares them: a candidate that stops at a stage converts in none of them.
  if (threshold < hazard && (!state_.scenario.funnel || PassesFunnel(user, segment, event.time, &credit))) {
    // The touchpoint that caused it, with probability proportional to its share
    // of the hazard: its lift's share f(n) times its weight in n.
    double target = UserUniform(user) * hazard;
    int cause = -1;
    for (int k = 0; k < UserAt(user).count; ++k) {
      const Touchpoint touch = RingAt(user, k);
      const int lift = lift_index_[touch.channel * 2 + static_cast<int>(touch.kind)];
      if (lift < 0) continue;
      const double sum = group_sum_[lift];
      const double saturation = spec_.lifts[lift].saturation;
      double share = lift_rate_[lift] * (saturation > 0 ? -saturation * std::expm1(-sum / saturation) : sum);
      if (!spec_.interactions.empty()) share *= channel_multiplier_[touch.channel];  // its interactions' boost
      cause = k;
      target -= share * std::exp2(-static_cast<double>(event.time - touch.time) * inverse_half_life_[lift]) / sum;
      if (target <= 0) break;
    }
    if (truth_) {
      // The counterfactuals re-evaluate this candidate with the same threshold (journey_truth.h):
      // keep its decayed touch counts per lift and campaign.
      std::vector<double>& sums = truth_->ZeroedSums();
      const auto campaigns = static_cast<int>(state_.scenario.campaigns.size());
      for (int k = 0; k < UserAt(user).count; ++k) {
        const Touchpoint touch = RingAt(user, k);
        const int lift = lift_index_[touch.channel * 2 + static_cast<int>(touch.kind)];
        if (lift < 0) continue;
        sums[static_cast<size_t>(lift) * campaigns + touch.campaign] +=
            std::exp2(-static_cast<double>(event.time - touch.time) * inverse_half_life_[lift]);
      }
    }
    Convert(user, segment, event.time, false, cause, &credit);
    if (truth_) {
      const int cause_channel = cause >= 0 ? RingAt(user, cause).channel : -1;
      const int cause_campaign = cause >= 0 ? RingAt(user, cause).campaign : -1;
      truth_->AddIncremental(threshold, conversions_.value->back(), cause_channel, cause_campaign);
    }
  }
  Schedule(user, event.time, hazard);
  return credit;
}

void Journeys::Finish() {
  std::map<std::string, int64_t> nulls;
  const SimTime end = state_.scenario.duration;
  for (int64_t user = 0; user < user_offset_.back(); ++user) {
    if (UserAt(user).count == 0) continue;
    int touches = 0;
    std::string path = PathText(user, LastConversion(user), end, &touches);
    if (touches > 0) ++nulls[path];
  }
  for (const auto& [path, users] : nulls) {
    paths_.path->push_back(path);
    paths_.users->push_back(users);
  }
  if (truth_) {
    for (int64_t user = 0; user < user_offset_.back(); ++user) {
      if (UserAt(user).count == 0) continue;
      int touches = 0;
      const std::string path = PathText(user, LastConversion(user), end, &touches, true);
      if (touches > 0) truth_->AddCampaignPath(path, 0, 0, 1);
    }
    truth_->Finish();
  }
  const std::vector<attribution::ChannelHoldout> holdout = HoldoutCounts();
  for (size_t row = 0; row < holdout.size(); ++row) {
    const attribution::ChannelHoldout& counts = holdout[row];
    holdout_.channel->push_back(state_.scenario.ChannelIndex(counts.channel));
    holdout_.held_out_users->push_back(counts.held_out.users);
    holdout_.held_out_conversions->push_back(counts.held_out.conversions);
    holdout_.held_out_conversions_sq->push_back(counts.held_out.conversions_sq);
    holdout_.held_out_value->push_back(counts.held_out.value);
    holdout_.held_out_value_sq->push_back(counts.held_out.value_sq);
    holdout_.exposed_users->push_back(counts.exposed.users);
    holdout_.exposed_conversions->push_back(counts.exposed.conversions);
    holdout_.exposed_conversions_sq->push_back(counts.exposed.conversions_sq);
    holdout_.exposed_value->push_back(counts.exposed.value);
    holdout_.exposed_value_sq->push_back(counts.exposed.value_sq);
  }
}

void Journeys::ReportToDashboards(int64_t user, SimTime now, double value) {
  for (int channel = 0; channel < static_cast<int>(state_.scenario.channels.size()); ++channel) {
    int claimed = -1;
    for (int k = UserAt(user).count - 1; k >= 0 && claimed < 0; --k) {
      const Touchpoint touch = RingAt(user, k);
      if (touch.channel == channel && touch.kind == TouchKind::kClick && InWindow(touch, now)) claimed = touch.campaign;
    }
    for (int k = UserAt(user).count - 1; k >= 0 && claimed < 0; --k) {
      const Touchpoint touch = RingAt(user, k);
      if (touch.channel == channel && touch.kind == TouchKind::kView && InWindow(touch, now)) claimed = touch.campaign;
    }
    if (claimed >= 0) truth_->Report(channel, claimed, value);
  }
}

std::vector<attribution::ChannelHoldout> Journeys::HoldoutCounts() const {
  std::vector<attribution::ChannelHoldout> out;
  for (size_t channel = 0; channel < holdout_threshold_.size(); ++channel) {
    if (holdout_threshold_[channel] == 0) continue;
    attribution::ChannelHoldout counts;
    counts.channel = state_.scenario.channels[channel].name;
    for (int64_t user = 0; user < user_offset_.back(); ++user) {
      attribution::HoldoutGroup& group =
          HoldoutDraw(user, static_cast<int>(channel)) < holdout_threshold_[channel] ? counts.held_out : counts.exposed;
      const auto conversions = static_cast<double>(user_conversions_[user]);
      group.users += 1;
      group.conversions += conversions;
      group.conversions_sq += conversions * conversions;
      group.value += user_value_[user];
      group.value_sq += user_value_[user] * user_value_[user];
    }
    out.push_back(counts);
  }
  return out;
}

attribution::PathData Journeys::PathsSoFar(SimTime now) const {
  std::map<std::string, int64_t> nulls;
  for (int64_t user = 0; user < user_offset_.back(); ++user) {
    if (UserAt(user).count == 0) continue;
    int touches = 0;
    std::string path = PathText(user, LastConversion(user), now, &touches);
    if (touches > 0) ++nulls[path];
  }
  std::vector<std::string> null_paths;
  std::vector<int64_t> null_users;
  for (const auto& [path, users] : nulls) {
    null_paths.push_back(path);
    null_users.push_back(users);
  }
  attribution::PathData data =
      attribution::PathsFromLists(*conversions_.path, *conversions_.value, null_paths, null_users);
  data.holdout = HoldoutCounts();
  for (const auto& channel : data.holdout) data.ChannelIndex(channel.channel);
  return data;
}

}  // namespace adsim::engine

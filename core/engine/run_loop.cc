// The opportunity loop (run_loop.h): the merge loop, ProcessOpportunity and
// event dispatch. Hot: keep what runs per opportunity in this file or inline.
// May not touch: campaign settings, components other than bidders, the registry.
#include "core/engine/run_loop.h"

#include <algorithm>
#include <cmath>

namespace adsim::engine {

RunLoop::RunLoop(RunState& state, Recorder& recorder, AuctionInsights& insights, Experiments& experiments,
                 Shocks& shocks, ControlCycle& cycle, ActionApplier& applier, UserResponse& response,
                 Journeys* journeys)
    : state_(state),
      recorder_(recorder),
      insights_(insights),
      experiments_(experiments),
      shocks_(shocks),
      cycle_(cycle),
      applier_(applier),
      response_(response),
      journeys_(journeys) {
  ours_.resize(state.num_campaigns);
  auction_work_.resize(state.num_campaigns + kMaxSlots);
  our_bid_.resize(state.num_campaigns);
  request_counts_.resize(state.num_cells);
  hot_.resize(state.num_campaigns);
  batch_.resize(64);  // small enough to stay in L1
}

// The oracle's bid: the true expected value of the impression (of the click
// on click-billed channels) to the campaign, scaled by how far a pacing
// controller moved the campaign's bid from its initial value.
// With RunOptions::oracle_all_multiplier every campaign bids that multiplier
// times the true conversion probability instead (no value, no pacing scale);
// with oracle_all_cell_truth, on the cell's rates and the live shocks only.
// Without oracle_user_truth (either kind of oracle), without the user's own
// propensity and conversion shift, but with the creative's fatigue.
double RunLoop::OracleBid(int campaign, int cell, int channel_segment, const Opportunity& opportunity,
                          bool click_billing) {
  const CampaignRuntime& runtime = state_.campaigns[campaign];
  const CampaignSpec& spec = state_.scenario.campaigns[campaign];
  const double all_multiplier = state_.options.oracle_all_multiplier;
  const bool per_impression = !(all_multiplier > 0 && state_.options.oracle_all_cell_truth);  // fatigue
  const bool per_user = per_impression && state_.options.oracle_user_truth;  // propensity, conversion shift
  const double unit = all_multiplier > 0            ? all_multiplier
                      : spec.goal == GoalKind::kCpa ? spec.goal_value
                                                    : state_.scenario.segments[opportunity.segment].value_mean;
  double cvr = state_.true_cvr[cell] * state_.cvr_multiplier[channel_segment];
  if (per_user && !state_.users.conversion_shift.empty())  // the user's own rate (user_features.h)
    cvr = state_.users.ConversionProbability(cvr, opportunity.segment, opportunity.user);
  double value = cvr * unit;
  if (!state_.funnel_multiplier.empty())  // a funnel stage's shock moves the conversion rate too
    for (int stage = 0; stage < kFunnelStages; ++stage)
      value *= state_.funnel_multiplier[static_cast<size_t>(channel_segment) * kFunnelStages + stage];
  if (!click_billing) {
    double ctr = state_.true_ctr[cell] * state_.ctr_multiplier[channel_segment] *
                 state_.scenario.channels[opportunity.channel].click_factors[0];
    if (per_user) ctr *= opportunity.Propensity();
    if (per_impression && state_.HasFatigue(cell))
      ctr *= state_.fatigue[state_.fatigue_index[cell]].Factor(opportunity.time);
    value *= ctr;
  }
  if (all_multiplier > 0) return value;
  return runtime.state.initial_bid > 0 ? value * runtime.state.bid / runtime.state.initial_bid : value;
}

void RunLoop::FoldRequestCounts() {
  for (int cell = 0; cell < state_.num_cells; ++cell) {
    RequestCounts& counts = request_counts_[cell];
    state_.total[cell].requests += counts.requests;
    state_.total[cell].bids += counts.bids;
    counts = {};
  }
}

void RunLoop::RefreshHotCampaigns() {
  for (int campaign = 0; campaign < state_.num_campaigns; ++campaign) {
    CampaignRuntime& runtime = state_.campaigns[campaign];
    HotCampaign& hot = hot_[campaign];
    hot.runtime = &runtime;
    hot.active_creatives = runtime.active_creatives.data();
    hot.segment_modifier = runtime.state.segment_modifier.data();
    hot.max_bid = state_.scenario.campaigns[campaign].guardrails.max_bid;
    hot.campaign_left = runtime.ledger.Remaining();
    hot.cell_offset = state_.cell_offset[campaign];
    hot.num_creatives = state_.num_creatives[campaign];
    hot.active = runtime.state.paused ? 0 : static_cast<int>(runtime.active_creatives.size());
    hot.first_creative = hot.active > 0 ? runtime.active_creatives[0] : -1;
    hot.weighted = runtime.weighted;
    hot.is_arm = experiments_.IsArm(campaign);
    hot.oracle = campaign == state_.oracle_campaign || state_.options.oracle_all_multiplier > 0;
  }
}

// Opportunities come in time order, so the hour changes about once per
// simulated hour; an earlier time (never seen, but cheap to handle) recomputes.
int RunLoop::HourOfDay(SimTime time) {
  if (time >= hour_end_ || time < hour_start_) {
    const SimTime since_midnight = (time + state_.scenario.start_offset_in_day) % kMicrosPerDay;
    hour_of_day_ = static_cast<int>(since_midnight / kMicrosPerHour);
    hour_start_ = time - since_midnight % kMicrosPerHour;
    hour_end_ = hour_start_ + kMicrosPerHour;
  }
  return hour_of_day_;
}

void RunLoop::ProcessOpportunity(const Opportunity& opportunity) {
  ++state_.opportunities;
  const int channel_segment = state_.ChannelSegment(opportunity.channel, opportunity.segment);
  ++state_.market_total[channel_segment];
  const ChannelSpec& channel = state_.scenario.channels[opportunity.channel];
  const bool click_billing = channel.billing == Billing::kClick;
  if (click_billing) state_.platform_quality.Advance(opportunity.time);
  BidRequest request;
  request.time = opportunity.time;
  request.channel = opportunity.channel;
  request.segment = opportunity.segment;
  request.user = opportunity.user;
  request.hour_of_day = HourOfDay(opportunity.time);
  request.floor = channel.floor;
  if (state_.users.enabled()) request.features = state_.users.Row(opportunity.segment, opportunity.user);
  int bidders = 0;
  bool any_budget_cut = false;  // one of our bids was cut by a remaining budget
  // What the account can still spend on this opportunity: each of our bids
  // takes its capped amount out of it, so that several of our campaigns
  // winning slots of one auction cannot together pass the account cap.
  Micros account_left = state_.account.Remaining();
  // A user held out of this channel (journeys.holdout) is shown none of our ads here.
  const int e_end = state_.eligible_offset[channel_segment + 1];
  const int e_begin = journeys_ && journeys_->HeldOut(opportunity) ? e_end : state_.eligible_offset[channel_segment];
  const bool audiences = !state_.users.audiences.empty();
  for (int e = e_begin; e < e_end; ++e) {
    const int campaign = state_.eligible[e];
    const HotCampaign& hot = hot_[campaign];
    const int active = hot.active;
    if (active == 0) continue;  // paused, or no creative to show
    if (hot.is_arm && !experiments_.ServesArm(campaign, opportunity)) continue;
    CampaignRuntime& runtime = *hot.runtime;
    int creative;
    if (active == 1) {
      creative = hot.first_creative;
    } else if (!hot.weighted) {
      creative = hot.active_creatives[runtime.creative_stream.Below(active)];
    } else {  // inversion on the cumulative weights: no allocation, O(log active)
      const double x = runtime.creative_stream.Uniform() * runtime.creative_cumulative[active - 1];
      const int i =
          static_cast<int>(std::upper_bound(runtime.creative_cumulative.begin(), runtime.creative_cumulative.end(), x) -
                           runtime.creative_cumulative.begin());
      creative = runtime.active_creatives[std::min(i, active - 1)];
    }
    const int cell = hot.cell_offset + channel_segment * hot.num_creatives + creative;  // RunState::Cell
    ++request_counts_[cell].requests;
    // The campaign's own budget runs out when it can no longer pay the bid it
    // wants (or anything at all); the account cap is not the campaign's budget.
    const Micros campaign_left = hot.campaign_left;  // runtime.ledger.Remaining()
    const Micros remaining = std::min(campaign_left, account_left);
    if (remaining <= 0) {
      if (campaign_left <= 0 && runtime.budget_exhausted_today < 0) runtime.budget_exhausted_today = opportunity.time;
      insights_.CountBudgetLimited(campaign, opportunity.channel);
      continue;
    }
    request.creative = creative;
    double bid = (hot.oracle ? OracleBid(campaign, cell, channel_segment, opportunity, click_billing)
                             : runtime.bidder->Bid(request, runtime.state)) *
                 hot.segment_modifier[opportunity.segment];
    if (audiences)
      bid *= state_.users.BidModifier(state_.scenario.campaigns[campaign], opportunity.segment, opportunity.user);
    if (!(bid > 0)) continue;
    if (bid > hot.max_bid) bid = hot.max_bid;
    const Micros asked_micros = UnitsToMicrosFloor(bid);
    if (asked_micros > campaign_left && runtime.budget_exhausted_today < 0)
      runtime.budget_exhausted_today = opportunity.time;
    const Micros bid_micros = std::min(asked_micros, remaining);
    if (bid_micros <= 0) continue;
    const bool budget_cut = bid_micros < asked_micros;
    bid = MicrosToUnits(bid_micros);
    // On click-billed channels the floor is a reserve price per click.
    if (click_billing && bid < channel.floor) {
      if (budget_cut) insights_.CountBudgetLimited(campaign, opportunity.channel);
      continue;
    }
    double quality = click_billing ? state_.true_ctr[cell] * state_.platform_quality.Multiplier(channel_segment) : 1.0;
    // A log replay ranks a click bid by the logged quality when the log has one (docs/replay.md).
    if (click_billing && opportunity.logged && opportunity.logged->quality > 0)
      quality = opportunity.logged->quality;
    else if (click_billing && state_.HasFatigue(cell))
      quality *= state_.fatigue[state_.fatigue_index[cell]].Factor(opportunity.time);
    ++request_counts_[cell].bids;
    account_left -= bid_micros;
    ours_[bidders++] = {bid * quality, campaign};
    our_bid_[campaign] = {cell, bid, bid_micros, quality, creative, budget_cut};
    any_budget_cut |= budget_cut;
  }
  // RunOptions::oracle_all_multiplier (a bench reference, off in every
  // scenario): the highest score alone bids, the first of equal ones. Pruned
  // here, not in the loop, so that runs without it pay one test per
  // opportunity. The reference runs with no budget or account cap, so no
  // bid above was cut by what a pruned one took from account_left.
  if (bidders > 1 && state_.options.oracle_all_multiplier > 0) {
    int best = 0;
    for (int i = 1; i < bidders; ++i)
      if (ours_[i].score > ours_[best].score) best = i;
    for (int i = 0; i < bidders; ++i)
      if (i != best) --request_counts_[our_bid_[ours_[i].bidder].cell].bids;
    ours_[0] = ours_[best];
    bidders = 1;
  }
  int won = 0;
  // Auction insights: how many competitors' ads were shown (filled slots not ours).
  int competitors_shown = 0;
  if (bidders > 0) {
    double competing[kMaxSlots];  // exponentiated only now that one of ours bids
    for (int j = 0; j < channel.slots; ++j) competing[j] = opportunity.CompetingBid(j);
    const double auction_floor = click_billing ? 0.0 : channel.floor;
    // ours_ lists the bidders in campaign order (state_.eligible is), as the
    // one-slot auction in order needs.
    won = channel.slots == 1
              ? RunOneSlotAuctionInOrder(channel.auction, auction_floor, competing, 1, ours_.data(), bidders, wins_)
              : RunAuction(channel.auction, channel.slots, auction_floor, competing, channel.slots, ours_.data(),
                           bidders, auction_work_.data(), wins_);
    if (won > 0 && channel.slots > 1) {
      // The auction fills min(valid candidates, slots) slots in rank order.
      int valid = 0;
      for (int j = 0; j < channel.slots; ++j) valid += competing[j] >= auction_floor && competing[j] > 0 ? 1 : 0;
      for (int i = 0; i < bidders; ++i) valid += ours_[i].score >= auction_floor && ours_[i].score > 0 ? 1 : 0;
      competitors_shown = std::min(valid, channel.slots) - won;
    }
    if (any_budget_cut) {
      // A bid the budget cut and that then won no slot is a budget loss.
      for (int i = 0; i < bidders; ++i) {
        const int campaign = ours_[i].bidder;
        if (!our_bid_[campaign].budget_cut) continue;
        bool won_slot = false;
        for (int w = 0; w < won; ++w) won_slot |= wins_[w].bidder == campaign;
        if (!won_slot) insights_.CountBudgetLimited(campaign, opportunity.channel);
      }
    }
  }
  bool first_click = false;
  Micros first_price = 0;
  for (int w = 0; w < won; ++w) {
    const SlotWin& slot_win = wins_[w];
    const int campaign = slot_win.bidder;
    const OurBid& ours = our_bid_[campaign];
    CampaignRuntime& runtime = state_.campaigns[campaign];
    // Price in billing units (per impression, or per click), never above the capped bid.
    double price = channel.auction == AuctionType::kFirstPrice ? ours.bid : slot_win.price_score / ours.quality;
    if (click_billing && price < channel.floor) price = channel.floor;
    const Micros price_micros = std::min(static_cast<Micros>(std::llround(price * kMicrosPerUnit)), ours.bid_micros);
    CellCounters& counters = state_.total[ours.cell];
    ++counters.wins;
    // Wins come in slot order: slot - w of the slots above this one hold competitors' ads.
    insights_.CountImpression(campaign, opportunity.channel, slot_win.slot, competitors_shown, slot_win.slot - w);
    UserCounts* const user = experiments_.user_row[campaign];
    if (user) ++user->impressions;
    auto charge = [&] {
      runtime.ledger.Charge(price_micros, opportunity.time);
      hot_[campaign].campaign_left = runtime.ledger.Remaining();
      state_.account.Charge(price_micros, opportunity.time);
      counters.spend += price_micros;
      runtime.state.spend_today = MicrosToUnits(runtime.ledger.spend_today());  // bidders see spend as it happens
      runtime.state.spend_total = MicrosToUnits(runtime.ledger.spend_total());
    };
    if (!click_billing) charge();
    const Win win{campaign, ours.cell, ours.creative, slot_win.slot, channel_segment};
    const Response response = response_.Respond(opportunity, win);
    if (journeys_) journeys_->Touch(opportunity, win, response.click);
    if (w == 0) {
      first_click = response.click;
      first_price = price_micros;
    }
    if (response.click) {
      ++counters.clicks;
      if (user) ++user->clicks;
      if (state_.users.enabled()) ++state_.users.clicks[opportunity.segment][static_cast<size_t>(opportunity.user)];
      if (click_billing) charge();
      if (response.funnel_stages > kVisit) ++counters.visits;
      if (response.funnel_stages > kCart) ++counters.carts;
      if (response.funnel_stages > kPurchase) ++counters.purchases;
      if (response.converts) ScheduleConversion(opportunity, win, response);
    }
  }
  if (won > 0) {
    recorder_.RecordOpportunity(opportunity, bidders, wins_[0].bidder, our_bid_[wins_[0].bidder].creative,
                                wins_[0].slot, first_price, first_click,
                                click_billing ? our_bid_[wins_[0].bidder].quality : 0.0);
  } else {
    recorder_.RecordOpportunity(opportunity, bidders, -1, -1, -1, 0, false, 0.0);
  }
}

void RunLoop::ScheduleConversion(const Opportunity& opportunity, const Win& win, const Response& response) {
  const PendingConversion conversion{opportunity.time, win.campaign,     opportunity.channel, opportunity.segment,
                                     win.creative,     opportunity.user, response.value,      response.tracking_draw};
  const double at = static_cast<double>(opportunity.time) + std::max(1.0, response.delay_us);
  const SimTime duration = state_.scenario.duration;
  const SimTime arrival = at >= static_cast<double>(duration) ? duration + 1 : static_cast<SimTime>(at);
  if (arrival >= duration) {  // after the end: truth only, never seen by the advertiser
    FinishConversion(conversion, static_cast<SimTime>(std::min(at, 9.0e18)), false);
    return;
  }
  int64_t index;
  if (!state_.free_pending.empty()) {
    index = state_.free_pending.back();
    state_.free_pending.pop_back();
    state_.pending[index] = conversion;
  } else {
    index = static_cast<int64_t>(state_.pending.size());
    state_.pending.push_back(conversion);
  }
  state_.Push(arrival, EventKind::kConversion, index);
}

// A conversion leaves the run: counted in the truth totals and recorded.
void RunLoop::FinishConversion(const PendingConversion& conversion, SimTime arrival, bool reported) {
  state_.truth_conversions[conversion.campaign] += 1;
  state_.truth_value[conversion.campaign] += conversion.value;
  recorder_.RecordConversion(conversion, arrival, reported);
}

void RunLoop::StartDay(SimTime now) {
  recorder_.CloseDay(state_.day_start);
  insights_.CloseDay(state_.day_start);
  state_.day_start = now;
  state_.account.StartDay();
  for (auto& runtime : state_.campaigns) {
    runtime.ledger.StartDay();
    runtime.state.spend_today = 0;
    runtime.max_daily_budget_today = runtime.ledger.daily_budget();
    runtime.budget_exhausted_today = -1;
  }
  state_.day_base = state_.total;
  if (now + kMicrosPerDay < state_.scenario.duration) state_.Push(now + kMicrosPerDay, EventKind::kDayStart, 0);
}

void RunLoop::ArriveConversion(const Event& event) {
  const PendingConversion conversion = state_.pending[event.payload];
  state_.free_pending.push_back(event.payload);
  BookConversion(conversion, event.time);
}

void RunLoop::BookConversion(const PendingConversion& conversion, SimTime now) {
  const int channel_segment = state_.ChannelSegment(conversion.channel, conversion.segment);
  const bool reported = conversion.tracking_draw < state_.tracking[channel_segment];
  if (reported) {
    CellCounters& counters = state_.total[state_.Cell(conversion.campaign, channel_segment, conversion.creative)];
    ++counters.conversions;
    counters.value += conversion.value;
    counters.value_sq += conversion.value * conversion.value;
    if (experiments_.IsArm(conversion.campaign)) experiments_.CountConversion(conversion);
    if (state_.users.enabled()) ++state_.users.conversions[conversion.segment][static_cast<size_t>(conversion.user)];
  }
  FinishConversion(conversion, now, reported);
}

void RunLoop::HandleEvent(const Event& event) {
  switch (event.kind) {
    case EventKind::kDayStart:
      StartDay(event.time);
      break;
    case EventKind::kShockStart:
    case EventKind::kShockEnd:
    case EventKind::kShockStep:
      shocks_.Handle(event);
      break;
    case EventKind::kConversion:
      ArriveConversion(event);
      break;
    case EventKind::kJourney:
      if (journeys_) {
        const CreditedConversion credit = journeys_->Handle(event);
        if (credit.funnel_cell >= 0) {  // journeys with a funnel: the stages, in the landing touch's cell
          CellCounters& counters = state_.total[credit.funnel_cell];
          if (credit.funnel_stages > kVisit) ++counters.visits;
          if (credit.funnel_stages > kCart) ++counters.carts;
          if (credit.funnel_stages > kPurchase) ++counters.purchases;
        }
        if (credit.credited) BookConversion(credit.conversion, event.time);
      }
      break;
    case EventKind::kReview:
      applier_.DecideReview(event.time, event.payload);
      break;
    case EventKind::kCycle:
      cycle_.Run(event.time);
      if (event.time + state_.scenario.control_cycle < state_.scenario.duration)
        state_.Push(event.time + state_.scenario.control_cycle, EventKind::kCycle, 0);
      break;
  }
}

// Processes, in time order, every opportunity before the horizon. A
// conversion scheduled meanwhile that arrives before the horizon lowers it
// (RunState::Push), so the loop stops there: the conversion is handled at its
// time, before the opportunities after it and before its bucket is written.
// Opportunities already drawn past the lowered horizon wait in the batch for
// the next round. They stay valid: the market changes only at shock events,
// which were in the heap, hence at or after the horizon, when they were drawn.
void RunLoop::ProcessOpportunitiesBeforeHorizon(InterruptPoller& interrupt) {
  for (;;) {
    interrupt.Poll();  // once per batch of 64 opportunities
    while (batch_next_ < batch_size_) {
      const Opportunity& opportunity = batch_[batch_next_];
      if (opportunity.time >= state_.horizon) return;
      ++batch_next_;
      ProcessOpportunity(opportunity);
    }
    if (state_.horizon <= market_drained_until_) return;
    batch_size_ = state_.market->Generate(state_.horizon, batch_.data(), batch_.size());
    batch_next_ = 0;
    if (batch_size_ < batch_.size()) market_drained_until_ = state_.horizon;
    if (batch_size_ == 0) return;
  }
}

void RunLoop::Run() {
  const Scenario& scenario = state_.scenario;
  experiments_.RebuildArms();
  // Sparse events known up front.
  const SimTime first_midnight = kMicrosPerDay - scenario.start_offset_in_day;
  if (first_midnight < scenario.duration) state_.Push(first_midnight, EventKind::kDayStart, 0);
  shocks_.ScheduleAll();
  // The first control cycle runs at t = 0, before any opportunity, so
  // controllers can set their opening bids and budgets.
  state_.Push(0, EventKind::kCycle, 0);
  if (journeys_) journeys_->Start();
  SimTime bucket_start = 0;
  const SimTime end = scenario.duration;
  InterruptPoller interrupt(state_.options.cancel, &state_.options.check_interrupt);
  for (;;) {
    interrupt.Poll();
    const SimTime next_event = state_.events.empty() ? kNever : state_.events.Top().time;
    state_.horizon = std::min({next_event, bucket_start + scenario.bucket, end});
    RefreshHotCampaigns();                         // the events at the last horizon may have changed them
    ProcessOpportunitiesBeforeHorizon(interrupt);  // may lower the horizon to a conversion's arrival
    FoldRequestCounts();                           // before the bucket, the day or a control cycle reads state_.total
    const SimTime horizon = state_.horizon;
    if (horizon >= end) break;
    if (bucket_start + scenario.bucket == horizon) {
      recorder_.FlushBucket(bucket_start);
      bucket_start = horizon;
    }
    while (!state_.events.empty() && state_.events.Top().time == horizon) {
      const Event event = state_.events.Pop();
      HandleEvent(event);
    }
  }
  recorder_.FlushBucket(bucket_start);
  recorder_.CloseDay(state_.day_start);
  insights_.CloseDay(state_.day_start);
  // Nothing is left pending: conversions due after the end were recorded as
  // unreported truth when they were scheduled.
}

}  // namespace adsim::engine

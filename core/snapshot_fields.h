// The one list of the fields a strategy reads each control cycle: every field
// of Snapshot, CampaignState, Alert and ObservedStats (core/strategy.h), by
// name, for code that must show all of them, such as the Python view of the
// snapshot (python/bindings/snapshot.cc) and its parity test. Adding a field
// to one of those structs without listing it here fails to compile: the
// static_asserts below count each struct's fields and the names listed.
// It includes only core/strategy.h and holds no logic of the engine.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "core/strategy.h"

namespace adsim {

// SnapshotFields<Struct>::ForEach(visit) calls visit(name, &Struct::member)
// for every field of Struct, in declaration order.
template <class Struct>
struct SnapshotFields;

template <>
struct SnapshotFields<ObservedStats> {
  static constexpr const char* kName = "ObservedStats";
  template <class Visit>
  static constexpr void ForEach(Visit&& visit) {
    visit("requests", &ObservedStats::requests);
    visit("bids", &ObservedStats::bids);
    visit("impressions", &ObservedStats::impressions);
    visit("clicks", &ObservedStats::clicks);
    visit("conversions", &ObservedStats::conversions);
    visit("conversion_value", &ObservedStats::conversion_value);
    visit("conversion_value_sq", &ObservedStats::conversion_value_sq);
    visit("spend", &ObservedStats::spend);
    visit("visits", &ObservedStats::visits);
    visit("carts", &ObservedStats::carts);
  }
};

template <>
struct SnapshotFields<CampaignState> {
  static constexpr const char* kName = "CampaignState";
  template <class Visit>
  static constexpr void ForEach(Visit&& visit) {
    visit("name", &CampaignState::name);
    visit("bid", &CampaignState::bid);
    visit("initial_bid", &CampaignState::initial_bid);
    visit("daily_budget", &CampaignState::daily_budget);
    visit("total_budget", &CampaignState::total_budget);
    visit("spend_today", &CampaignState::spend_today);
    visit("spend_total", &CampaignState::spend_total);
    visit("paused", &CampaignState::paused);
    visit("segment_modifier", &CampaignState::segment_modifier);
    visit("creative_paused", &CampaignState::creative_paused);
    visit("creative_weight", &CampaignState::creative_weight);
    visit("goal", &CampaignState::goal);
    visit("goal_value", &CampaignState::goal_value);
  }
};

template <>
struct SnapshotFields<Alert> {
  static constexpr const char* kName = "Alert";
  template <class Visit>
  static constexpr void ForEach(Visit&& visit) {
    visit("time", &Alert::time);
    visit("monitor", &Alert::monitor);
    visit("campaign", &Alert::campaign);
    visit("channel", &Alert::channel);
    visit("segment", &Alert::segment);
    visit("creative", &Alert::creative);
    visit("metric", &Alert::metric);
    visit("value", &Alert::value);
    visit("expected", &Alert::expected);
    visit("score", &Alert::score);
    visit("severity", &Alert::severity);
    visit("message", &Alert::message);
  }
};

template <>
struct SnapshotFields<Snapshot> {
  static constexpr const char* kName = "Snapshot";
  template <class Visit>
  static constexpr void ForEach(Visit&& visit) {
    visit("time", &Snapshot::time);
    visit("day_start", &Snapshot::day_start);
    visit("control_cycle", &Snapshot::control_cycle);
    visit("num_channels", &Snapshot::num_channels);
    visit("num_segments", &Snapshot::num_segments);
    visit("num_creatives", &Snapshot::num_creatives);
    visit("cell_offset", &Snapshot::cell_offset);
    visit("campaigns", &Snapshot::campaigns);
    visit("total", &Snapshot::total);
    visit("last_cycle", &Snapshot::last_cycle);
    visit("today", &Snapshot::today);
    visit("hourly_traffic_share", &Snapshot::hourly_traffic_share);
    visit("channel_names", &Snapshot::channel_names);
    visit("segment_names", &Snapshot::segment_names);
    visit("creative_names", &Snapshot::creative_names);
    visit("alerts", &Snapshot::alerts);
  }
};

namespace snapshot_fields_detail {

// Converts to any type, in unevaluated contexts only: Struct{AnyField{} x N}
// compiles exactly when Struct is an aggregate with at least N fields (none of
// the four structs has a C array or nested aggregate member, where brace
// elision would make this count wrong).
struct AnyField {
  template <class T>
  constexpr operator T() const;  // never defined
};

template <class Struct, class Indices, class = void>
struct BraceConstructible : std::false_type {};
template <class Struct, std::size_t... I>
struct BraceConstructible<Struct, std::index_sequence<I...>,
                          std::void_t<decltype(Struct{(static_cast<void>(I), AnyField{})...})>> : std::true_type {};

template <class Struct, std::size_t N = 0>
constexpr std::size_t CountFields() {
  if constexpr (BraceConstructible<Struct, std::make_index_sequence<N + 1>>::value) {
    return CountFields<Struct, N + 1>();
  } else {
    return N;
  }
}

template <class Struct>
constexpr std::size_t CountListed() {
  std::size_t n = 0;
  SnapshotFields<Struct>::ForEach([&n](const char*, auto) { ++n; });
  return n;
}

constexpr bool SameName(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

// True when no name is listed twice (so no member is listed twice either).
template <class Struct>
constexpr bool NamesUnique() {
  bool unique = true;
  std::size_t i = 0;
  SnapshotFields<Struct>::ForEach([&](const char* a, auto) {
    std::size_t j = 0;
    SnapshotFields<Struct>::ForEach([&](const char* b, auto) {
      if (j++ < i && SameName(a, b)) unique = false;
    });
    ++i;
  });
  return unique;
}

template <class Struct>
constexpr bool Complete() {
  static_assert(std::is_aggregate_v<Struct>, "the field count needs an aggregate");
  static_assert(CountFields<Struct>() == CountListed<Struct>(),
                "core/snapshot_fields.h must list every field of the struct (a field was added or removed)");
  static_assert(NamesUnique<Struct>(), "core/snapshot_fields.h lists a field twice");
  return true;
}

static_assert(Complete<ObservedStats>() && Complete<CampaignState>() && Complete<Alert>() && Complete<Snapshot>());

}  // namespace snapshot_fields_detail
}  // namespace adsim

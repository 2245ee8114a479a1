// Auction mechanisms: second price, first price and generalized second price
// with k slots. Pure functions on scores, shared by the engine and the tests.
//
// A score is what the auction ranks: the bid per impression, or on
// click-billed channels the bid per click times the platform's click-rate
// estimate for that ad (expected value per impression). Competitors' values
// are scores already.
//
// Owns: ranking, slot filling and pricing (hot, inline, used by run_loop.cc).
// May not touch: budgets, counters or anything outside its arguments.
#pragma once

#include "core/scenario.h"

namespace adsim {

struct Candidate {
  double score = 0.0;
  int bidder = -1;  // our campaign index; -1 for a competitor
};

struct SlotWin {
  int slot = 0;
  int bidder = 0;            // our campaign index
  double price_score = 0.0;  // price in score units (per impression)
};

// Ranks candidates whose score reaches the floor (ties: competitors first, then
// lower campaign index), fills up to `slots` slots (1 unless GSP) and prices
// each of our wins:
//  - second price / GSP: the next score below in the ranking, or the floor;
//  - first price: the winner's own score.
// `work` must hold num_ours + num_competing candidates. Returns the number of
// our wins written to `wins` (at most `slots`).
// a ranks before b: higher score; on ties competitors first, then lower index.
inline bool RanksBefore(const Candidate& a, const Candidate& b) {
  if (a.score != b.score) return a.score > b.score;
  if ((a.bidder < 0) != (b.bidder < 0)) return a.bidder < 0;
  return a.bidder < b.bidder;
}

int RunAuctionSorted(AuctionType type, int slots, double floor, const double* competing, int num_competing,
                     const Candidate* ours, int num_ours, Candidate* work, SlotWin* wins);

inline int RunAuction(AuctionType type, int slots, double floor, const double* competing, int num_competing,
                      const Candidate* ours, int num_ours, Candidate* work, SlotWin* wins) {
  if (slots == 1) {
    // One slot: a single pass keeps the best and second-best candidates,
    // the same ranking as the general path below without sorting.
    Candidate best{0.0, -2}, second{0.0, -2};
    auto offer = [&](const Candidate& c) {
      if (!(c.score >= floor && c.score > 0)) return;
      if (best.bidder == -2 || RanksBefore(c, best)) {
        second = best;
        best = c;
      } else if (second.bidder == -2 || RanksBefore(c, second)) {
        second = c;
      }
    };
    for (int i = 0; i < num_competing; ++i) offer({competing[i], -1});
    for (int i = 0; i < num_ours; ++i) offer(ours[i]);
    if (best.bidder < 0) return 0;  // nobody, or a competitor, won
    double price;
    if (type == AuctionType::kFirstPrice) {
      price = best.score;
    } else {
      price = second.bidder == -2 ? floor : second.score;
      if (price < floor) price = floor;
    }
    wins[0] = {0, best.bidder, price};
    return 1;
  }
  return RunAuctionSorted(type, slots, floor, competing, num_competing, ours, num_ours, work, wins);
}

// The one-slot auction when the candidates come in tie-break order: the
// competitors first, then ours in increasing campaign index (the run loop's
// order: eligible campaigns are listed in campaign order). A candidate then
// ranks before every earlier one exactly when its score is higher
// (RanksBefore gives a tie to the competitor, else to the lower index, which
// is the earlier candidate), so strict comparisons of scores find the same
// winner and price as RunAuction, with fewer instructions and branches.
// Precondition: `ours` in increasing bidder index.
inline int RunOneSlotAuctionInOrder(AuctionType type, double floor, const double* competing, int num_competing,
                                    const Candidate* ours, int num_ours, SlotWin* wins) {
  double best = 0.0, second = 0.0;
  int best_bidder = -2;  // -2: nobody yet; -1: a competitor
  bool has_second = false;
  auto offer = [&](double score, int bidder) {
    if (!(score >= floor && score > 0)) return;
    if (best_bidder == -2 || score > best) {
      has_second = best_bidder != -2;
      second = best;
      best = score;
      best_bidder = bidder;
    } else if (!has_second || score > second) {
      has_second = true;
      second = score;
    }
  };
  for (int i = 0; i < num_competing; ++i) offer(competing[i], -1);
  for (int i = 0; i < num_ours; ++i) offer(ours[i].score, ours[i].bidder);
  if (best_bidder < 0) return 0;  // nobody, or a competitor, won
  double price;
  if (type == AuctionType::kFirstPrice) {
    price = best;
  } else {
    price = has_second ? second : floor;
    if (price < floor) price = floor;
  }
  wins[0] = {0, best_bidder, price};
  return 1;
}

// The general path: sorts every candidate (any number of slots).
inline int RunAuctionSorted(AuctionType type, int slots, double floor, const double* competing, int num_competing,
                            const Candidate* ours, int num_ours, Candidate* work, SlotWin* wins) {
  int n = 0;
  for (int i = 0; i < num_competing; ++i)
    if (competing[i] >= floor && competing[i] > 0) work[n++] = {competing[i], -1};
  for (int i = 0; i < num_ours; ++i)
    if (ours[i].score >= floor && ours[i].score > 0) work[n++] = ours[i];
  // Insertion sort, descending; n is small (campaigns eligible + slots).
  for (int i = 1; i < n; ++i) {
    const Candidate c = work[i];
    int j = i - 1;
    while (j >= 0 && RanksBefore(c, work[j])) {
      work[j + 1] = work[j];
      --j;
    }
    work[j + 1] = c;
  }
  const int filled = n < slots ? n : slots;
  int won = 0;
  for (int j = 0; j < filled; ++j) {
    if (work[j].bidder < 0) continue;
    double price;
    if (type == AuctionType::kFirstPrice) {
      price = work[j].score;
    } else {
      price = j + 1 < n ? work[j + 1].score : floor;
      if (price < floor) price = floor;
    }
    wins[won++] = {j, work[j].bidder, price};
  }
  return won;
}

}  // namespace adsim

#include "core/guardrails.h"

#include <gtest/gtest.h>

#include <cmath>

namespace adsim {
namespace {

GuardrailSpec Spec() {
  GuardrailSpec g;
  g.min_bid = 0.1;
  g.max_bid = 10.0;
  g.max_change = 0.25;
  g.review_threshold = 1.0;
  g.max_daily_budget = 1000;
  return g;
}

TEST(Guardrails, SmallChangeIsApplied) {
  const auto d = ApplyGuardrails(Spec(), ActionKind::kSetBid, 2.0, 2.0, 2.2);
  EXPECT_EQ(d.status, ActionStatus::kApplied);
  EXPECT_DOUBLE_EQ(d.value, 2.2);
}

TEST(Guardrails, ChangeAboveMaxChangeIsClampedRelativeToCycleStart) {
  // +50% asked, max_change 25%: 2.0 * 1.25 = 2.5.
  auto d = ApplyGuardrails(Spec(), ActionKind::kSetBid, 2.0, 2.0, 3.0);
  EXPECT_EQ(d.status, ActionStatus::kClamped);
  EXPECT_DOUBLE_EQ(d.value, 2.5);
  // Two actions in one cycle cannot add up past the limit: the second starts
  // from 2.5 but the bound is still relative to the cycle's 2.0.
  d = ApplyGuardrails(Spec(), ActionKind::kSetBid, 2.0, 2.5, 3.0);
  EXPECT_DOUBLE_EQ(d.value, 2.5);
  d = ApplyGuardrails(Spec(), ActionKind::kSetBid, 2.0, 2.0, 1.0);
  EXPECT_EQ(d.status, ActionStatus::kClamped);
  EXPECT_DOUBLE_EQ(d.value, 1.5);
}

TEST(Guardrails, ChangeAboveReviewThresholdIsHeldNotApplied) {
  const auto d = ApplyGuardrails(Spec(), ActionKind::kSetDailyBudget, 100, 100, 250);  // +150% > 100%
  EXPECT_EQ(d.status, ActionStatus::kHeld);
  EXPECT_DOUBLE_EQ(d.value, 100);
  EXPECT_FALSE(d.note.empty());
}

TEST(Guardrails, AbsoluteBounds) {
  GuardrailSpec g = Spec();
  g.max_change = 100;
  g.review_threshold = 1000;
  auto d = ApplyGuardrails(g, ActionKind::kSetBid, 8, 8, 12);
  EXPECT_EQ(d.status, ActionStatus::kClamped);
  EXPECT_DOUBLE_EQ(d.value, 10.0);
  d = ApplyGuardrails(g, ActionKind::kSetBid, 0.2, 0.2, 0.01);
  EXPECT_DOUBLE_EQ(d.value, 0.1);
  d = ApplyGuardrails(g, ActionKind::kSetDailyBudget, 900, 900, 5000);
  EXPECT_EQ(d.status, ActionStatus::kClamped);
  EXPECT_DOUBLE_EQ(d.value, 1000);
}

TEST(Guardrails, NonFiniteOrNegativeIsRejected) {
  EXPECT_EQ(ApplyGuardrails(Spec(), ActionKind::kSetBid, 1, 1, std::nan("")).status, ActionStatus::kRejected);
  EXPECT_EQ(ApplyGuardrails(Spec(), ActionKind::kSetBid, 1, 1, -1).status, ActionStatus::kRejected);
  EXPECT_EQ(ApplyGuardrails(Spec(), ActionKind::kSetBid, 1, 1, INFINITY).status, ActionStatus::kRejected);
}

TEST(Guardrails, SegmentExclusionIsNotClampedButCanBeHeld) {
  // 1 -> 0 is a relative change of 1: max_change 0.25 would clamp a step,
  // but an exclusion applies whole; a review threshold below 1 holds it.
  auto d = ApplyGuardrails(Spec(), ActionKind::kSetSegmentModifier, 1.0, 1.0, 0.0);
  EXPECT_EQ(d.status, ActionStatus::kApplied);
  EXPECT_DOUBLE_EQ(d.value, 0.0);
  GuardrailSpec strict = Spec();
  strict.review_threshold = 0.5;
  EXPECT_EQ(ApplyGuardrails(strict, ActionKind::kSetSegmentModifier, 1.0, 1.0, 0.0).status, ActionStatus::kHeld);
  // A non-zero step is still limited: 1 -> 0.1 (-90%, under the review
  // threshold of 100%) is clamped to 1 - 0.25 = 0.75.
  d = ApplyGuardrails(Spec(), ActionKind::kSetSegmentModifier, 1.0, 1.0, 0.1);
  EXPECT_EQ(d.status, ActionStatus::kClamped);
  EXPECT_DOUBLE_EQ(d.value, 0.75);
}

TEST(Guardrails, SegmentModifierFromZeroIsLimitedRelativeToOne) {
  // An excluded segment (modifier 0) is re-included in steps measured from
  // 1, the neutral modifier: max_change 0.25 allows up to 1.25 in one cycle,
  // review_threshold 1.0 holds a request above 2.
  auto d = ApplyGuardrails(Spec(), ActionKind::kSetSegmentModifier, 0.0, 0.0, 0.3);
  EXPECT_EQ(d.status, ActionStatus::kApplied);
  EXPECT_DOUBLE_EQ(d.value, 0.3);
  d = ApplyGuardrails(Spec(), ActionKind::kSetSegmentModifier, 0.0, 0.0, 1.25);
  EXPECT_EQ(d.status, ActionStatus::kApplied);
  d = ApplyGuardrails(Spec(), ActionKind::kSetSegmentModifier, 0.0, 0.0, 1.8);
  EXPECT_EQ(d.status, ActionStatus::kClamped);
  EXPECT_DOUBLE_EQ(d.value, 1.25);
  d = ApplyGuardrails(Spec(), ActionKind::kSetSegmentModifier, 0.0, 0.0, 2.5);
  EXPECT_EQ(d.status, ActionStatus::kHeld);
  EXPECT_DOUBLE_EQ(d.value, 0.0);
  // Within one cycle the limit stays relative to the cycle start (0): a second
  // action after 0 -> 1.25 cannot go further.
  d = ApplyGuardrails(Spec(), ActionKind::kSetSegmentModifier, 0.0, 1.25, 1.5);
  EXPECT_DOUBLE_EQ(d.value, 1.25);
  // 0 -> 0 stays 0; and from 1.25 the next cycle's steps are relative again.
  EXPECT_DOUBLE_EQ(ApplyGuardrails(Spec(), ActionKind::kSetSegmentModifier, 0.0, 0.0, 0.0).value, 0.0);
  EXPECT_DOUBLE_EQ(ApplyGuardrails(Spec(), ActionKind::kSetSegmentModifier, 1.25, 1.25, 2.0).value, 1.25 * 1.25);
}

TEST(Guardrails, FromZeroOnlyAbsoluteBoundsApply) {
  const auto d = ApplyGuardrails(Spec(), ActionKind::kSetTotalBudget, 0, 0, 500);
  EXPECT_EQ(d.status, ActionStatus::kApplied);
  EXPECT_DOUBLE_EQ(d.value, 500);
}

}  // namespace
}  // namespace adsim

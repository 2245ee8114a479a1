# Bids are no longer capped at the remaining budget.
#file: core/engine.cc
s|Micros bid_micros = std::min(UnitsToMicrosFloor(bid), remaining);|Micros bid_micros = UnitsToMicrosFloor(bid);|

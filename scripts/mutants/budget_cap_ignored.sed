# Bids are no longer capped at the remaining budget.
#file: core/engine/run_loop.cc
s|const Micros bid_micros = std::min(UnitsToMicrosFloor(bid), remaining);|const Micros bid_micros = UnitsToMicrosFloor(bid);|

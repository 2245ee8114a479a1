# First-price auctions charge the second price (in the auction and in the engine).
#file: core/engine/auction.h core/engine/run_loop.cc
s|price = best.score;|price = second.bidder == -2 ? floor : second.score;|
s|price = work\[j\].score;|price = j + 1 < n ? work[j + 1].score : floor;|
s|channel.auction == AuctionType::kFirstPrice ? ours.bid : slot_win.price_score / ours.quality|slot_win.price_score / ours.quality|

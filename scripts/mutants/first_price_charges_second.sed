# First-price auctions charge the second price (in the auction and in the engine).
#file: simulators/auction.h core/engine.cc
s|price = best.score;|price = second.bidder == -2 ? floor : second.score;|
s|price = work\[j\].score;|price = j + 1 < n ? work[j + 1].score : floor;|
s|chs.auction == AuctionType::kFirstPrice ? ob.bid : sw.price_score / ob.quality|sw.price_score / ob.quality|

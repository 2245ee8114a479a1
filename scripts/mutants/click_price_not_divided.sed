# Click-billed channels charge the second score per click, not divided by the click rate.
#file: core/engine.cc
s|: sw.price_score / ob.quality;|: sw.price_score;|

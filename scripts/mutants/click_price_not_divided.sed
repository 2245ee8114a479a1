# Click-billed channels charge the second score per click, not divided by the click rate.
#file: core/engine/run_loop.cc
s|: slot_win.price_score / ours.quality;|: slot_win.price_score;|

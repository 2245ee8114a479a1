# The user's response draws depend on which campaign won (breaks common random numbers).
#file: core/engine.cc
s|ResponseRng rng(o.response_key, sw.slot);|ResponseRng rng(o.response_key ^ static_cast<uint64_t>(c), sw.slot);|

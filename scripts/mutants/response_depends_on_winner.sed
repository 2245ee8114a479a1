# The user's response draws depend on which campaign won (breaks common random numbers).
#file: core/engine/user_response.cc
s|ResponseRng rng(opportunity.response_key, win.slot);|ResponseRng rng(opportunity.response_key ^ static_cast<uint64_t>(win.campaign), win.slot);|

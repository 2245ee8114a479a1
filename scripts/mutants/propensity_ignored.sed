# Clicks ignore the user's propensity.
#file: core/engine/user_response.cc
s|s.ctr_multiplier\[win.channel_segment\] \* opportunity.propensity \*|s.ctr_multiplier[win.channel_segment] *|

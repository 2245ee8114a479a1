# Clicks ignore the user's propensity.
#file: core/engine/user_response.cc
s|state_.ctr_multiplier\[win.channel_segment\] \* opportunity.Propensity() \*|state_.ctr_multiplier[win.channel_segment] *|

# Clicks ignore the user's propensity.
#file: core/engine.cc
s|ctr_mult_\[k\] \* o.propensity \* chs.click_factors\[sw.slot\]|ctr_mult_[k] * chs.click_factors[sw.slot]|

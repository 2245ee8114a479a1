# Lognormal conversion values lose their -sigma^2/2: the mean grows by exp(sigma^2/2).
#file: core/engine.cc
s|exp(seg.value_sigma \* normal(rng) - 0.5 \* seg.value_sigma \* seg.value_sigma)|exp(seg.value_sigma * normal(rng))|

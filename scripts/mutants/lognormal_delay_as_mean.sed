# Lognormal delays off by exp(sigma^2/2): the median parameter is treated as the mean.
#file: core/engine.cc
s|std::exp(seg.delay_sigma \* normal(rng));|std::exp(seg.delay_sigma * normal(rng) - 0.5 * seg.delay_sigma * seg.delay_sigma);|

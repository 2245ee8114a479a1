# Lognormal delays off by exp(sigma^2/2): the median parameter is treated as the mean.
#file: core/engine/user_response.cc
s|std::exp(segment.delay_sigma \* normal(rng));|std::exp(segment.delay_sigma * normal(rng) - 0.5 * segment.delay_sigma * segment.delay_sigma);|

# Lognormal conversion values lose their -sigma^2/2: the mean grows by exp(sigma^2/2).
#file: core/engine/user_response.cc
s|std::exp(segment.value_sigma \* normal(rng) - 0.5 \* segment.value_sigma \* segment.value_sigma)|std::exp(segment.value_sigma * normal(rng))|

# Conversion delays in the wrong unit: microseconds read as milliseconds (1000 times too short).
#file: core/engine/run_loop.cc
s|std::max(1.0, response.delay_us);|std::max(1.0, response.delay_us / 1000);|

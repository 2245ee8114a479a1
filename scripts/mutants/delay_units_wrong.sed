# Conversion delays in the wrong unit: microseconds read as milliseconds (1000 times too short).
#file: core/engine.cc
s|std::max(1.0, delay_us);|std::max(1.0, delay_us / 1000);|

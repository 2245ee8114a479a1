// What a scenario's largest allocations come to, for the "out of memory"
// message of the CLI and the Python module: the user asked for a run, not for
// a std::bad_alloc, and should learn which field to turn down.
#pragma once

#include <string>

#include "core/scenario.h"

namespace adsim {

// Describes the scenario's memory needs that grow with its fields, largest
// first, e.g. "about 4.0 GB for user propensities (1000000000 users with
// propensity_sigma > 0, 4 bytes each)". Counts only what the engine sizes up
// front or may grow to from the scenario: propensities per user, per-user
// experiment counters, the opportunity event log.
std::string DescribeMemoryNeeds(const Scenario& scenario);

// "out of memory while <doing>" followed by the scenario's needs when known.
std::string OutOfMemoryMessage(const std::string& doing, const Scenario* scenario);

}  // namespace adsim

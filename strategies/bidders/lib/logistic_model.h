// The L2 logistic regression the value bidders use lives in
// core/logistic_model.h (the engine fits in-run lookalike audiences with it,
// and core/engine/ may include only core/); this header keeps the strategies'
// include path.
#pragma once

#include "core/logistic_model.h"

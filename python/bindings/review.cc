// Owns the Python reviewer of held actions (adsim.run(reviewer=...)): the
// RunOptions::reviewer that calls it, with the GIL taken for the call only.
#include "core/review.h"

#include <string>

#include "core/error.h"
#include "core/scenario.h"
#include "core/strategy.h"
#include "core/types.h"
#include "python/bindings/conversions.h"
#include "python/bindings/gil.h"
#include "python/bindings/module.h"

namespace adsim::bindings {

// The Python reviewer of held actions (adsim.run(reviewer=...)), called at each
// decision time with the GIL taken for the call, through adsim._review._decide
// (which builds the HeldAction and reads the answer). Its exceptions abort the
// run like a Python controller's.
std::function<ReviewDecision(const ReviewRequest&)> PythonReviewer(const py::object* reviewer, RunScope* scope) {
  return [reviewer, scope](const ReviewRequest& q) {
    py::gil_scoped_acquire gil;
    RunScope* saved = RunScope::current;
    RunScope::current = scope;
    const std::string where = "the Python reviewer, deciding " + std::string(ActionKindName(q.kind)) + " of campaign " +
                              std::to_string(q.campaign) + " '" + q.campaign_name + "' held at " +
                              FormatDuration(q.held_time) + ", at simulated time " + FormatDuration(q.time);
    try {
      py::dict d;
      d["time"] = q.time;
      d["held_time"] = q.held_time;
      d["campaign"] = q.campaign;
      d["campaign_name"] = Utf8(q.campaign_name);
      d["kind"] = ActionKindName(q.kind);
      d["segment"] = q.segment;
      d["creative"] = q.creative;
      d["old"] = q.old_value;
      d["requested"] = q.requested;
      d["current"] = q.current;
      d["controller"] = Utf8(q.controller);
      d["reason"] = Utf8(q.reason);
      d["note"] = Utf8(q.hold_note);
      const py::tuple t = py::module_::import("adsim._review").attr("_decide")(*reviewer, d);
      ReviewDecision out;
      out.approve = t[0].cast<bool>();
      if (!t[1].is_none()) out.value = t[1].cast<double>();
      out.note = t[2].cast<std::string>();
      RunScope::current = saved;
      return out;
    } catch (py::error_already_set& e) {
      const std::string what = KeepPythonError(e, e.matches(PyExc_KeyboardInterrupt));
      RunScope::current = saved;
      throw Error(where + " raised " + what);
    }
  };
}

}  // namespace adsim::bindings

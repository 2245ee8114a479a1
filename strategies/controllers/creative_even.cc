// creative_even: even creative rotation. Each control cycle it sets every
// creative's rotation weight to 1 and (by default) resumes every paused
// creative, so each bid request shows one of the campaign's creatives with
// probability 1/K. The baseline that creative testing strategies are compared with.
#include "core/registry.h"
#include "strategies/lib/estimators.h"

namespace adsim::controllers {
namespace {

class CreativeEven final : public Controller {
 public:
  explicit CreativeEven(const BuildContext& ctx) : resume_(ctx.params.Bool("resume_paused")) {}

  void OnCycle(const Snapshot& snap, int campaign, std::vector<Action>* actions) override {
    const CampaignState& st = snap.campaigns[campaign];
    const int nk = static_cast<int>(st.creative_paused.size());
    if (resume_)
      for (int cr = 0; cr < nk; ++cr)
        if (st.creative_paused[cr]) {
          Action a;
          a.kind = ActionKind::kResumeCreative;
          a.campaign = campaign;
          a.creative = cr;
          a.reason = "even rotation";
          a.metric = "creative_paused";  // 1 = paused; even rotation wants none paused
          a.observed = 1.0;
          a.threshold = 0.0;
          actions->push_back(a);
        }
    // Each creative's current rotation weight against the even weight 1.
    estimators::SetCreativeWeights(st, campaign, std::vector<double>(nk, 1.0), "even rotation",
                                   {"creative_weight", st.creative_weight, 1.0}, actions);
  }

 private:
  bool resume_;
};

ADSIM_REGISTER_CONTROLLER(CreativeEven, "creative_even",
                          "Even creative rotation: every creative gets weight 1 (and paused ones are resumed).",
                          BoolParam("resume_paused", true, "resume creatives that are paused"));

}  // namespace
}  // namespace adsim::controllers

// Errors carry the simulation context: the ledger's invariant error names its
// owner and the simulated time; a C++ component that throws during the
// control cycle is reported with its name, its scenario field path and file,
// and the simulated time, keeping its error kind.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/ledger.h"
#include "core/registry.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

// The message of the error `run` throws, as type E (fails the test otherwise).
template <class E, class Run>
std::string MessageOf(Run run) {
  try {
    run();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no exception";
  return "";
}

TEST(EngineErrors, LedgerOverspendNamesItsOwnerAndTheTime) {
  Ledger ledger;
  ledger.SetOwner("campaign 'summer' (index 2)");
  ledger.SetDailyBudget(100);
  ledger.Charge(60, 0);
  const SimTime now = 3 * kMicrosPerHour + 15 * kMicrosPerMinute;
  const std::string message = MessageOf<InvariantError>([&] { ledger.Charge(41, now); });
  EXPECT_NE(message.find("campaign 'summer' (index 2)"), std::string::npos) << message;
  EXPECT_NE(message.find("at simulated time 3h15m"), std::string::npos) << message;
  EXPECT_NE(message.find("a charge of 41 micros exceeds the remaining 40 micros"), std::string::npos) << message;
  EXPECT_EQ(ledger.spend_today(), 60);  // the refused charge left nothing behind
}

// Throws from its second hour on: std::runtime_error, or a ConfigError when
// the parameter `config` is 1.
class ThrowingController final : public Controller {
 public:
  explicit ThrowingController(bool config) : config_(config) {}
  void OnCycle(const Snapshot& snapshot, int, std::vector<Action>*) override {
    if (snapshot.time < 2 * kMicrosPerHour) return;
    if (config_) throw ConfigError("the threshold went missing");
    throw std::runtime_error("division by zero in the pacing curve");
  }

 private:
  bool config_;
};

class ThrowingMonitor final : public Monitor {
 public:
  void OnCycle(const Snapshot& snapshot, std::vector<Alert>*) override {
    if (snapshot.time >= kMicrosPerHour) throw std::out_of_range("no such cell");
  }
};

void RegisterThrowingComponents() {
  ComponentInfo controller;
  controller.name = "test_throwing_controller";
  controller.kind = ComponentKind::kController;
  controller.description = "throws from 2h on (engine error tests)";
  controller.params = {NumberParam("config", 0, "1: throw a ConfigError", 0, 1)};
  controller.make_controller = [](const BuildContext& context) {
    return std::make_unique<ThrowingController>(context.params.Number("config") == 1);
  };
  Registry::Global().Add(controller, /*replace=*/true);
  ComponentInfo monitor;
  monitor.name = "test_throwing_monitor";
  monitor.kind = ComponentKind::kMonitor;
  monitor.description = "throws from 1h on (engine error tests)";
  monitor.make_monitor = [](const BuildContext&) { return std::make_unique<ThrowingMonitor>(); };
  Registry::Global().Add(monitor, /*replace=*/true);
}

TEST(EngineErrors, AThrowingControllerIsNamedWithItsPathAndTheTime) {
  RegisterThrowingComponents();
  const Scenario scenario = test::Parse(
      test::SmallScenario("", "    controllers: [pid_pacing, test_throwing_controller]\n", "4h", 2000), "pacing.yaml");
  const std::string message = MessageOf<Error>([&] { RunScenario(scenario); });
  EXPECT_EQ(message,
            "controller 'test_throwing_controller' (campaigns[0].controllers[1] in pacing.yaml) failed at simulated "
            "time 2h: division by zero in the pacing curve");
}

TEST(EngineErrors, AWrappedErrorKeepsItsKind) {
  RegisterThrowingComponents();
  const Scenario scenario = test::Parse(
      test::SmallScenario("", "    controllers: [{type: test_throwing_controller, params: {config: 1}}]\n", "4h", 2000),
      "pacing.yaml");
  const std::string message = MessageOf<ConfigError>([&] { RunScenario(scenario); });
  EXPECT_NE(message.find("controller 'test_throwing_controller' (campaigns[0].controllers[0] in pacing.yaml) failed "
                         "at simulated time 2h: the threshold went missing"),
            std::string::npos)
      << message;
}

TEST(EngineErrors, AThrowingMonitorIsNamedWithItsLabel) {
  RegisterThrowingComponents();
  const Scenario scenario = test::Parse(
      test::SmallScenario("monitors: [{type: test_throwing_monitor, label: watcher}]\n", "", "4h", 2000), "m.yaml");
  const std::string message = MessageOf<Error>([&] { RunScenario(scenario); });
  EXPECT_EQ(message, "monitor 'watcher' (monitors[0] in m.yaml) failed at simulated time 1h: no such cell");
}

}  // namespace
}  // namespace adsim

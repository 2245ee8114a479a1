// libFuzzer target for the scenario reader: the bytes are read as a scenario
// file (YAML, and JSON, which the reader takes as YAML flow style), parsed and
// validated field by field. adsim's own errors (ConfigError and the rest of
// adsim::Error) are the expected outcome of bad input; anything else escaping,
// a crash, a sanitizer report, a hang or a huge allocation is a finding.
// (Component names and parameters are checked by the registry, outside the
// reader, and are not fuzzed here.) Built only with -DADSIM_BUILD_FUZZ=ON
// and clang; bench/fuzz/run.sh builds and runs it under ASan and UBSan.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/scenario.h"

namespace {

void ReadAs(const std::string& text, const std::string& source_name) {
  try {
    const adsim::Scenario scenario = adsim::ParseScenario(text, source_name);
    (void)scenario;
  } catch (const adsim::Error&) {
    // A clear error for bad input is the reader's job: nothing to report.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The source name only changes the messages, but a reader that ever
  // dispatches on the extension is covered both ways.
  ReadAs(text, "fuzz.yaml");
  if (!text.empty() && (text.front() == '{' || text.front() == '[')) ReadAs(text, "fuzz.json");
  return 0;
}

// See python_commands.h.
#include "core/cli/python_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#ifndef ADSIM_DEFAULT_PYTHON
#define ADSIM_DEFAULT_PYTHON ""
#endif

namespace adsim::cli {
namespace {

// python/adsim/commands/NAME.py implements each of these names.
constexpr const char* kPythonCommands[] = {
    "catalog", "regress", "report", "sweep", "risk", "calibrate", "ope",
};

}  // namespace

bool IsPythonCommand(std::string_view name) {
  return std::any_of(std::begin(kPythonCommands), std::end(kPythonCommands),
                     [&](const char* command) { return name == command; });
}

const char* PythonCommandList() {
  static const std::string list = [] {
    std::string joined;
    for (const char* command : kPythonCommands) joined += (joined.empty() ? "" : ", ") + std::string(command);
    return joined;
  }();
  return list.c_str();
}

int ForwardToPython(int argc, char** argv, const char* what) {
  const std::string needs =
      what != nullptr ? std::string(what) + " needs Python" : std::string(argv[1]) + " is implemented in Python";
  const char* from_environment = std::getenv("ADSIM_PYTHON");
  const std::string python =
      from_environment != nullptr && *from_environment != '\0' ? from_environment : ADSIM_DEFAULT_PYTHON;
  const char* source = from_environment != nullptr && *from_environment != '\0'
                           ? "ADSIM_PYTHON"
                           : "the build's default (the project's .venv, made by scripts/setup.sh)";
  if (python.empty()) {
    std::cerr << "adsim: " << needs << ": set ADSIM_PYTHON to an interpreter that can import adsim\n";
    return 3;
  }
  std::vector<char*> arguments;
  arguments.push_back(const_cast<char*>(python.c_str()));
  static char dash_m[] = "-m";
  static char module[] = "adsim";
  arguments.push_back(dash_m);
  arguments.push_back(module);
  for (int i = 1; i < argc; ++i) arguments.push_back(argv[i]);
  arguments.push_back(nullptr);
  std::cout.flush();
  ::execv(python.c_str(), arguments.data());
  std::cerr << "adsim: " << needs << ", but the interpreter " << python << " (from " << source
            << ") cannot be started: " << std::strerror(errno)
            << "; run scripts/setup.sh, or set ADSIM_PYTHON to an interpreter that can import adsim\n";
  return 3;
}

}  // namespace adsim::cli

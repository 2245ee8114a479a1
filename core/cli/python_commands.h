// The subcommands of `adsim` that are implemented in Python (python/adsim/
// commands/): `adsim NAME ARGS...` runs `PYTHON -m adsim NAME ARGS...`, so the
// command line and `python -m adsim` are one implementation. Owns the list of
// those names and the choice of interpreter; knows nothing of what they do.
#pragma once

#include <string_view>

namespace adsim::cli {

// True when NAME is a subcommand implemented in Python.
bool IsPythonCommand(std::string_view name);

// The names, for `adsim --help`: "catalog, report, ..." (empty when none).
const char* PythonCommandList();

// Replaces this process with the Python interpreter running `-m adsim` and
// argv[1..]. The interpreter is $ADSIM_PYTHON, else the project's .venv
// interpreter recorded at build time. Returns (with a message on stderr) only
// when it cannot be started: exit code 3. `what` names what needs Python in
// that message (default: "NAME is implemented in Python").
int ForwardToPython(int argc, char** argv, const char* what = nullptr);

}  // namespace adsim::cli

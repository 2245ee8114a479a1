// Owns results across the language boundary: C++ Results -> the raw layout
// python/adsim/_result.py builds DataFrames from (numpy arrays that take over
// each column's buffer, no copy), the inverse for saving and summaries, and
// the module functions write_results and format_summary (so that files and
// summaries come from the same C++ code as the command line).
#include "core/results.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.h"
#include "core/summary.h"
#include "python/bindings/conversions.h"
#include "python/bindings/module.h"

namespace adsim::bindings {
namespace {

// The inverse of ResultsToPython, for saving and summaries. `only`, if not
// empty, restricts the tables converted. Needs the GIL.
Results ResultsFromPython(const py::dict& raw, const std::vector<std::string>& only = {}) {
  Results r;
  for (py::handle th : raw["tables"].cast<py::list>()) {
    const py::dict t = th.cast<py::dict>();
    const std::string name = t["name"].cast<std::string>();
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    Table& table = r.Add(name, t["description"].cast<std::string>());
    for (py::handle ch : t["columns"].cast<py::list>()) {
      const py::dict c = ch.cast<py::dict>();
      const std::string cname = c["name"].cast<std::string>();
      const std::string unit = c["unit"].cast<std::string>();
      const std::string desc = c["description"].cast<std::string>();
      const py::array a = py::array::ensure(c["data"]);
      if (!a) throw DataError("table '" + name + "', column '" + cname + "': not array-like");
      const char kind = a.dtype().kind();
      if (kind == 'i' || kind == 'u' || kind == 'b') {
        const auto v = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
        if (!v || v.ndim() != 1)
          throw DataError("table '" + name + "', column '" + cname + "': expected a 1-D integer column");
        table.Int(cname, unit, desc).assign(v.data(), v.data() + v.size());
      } else if (kind == 'f') {
        const auto v = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
        if (!v || v.ndim() != 1)
          throw DataError("table '" + name + "', column '" + cname + "': expected a 1-D real column");
        table.Real(cname, unit, desc).assign(v.data(), v.data() + v.size());
      } else if (kind == 'O' || kind == 'U' || kind == 'S') {
        auto& out = table.Text(cname, desc);
        out.reserve(static_cast<size_t>(a.size()));
        for (py::handle item : c["data"]) {
          if (py::isinstance<py::bytes>(item))
            out.push_back(item.cast<std::string>());
          else
            out.push_back(py::str(item).cast<std::string>());
        }
      } else {
        throw DataError("table '" + name + "', column '" + cname + "': unsupported dtype kind '" +
                        std::string(1, kind) + "'");
      }
    }
    table.CheckShape();
  }
  for (auto [k, v] : raw["attrs"].cast<py::dict>()) {
    const std::string key = py::str(k).cast<std::string>();
    if (py::isinstance<py::bool_>(v) || py::isinstance<py::int_>(v))
      r.int_attrs[key] = v.cast<int64_t>();
    else if (py::isinstance<py::float_>(v))
      r.real_attrs[key] = v.cast<double>();
    else if (py::hasattr(v, "dtype") && py::str(v.attr("dtype").attr("kind")).cast<std::string>() == "i")
      r.int_attrs[key] = v.cast<int64_t>();
    else if (py::hasattr(v, "dtype") && py::str(v.attr("dtype").attr("kind")).cast<std::string>() == "f")
      r.real_attrs[key] = v.cast<double>();
    else
      r.text_attrs[key] = py::str(v).cast<std::string>();
  }
  return r;
}

void WriteResults(const py::dict& raw, const std::string& path) {
  const Results r = ResultsFromPython(raw);
  py::gil_scoped_release release;
  WriteResultsHdf5(r, path);
}

std::string Summary(const py::dict& raw) {
  return FormatSummary(ResultsFromPython(raw, {"campaigns", "aggregates", "daily", "actions"}));
}

}  // namespace

// {"tables": [{"name", "description", "columns": [{"name", "unit", "description", "data"}]}],
//  "attrs": {...}}: the raw layout python/adsim/_result.py builds DataFrames from.
py::dict ResultsToPython(Results&& r) {
  py::list tables;
  for (Table& t : r.tables) {
    py::list columns;
    for (Column& c : t.columns()) {
      py::object data;
      if (auto* v = std::get_if<std::vector<int64_t>>(&c.data)) {
        data = OwnedArray(std::move(*v));
      } else if (auto* v = std::get_if<std::vector<double>>(&c.data)) {
        data = OwnedArray(std::move(*v));
      } else {
        const auto& s = std::get<std::vector<std::string>>(c.data);
        py::list items(s.size());
        for (size_t i = 0; i < s.size(); ++i) items[i] = Utf8(s[i]);
        data = std::move(items);
      }
      py::dict col;
      col["name"] = Utf8(c.name);
      col["unit"] = Utf8(c.unit);
      col["description"] = Utf8(c.description);
      col["data"] = std::move(data);
      columns.append(std::move(col));
    }
    py::dict table;
    table["name"] = Utf8(t.name());
    table["description"] = Utf8(t.description());
    table["columns"] = std::move(columns);
    tables.append(std::move(table));
  }
  py::dict attrs;
  for (const auto& [k, v] : r.text_attrs) attrs[Utf8(k)] = Utf8(v);
  for (const auto& [k, v] : r.int_attrs) attrs[Utf8(k)] = py::int_(v);
  for (const auto& [k, v] : r.real_attrs) attrs[Utf8(k)] = py::float_(v);
  py::dict out;
  out["tables"] = std::move(tables);
  out["attrs"] = std::move(attrs);
  return out;
}

py::bytes ResultsImage(const py::dict& raw) {
  const Results r = ResultsFromPython(raw);
  std::vector<unsigned char> image;
  {
    py::gil_scoped_release release;
    image = ResultsFileImage(r);
  }
  return {reinterpret_cast<const char*>(image.data()), image.size()};
}

void BindResults(py::module_& m) {
  m.def("results_image", &ResultsImage, py::arg("raw"),
        "The bytes of the HDF5 file write_results would write (built in memory).");
  m.def("write_results", &WriteResults, py::arg("raw"), py::arg("path"),
        "Writes a raw result layout to HDF5 (temporary file, then rename).");
  m.def("format_summary", &Summary, py::arg("raw"), "The KPI summary printed by `adsim run`.");
}

}  // namespace adsim::bindings

// In-memory results of a run: named columnar tables plus attributes. The HDF5
// writer stores each table as a group of 1-D datasets (one per column) and the
// Python layer turns each into a pandas DataFrame. docs/results.md is the schema.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace adsim {

constexpr int kSchemaVersion = 4;
const char* AdsimVersion();
std::string BoostVersion();

using ColumnData = std::variant<std::vector<int64_t>, std::vector<double>, std::vector<std::string>>;

struct Column {
  std::string name;
  std::string unit;  // "us", "currency", "count", "ratio", "" ...
  std::string description;
  ColumnData data;
  size_t size() const;
};

class Table {
 public:
  Table() = default;
  Table(std::string name, std::string description) : name_(std::move(name)), description_(std::move(description)) {}
  std::vector<int64_t>& Int(const std::string& name, const std::string& unit, const std::string& description);
  std::vector<double>& Real(const std::string& name, const std::string& unit, const std::string& description);
  std::vector<std::string>& Text(const std::string& name, const std::string& description);
  const std::string& name() const { return name_; }
  const std::string& description() const { return description_; }
  const std::deque<Column>& columns() const { return columns_; }
  std::deque<Column>& columns() { return columns_; }
  size_t rows() const { return columns_.empty() ? 0 : columns_.front().size(); }
  const Column* Find(const std::string& name) const;
  // Throws InvariantError if columns differ in length.
  void CheckShape() const;

 private:
  std::string name_, description_;
  std::deque<Column> columns_;  // deque: column references stay valid as columns are added
};

struct Results {
  std::deque<Table> tables;  // deque: references stay valid as tables are added
  std::map<std::string, std::string> text_attrs;
  std::map<std::string, int64_t> int_attrs;
  std::map<std::string, double> real_attrs;

  Table& Add(std::string name, std::string description);
  const Table* Find(const std::string& name) const;
};

// Writes to `path` through a temporary file in the same folder, renamed into
// place only when complete, so a failed run leaves no file that looks whole.
// Same as OutputFile(path).Commit(results).
void WriteResultsHdf5(const Results& results, const std::string& path);

// The place of a result file, taken before a run so that a path that cannot be
// written fails at once, not after the run. The constructor checks the path
// (not empty, not a folder) and creates this run's temporary file next to it,
// `<path>.tmp-<pid>-<n>`, unique per process and per call; it also removes the
// temporary files of `<path>` left by processes that no longer exist (a killed
// run). The destructor removes the temporary file unless Commit succeeded.
// Throws IoError naming the path.
class OutputFile {
 public:
  explicit OutputFile(std::string path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  // Writes `results` to the temporary file and renames it to path().
  void Commit(const Results& results);
  const std::string& path() const { return path_; }
  const std::string& temporary_path() const { return temporary_; }

 private:
  std::string path_, temporary_;
  bool committed_ = false;
};

// For the message of a failed run: a sentence saying that the existing file at
// `path` was left as it was, or "" when there is no such file.
std::string ExistingOutputNote(const std::string& path);

// Reads a file written by WriteResultsHdf5. Throws DataError / IoError.
Results ReadResultsHdf5(const std::string& path);

}  // namespace adsim

// HDF5 storage of Results with the C API: one group per table, one chunked,
// deflate-compressed 1-D dataset per column. See docs/results.md.
#include <dirent.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/results.h"

namespace adsim {
namespace {

// Closes an HDF5 handle on scope exit.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// HDF5 keeps global state and may be built without thread safety: adsim
// calls it under this lock (two threads may write results at once).
std::mutex& Hdf5Mutex() {
  static std::mutex mutex;
  return mutex;
}

void Check(bool ok, const std::string& what, const std::string& path) {
  if (!ok) throw IoError("HDF5 error while " + what + " in '" + path + "'");
}

// A fixed-length UTF-8 string type that holds `value` (at least one byte).
Handle Utf8StringType(const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), value.empty() ? 1 : value.size());
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

void WriteStringAttr(hid_t obj, const char* name, const std::string& value, const std::string& path) {
  Handle type = Utf8StringType(value);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Check(attr.ok(), std::string("creating attribute ") + name, path);
  std::string buf = value.empty() ? std::string(1, '\0') : value;
  Check(H5Awrite(attr.get(), type.get(), buf.data()) >= 0, std::string("writing attribute ") + name, path);
}

// A scalar fixed-length UTF-8 string dataset: unlike an attribute (64 KiB at
// most in the default file format) it holds text of any size.
void WriteStringDataset(hid_t loc, const char* name, const std::string& value, const std::string& path) {
  Handle type = Utf8StringType(value);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle ds(H5Dcreate2(loc, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  Check(ds.ok(), std::string("creating dataset ") + name, path);
  std::string buf = value.empty() ? std::string(1, '\0') : value;
  Check(H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) >= 0,
        std::string("writing dataset ") + name, path);
}

template <class T>
void WriteScalarAttr(hid_t obj, const char* name, hid_t type, T value, const std::string& path) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Check(attr.ok(), std::string("creating attribute ") + name, path);
  Check(H5Awrite(attr.get(), type, &value) >= 0, std::string("writing attribute ") + name, path);
}

void WriteColumn(hid_t group, const Column& col, const std::string& path) {
  const hsize_t n = col.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (n > 0) {
    const hsize_t chunk = n < 65536 ? n : 65536;
    H5Pset_chunk(dcpl.get(), 1, &chunk);
    H5Pset_shuffle(dcpl.get());
    H5Pset_deflate(dcpl.get(), 4);
  }
  hid_t mem_type;
  Handle str_type(H5Tcopy(H5T_C_S1), H5Tclose);
  std::string packed;
  const void* data = nullptr;
  hid_t file_type;
  if (auto* v = std::get_if<std::vector<int64_t>>(&col.data)) {
    mem_type = H5T_NATIVE_INT64;
    file_type = H5T_STD_I64LE;
    data = v->data();
  } else if (auto* v = std::get_if<std::vector<double>>(&col.data)) {
    mem_type = H5T_NATIVE_DOUBLE;
    file_type = H5T_IEEE_F64LE;
    data = v->data();
  } else {
    const auto& s = std::get<std::vector<std::string>>(col.data);
    size_t width = 1;
    for (const auto& x : s) width = std::max(width, x.size());
    H5Tset_size(str_type.get(), width);
    H5Tset_strpad(str_type.get(), H5T_STR_NULLPAD);
    H5Tset_cset(str_type.get(), H5T_CSET_UTF8);
    packed.assign(width * s.size(), '\0');
    for (size_t i = 0; i < s.size(); ++i) std::memcpy(&packed[i * width], s[i].data(), s[i].size());
    mem_type = file_type = str_type.get();
    data = packed.data();
  }
  Handle ds(H5Dcreate2(group, col.name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
            H5Dclose);
  Check(ds.ok(), "creating dataset " + col.name, path);
  if (n > 0) Check(H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0, "writing " + col.name, path);
  WriteStringAttr(ds.get(), "unit", col.unit, path);
  WriteStringAttr(ds.get(), "description", col.description, path);
}

// The whole file built in memory (HDF5's core driver, no backing store). HDF5
// then never meets a disk error: after a failed write to a full disk it
// crashed in its own cleanup (at H5Fclose or at exit, also in h5py in the
// same process), so the bytes are written to disk by WriteImage instead.
std::vector<unsigned char> BuildImage(const Results& results, const std::string& name, const std::string& path) {
  std::lock_guard<std::mutex> lock(Hdf5Mutex());
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions, not stderr noise
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  Check(fapl.ok() && H5Pset_fapl_core(fapl.get(), 1 << 20, false) >= 0, "setting up the in-memory file", path);
  Handle file(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
  Check(file.ok(), "creating the file", path);
  // Files of schema 3 hold the scenario text in a dataset; a result read from
  // an older file is written back in its own layout (an attribute).
  const auto version = results.int_attrs.find("schema_version");
  const bool scenario_dataset = version == results.int_attrs.end() || version->second >= 3;
  for (const auto& [k, v] : results.text_attrs) {
    if (k == "scenario" && scenario_dataset)
      WriteStringDataset(file.get(), k.c_str(), v, path);
    else
      WriteStringAttr(file.get(), k.c_str(), v, path);
  }
  for (const auto& [k, v] : results.int_attrs) WriteScalarAttr(file.get(), k.c_str(), H5T_NATIVE_INT64, v, path);
  for (const auto& [k, v] : results.real_attrs) WriteScalarAttr(file.get(), k.c_str(), H5T_NATIVE_DOUBLE, v, path);
  for (const auto& table : results.tables) {
    table.CheckShape();
    Handle group(H5Gcreate2(file.get(), table.name().c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    Check(group.ok(), "creating group " + table.name(), path);
    std::string order;
    for (const auto& c : table.columns()) order += (order.empty() ? "" : ",") + c.name;
    WriteStringAttr(group.get(), "columns", order, path);
    WriteStringAttr(group.get(), "description", table.description(), path);
    for (const auto& c : table.columns()) WriteColumn(group.get(), c, path);
  }
  Check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL) >= 0, "flushing", path);
  const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
  Check(size > 0, "taking the file image", path);
  std::vector<unsigned char> image(static_cast<size_t>(size));
  Check(H5Fget_file_image(file.get(), image.data(), image.size()) == size, "taking the file image", path);
  return image;
}

// Writes the bytes of the file to `temporary` and syncs them to disk, so that
// a full disk shows here (ENOSPC, or EFBIG over a file-size limit).
void WriteImage(const std::vector<unsigned char>& image, const std::string& temporary, const std::string& path) {
  const auto fail = [&](int fd, const std::string& what) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw IoError("cannot write the result to '" + path + "': " + what + " the temporary file '" + temporary +
                  "': " + std::strerror(error));
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) fail(-1, "cannot open");
  size_t done = 0;
  while (done < image.size()) {
    const ssize_t n = ::write(fd, image.data() + done, image.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = ENOSPC;
    if (n <= 0)
      fail(fd, "after " + std::to_string(done) + " of " + std::to_string(image.size()) + " bytes, cannot write");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail(fd, "cannot sync");
  if (::close(fd) != 0) fail(-1, "cannot close");
}

std::atomic<unsigned> temporary_counter{0};

// Removes the files `<base>.tmp-<pid>` and `<base>.tmp-<pid>-<n>` in `folder`
// whose process no longer exists: temporary files of killed runs. A file of a
// live process (another run writing the same path) is left alone.
void RemoveStaleTemporaries(const std::string& folder, const std::string& base) {
  DIR* dir = ::opendir(folder.c_str());
  if (!dir) return;  // the temporary file's creation reports the real problem
  const std::string prefix = base + ".tmp-";
  const auto digits = [](const std::string& s, size_t from, size_t to) {
    if (from >= to || to - from > 9) return false;
    for (size_t i = from; i < to; ++i)
      if (s[i] < '0' || s[i] > '9') return false;
    return true;
  };
  std::vector<std::string> stale;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const size_t dash = name.find('-', prefix.size());
    const size_t pid_end = dash == std::string::npos ? name.size() : dash;
    if (!digits(name, prefix.size(), pid_end)) continue;
    if (dash != std::string::npos && !digits(name, dash + 1, name.size())) continue;
    const long pid = std::stol(name.substr(prefix.size(), pid_end - prefix.size()));
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) stale.push_back(folder + "/" + name);
  }
  ::closedir(dir);
  for (const auto& file : stale) ::unlink(file.c_str());
}

// The memory type for reading a fixed-length string of `n` bytes stored in `cset`.
Handle FixedStringMemoryType(size_t n, H5T_cset_t cset) {
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(mem.get(), n);
  H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
  H5Tset_cset(mem.get(), cset);
  return mem;
}

std::string ReadStringAttr(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return "";
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0) return "";
  const size_t n = H5Tget_size(type.get());
  std::string buf(n, '\0');
  Handle mem = FixedStringMemoryType(n, H5Tget_cset(type.get()));
  if (H5Aread(attr.get(), mem.get(), buf.data()) < 0) return "";
  buf.resize(std::strlen(buf.c_str()));
  return buf;
}

// Reads the scalar string dataset `name` at `loc` (the scenario text since
// schema 3); false when there is none.
bool ReadStringDataset(hid_t loc, const char* name, std::string* text) {
  if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_DATASET)
    return false;
  Handle ds(H5Dopen2(loc, name, H5P_DEFAULT), H5Dclose);
  Handle type(H5Dget_type(ds.get()), H5Tclose);
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  if (!ds.ok() || H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0 ||
      H5Sget_simple_extent_type(space.get()) != H5S_SCALAR)
    return false;
  const size_t n = H5Tget_size(type.get());
  std::string buf(n, '\0');
  Handle mem = FixedStringMemoryType(n, H5Tget_cset(type.get()));
  if (H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0) return false;
  buf.resize(strnlen(buf.data(), n));
  *text = std::move(buf);
  return true;
}

struct IterState {
  Results* results;
  std::string path;
  hid_t file;
  std::exception_ptr error;
};

herr_t AttrVisitor(hid_t loc, const char* name, const H5A_info_t*, void* data) {
  auto* st = static_cast<IterState*>(data);
  Handle attr(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  switch (H5Tget_class(type.get())) {
    case H5T_STRING:
      st->results->text_attrs[name] = ReadStringAttr(loc, name);
      break;
    case H5T_INTEGER: {
      int64_t v = 0;
      H5Aread(attr.get(), H5T_NATIVE_INT64, &v);
      st->results->int_attrs[name] = v;
      break;
    }
    case H5T_FLOAT: {
      double v = 0;
      H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v);
      st->results->real_attrs[name] = v;
      break;
    }
    default:
      break;
  }
  return 0;
}

void ReadColumn(hid_t group, const std::string& name, Table* table, const std::string& path) {
  Handle ds(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.ok())
    throw DataError("'" + path + "': table '" + table->name() + "' lists column '" + name +
                    "' but has no such dataset");
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.get()) != 1)
    throw DataError("'" + path + "': " + table->name() + "/" + name + " is not a 1-D dataset");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  Handle type(H5Dget_type(ds.get()), H5Tclose);
  const std::string unit = ReadStringAttr(ds.get(), "unit"), desc = ReadStringAttr(ds.get(), "description");
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER: {
      auto& v = table->Int(name, unit, desc);
      v.resize(n);
      if (n && H5Dread(ds.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
        throw IoError("'" + path + "': cannot read " + table->name() + "/" + name);
      break;
    }
    case H5T_FLOAT: {
      auto& v = table->Real(name, unit, desc);
      v.resize(n);
      if (n && H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
        throw IoError("'" + path + "': cannot read " + table->name() + "/" + name);
      break;
    }
    case H5T_STRING: {
      const size_t width = H5Tget_size(type.get());
      std::string buf(width * n, '\0');
      Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(mem.get(), width);
      H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
      H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
      if (n && H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
        throw IoError("'" + path + "': cannot read " + table->name() + "/" + name);
      auto& v = table->Text(name, desc);
      for (hsize_t i = 0; i < n; ++i) v.emplace_back(std::string(&buf[i * width], strnlen(&buf[i * width], width)));
      break;
    }
    default:
      throw DataError("'" + path + "': " + table->name() + "/" + name + " has a type adsim does not write");
  }
}

herr_t GroupVisitor(hid_t loc, const char* name, const H5L_info_t*, void* data) {
  auto* st = static_cast<IterState*>(data);
  H5O_info_t info;
  if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_GROUP) return 0;
  try {
    Handle group(H5Gopen2(loc, name, H5P_DEFAULT), H5Gclose);
    Table& table = st->results->Add(name, ReadStringAttr(group.get(), "description"));
    const std::string order = ReadStringAttr(group.get(), "columns");
    size_t start = 0;
    while (start < order.size()) {
      size_t comma = order.find(',', start);
      if (comma == std::string::npos) comma = order.size();
      ReadColumn(group.get(), order.substr(start, comma - start), &table, st->path);
      start = comma + 1;
    }
    table.CheckShape();
  } catch (...) {
    st->error = std::current_exception();
    return -1;
  }
  return 0;
}

}  // namespace

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) throw IoError("the result path is empty: expected a file name such as run.h5");
  const std::string cannot = "cannot write the result to '" + path_ + "': ";
  struct stat info;
  if (::stat(path_.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) throw IoError(cannot + "it is a folder");
  const size_t slash = path_.rfind('/');
  if (slash + 1 == path_.size()) throw IoError(cannot + "it ends with '/', expected a file name");
  const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
  RemoveStaleTemporaries(folder, slash == std::string::npos ? path_ : path_.substr(slash + 1));
  // O_EXCL: a leftover file that happens to carry our name is never reused.
  for (int attempt = 0;; ++attempt) {
    temporary_ = path_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(temporary_counter++);
    const int fd = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      ::close(fd);
      return;
    }
    if (errno == EEXIST && attempt < 100) continue;
    const std::string why = std::strerror(errno);
    temporary_.clear();
    throw IoError(cannot + "cannot create a file in the folder '" + folder + "': " + why);
  }
}

OutputFile::~OutputFile() {
  if (!committed_ && !temporary_.empty()) ::unlink(temporary_.c_str());
}

void OutputFile::Commit(const Results& results) {
  WriteImage(BuildImage(results, temporary_, path_), temporary_, path_);
  if (std::rename(temporary_.c_str(), path_.c_str()) != 0)
    throw IoError("cannot move the finished result to '" + path_ + "': " + std::strerror(errno));
  committed_ = true;
}

void WriteResultsHdf5(const Results& results, const std::string& path) { OutputFile(path).Commit(results); }

std::vector<unsigned char> ResultsFileImage(const Results& results) {
  // The core driver keeps no backing store: the name only has to be unique among open files.
  const std::string name = "adsim-image-" + std::to_string(::getpid()) + "-" + std::to_string(temporary_counter++);
  return BuildImage(results, name, "<in-memory result file>");
}

std::string ExistingOutputNote(const std::string& path) {
  struct stat info;
  if (path.empty() || ::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return "";
  return "the existing file '" + path + "' was left as it was: it is not the result of this run";
}

Results ReadResultsHdf5(const std::string& path) {
  std::lock_guard<std::mutex> lock(Hdf5Mutex());
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (access(path.c_str(), R_OK) != 0) throw IoError("cannot read result file '" + path + "': " + std::strerror(errno));
  if (H5Fis_hdf5(path.c_str()) <= 0) throw DataError("'" + path + "' is not an HDF5 file");
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  // Readable (checked above) but not openable: a damaged file, e.g. cut short.
  if (!file.ok()) throw DataError("'" + path + "' is damaged or truncated: HDF5 cannot open it");
  Results r;
  IterState st{&r, path, file.get(), nullptr};
  hsize_t idx = 0;
  H5Aiterate2(file.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, AttrVisitor, &st);
  std::string scenario;
  if (ReadStringDataset(file.get(), "scenario", &scenario)) r.text_attrs["scenario"] = std::move(scenario);
  if (!r.int_attrs.count("schema_version"))
    throw DataError("'" + path + "' is not an adsim result file (no schema_version attribute)");
  if (r.int_attrs.at("schema_version") > kSchemaVersion)
    throw DataError("'" + path + "' has results schema " + std::to_string(r.int_attrs.at("schema_version")) +
                    ", newer than this adsim reads (" + std::to_string(kSchemaVersion) + "): upgrade adsim");
  idx = 0;
  // Exceptions must not cross the C library: collect the first one and rethrow.
  if (H5Literate(file.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, GroupVisitor, &st) < 0) {
    if (st.error) std::rethrow_exception(st.error);
    throw DataError("'" + path + "': cannot list the tables");
  }
  return r;
}

}  // namespace adsim

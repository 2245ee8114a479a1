// The replay market (docs/replay.md): opportunities read from logs instead of
// drawn, one per logged bid request, with the logged market price as the only
// competing bid (competition frozen) and the logged outcome attached
// (Opportunity::logged) for the replay user response. Owns: reading the logs
// in chunks (CSV) or from a result file (format adsim), the bad-row rules
// (on_bad_rows), the unlogged rule (skip, or a per channel and segment Beta
// model fitted on the rows the logger won) and the `replay` result table.
// May not touch: the engine, strategies, anything but its own logs.
#include <algorithm>
#include <array>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/gamma_distribution.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/market.h"
#include "core/random.h"
#include "core/results.h"

namespace adsim {
namespace {

// The kinds of bad rows, in the order the `replay` table lists them.
enum BadKind {
  kMissingField,
  kUnparsableNumber,
  kOutOfOrder,
  kNegativePrice,
  kUnknownChannel,
  kUnknownSegment,
  kNumBadKinds
};
constexpr std::array<const char*, kNumBadKinds> kBadKindNames = {
    "missing_field", "unparsable_number", "out_of_order", "negative_price", "unknown_channel", "unknown_segment"};

// The fields of a log row, in the order of ReplaySpec::columns' keys.
enum Field {
  kTime,
  kChannel,
  kSegment,
  kUser,
  kFloor,
  kMarketPrice,
  kWon,
  kClick,
  kConversionTime,
  kValue,
  kNumFields
};
constexpr std::array<const char*, kNumFields> kFieldNames = {
    "time", "channel", "segment", "user", "floor", "market_price", "won", "click", "conversion_time", "value"};

struct Row {
  SimTime time = 0;
  int32_t channel = 0;
  int32_t segment = 0;
  int64_t user = 0;
  double market_price = 0.0;
  LoggedOutcome outcome;
  int64_t line = 0;  // line in the CSV file (1 = header), or row + 1 of the events table
};

// One line of a log, parsed: a row, or why it is bad.
struct Parsed {
  bool ok = false;
  BadKind kind = kMissingField;
  std::string detail;
  Row row;
};

// Where a log's lines come from, in file order.
class RowSource {
 public:
  virtual ~RowSource() = default;
  // The next line; false at the end of the log.
  virtual bool Read(Parsed* parsed) = 0;
};

// Lines of a file, read in chunks of 1 MiB: memory is flat in the file's
// length (a line longer than a chunk grows the buffer).
class LineReader {
 public:
  explicit LineReader(const std::string& path) : file_(std::fopen(path.c_str(), "rb")), buffer_(1 << 20) {}
  ~LineReader() {
    if (file_) std::fclose(file_);
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  bool is_open() const { return file_ != nullptr; }
  // The next line without its end-of-line characters; false at the end.
  bool Next(std::string_view* line) {
    for (;;) {
      const char* start = buffer_.data() + begin_;
      const void* newline = std::memchr(start, '\n', end_ - begin_);
      if (newline) {
        const size_t length = static_cast<const char*>(newline) - start;
        *line = TrimCarriageReturn(std::string_view(start, length));
        begin_ += length + 1;
        ++line_number_;
        return true;
      }
      if (eof_) {
        if (begin_ == end_) return false;
        *line = TrimCarriageReturn(std::string_view(start, end_ - begin_));
        begin_ = end_;
        ++line_number_;
        return true;
      }
      // Move the partial line to the front and read the next chunk.
      std::memmove(buffer_.data(), start, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
      if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
      const size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
      if (got == 0) {
        if (std::ferror(file_)) throw IoError("cannot read '" + path_for_errors_ + "'");
        eof_ = true;
      }
      end_ += got;
    }
  }
  int64_t line_number() const { return line_number_; }
  void set_path_for_errors(std::string path) { path_for_errors_ = std::move(path); }

 private:
  static std::string_view TrimCarriageReturn(std::string_view text) {
    return !text.empty() && text.back() == '\r' ? text.substr(0, text.size() - 1) : text;
  }
  std::FILE* file_;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_number_ = 0;
  std::string path_for_errors_;
};

std::string Quoted(std::string_view text) { return "'" + std::string(text.substr(0, 40)) + "'"; }

// A CSV log: a header naming the columns, then one request per line, fields
// separated by commas (no quoting: names must not contain commas).
class CsvSource final : public RowSource {
 public:
  CsvSource(const Scenario& scenario, const ReplaySpec& spec, const std::vector<int>& channels)
      : scenario_(scenario), reader_(spec.resolved) {
    reader_.set_path_for_errors(spec.resolved);
    if (!reader_.is_open())
      throw ConfigError({{scenario.source_name, spec.field, 0, "a readable log file",
                          "'" + spec.resolved + "', which cannot be opened (missing or unreadable)"}});
    std::string_view header;
    if (!reader_.Next(&header))
      throw ConfigError({{scenario.source_name, spec.field, 0, "a CSV log with a header line", "an empty file"}});
    std::vector<std::string_view> names;
    Split(header, &names);
    column_.fill(-1);
    for (int field = 0; field < kNumFields; ++field) {
      const auto named = spec.columns.find(kFieldNames[field]);
      const std::string name = named == spec.columns.end() ? kFieldNames[field] : named->second;
      for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) column_[field] = static_cast<int>(i);
      const bool required = field == kTime || field == kSegment || field == kMarketPrice ||
                            (field == kChannel && channels.size() > 1) || named != spec.columns.end();
      if (required && column_[field] < 0) {
        std::string path = spec.field.substr(0, spec.field.size() - 4) + "columns." + kFieldNames[field];
        throw ConfigError(
            {{scenario.source_name, path, 0, "a column '" + name + "' in the header of '" + spec.resolved + "'",
              "the columns " + std::string(header.substr(0, 200))}});
      }
    }
    only_channel_ = channels.size() == 1 ? channels[0] : -1;
  }

  bool Read(Parsed* parsed) override {
    std::string_view line;
    do {
      if (!reader_.Next(&line)) return false;
    } while (line.empty());
    parsed->ok = false;
    Row& row = parsed->row;
    row = Row{};
    row.line = reader_.line_number();
    Split(line, &fields_);
    std::array<std::string_view, kNumFields> value{};
    for (int field = 0; field < kNumFields; ++field) {
      if (column_[field] < 0) continue;
      if (column_[field] >= static_cast<int>(fields_.size())) {
        return Bad(parsed, kMissingField,
                   std::string("no field '") + kFieldNames[field] + "' (only " + std::to_string(fields_.size()) +
                       " fields on the line)");
      }
      value[field] = fields_[column_[field]];
    }
    for (int field : {kTime, kSegment, kMarketPrice})
      if (value[field].empty()) return Bad(parsed, kMissingField, std::string("empty ") + kFieldNames[field]);
    if (!Integer(value[kTime], &row.time))
      return Bad(parsed, kUnparsableNumber, "time " + Quoted(value[kTime]) + " is not a whole number of us");
    if (column_[kChannel] >= 0) {
      if (value[kChannel].empty()) return Bad(parsed, kMissingField, "empty channel");
      row.channel = -1;
      for (size_t c = 0; c < scenario_.channels.size(); ++c)
        if (scenario_.channels[c].name == value[kChannel]) row.channel = static_cast<int32_t>(c);
      if (row.channel < 0) return Bad(parsed, kUnknownChannel, "channel " + Quoted(value[kChannel]));
    } else {
      row.channel = only_channel_;
    }
    row.segment = -1;
    for (size_t s = 0; s < scenario_.segments.size(); ++s)
      if (scenario_.segments[s].name == value[kSegment]) row.segment = static_cast<int32_t>(s);
    if (row.segment < 0) return Bad(parsed, kUnknownSegment, "segment " + Quoted(value[kSegment]));
    if (!Real(value[kMarketPrice], &row.market_price))
      return Bad(parsed, kUnparsableNumber, "market_price " + Quoted(value[kMarketPrice]) + " is not a number");
    if (!value[kUser].empty() && !Integer(value[kUser], &row.user))
      return Bad(parsed, kUnparsableNumber, "user " + Quoted(value[kUser]) + " is not a whole number");
    double floor = 0.0;
    if (!value[kFloor].empty() && !Real(value[kFloor], &floor))
      return Bad(parsed, kUnparsableNumber, "floor " + Quoted(value[kFloor]) + " is not a number");
    if (row.market_price < 0 || floor < 0)
      return Bad(
          parsed, kNegativePrice,
          row.market_price < 0 ? "market_price " + Quoted(value[kMarketPrice]) : "floor " + Quoted(value[kFloor]));
    int64_t flag = 0;
    if (!value[kWon].empty() && (!Integer(value[kWon], &flag) || flag < 0 || flag > 1))
      return Bad(parsed, kUnparsableNumber, "won " + Quoted(value[kWon]) + " is not 0 or 1");
    row.outcome.logger_won = flag == 1;
    flag = 0;
    if (!value[kClick].empty() && (!Integer(value[kClick], &flag) || flag < 0 || flag > 1))
      return Bad(parsed, kUnparsableNumber, "click " + Quoted(value[kClick]) + " is not 0 or 1");
    row.outcome.click = row.outcome.logger_won && flag == 1;
    if (!value[kConversionTime].empty() && row.outcome.click) {
      if (!Integer(value[kConversionTime], &row.outcome.conversion_time))
        return Bad(parsed, kUnparsableNumber,
                   "conversion_time " + Quoted(value[kConversionTime]) + " is not a whole number of us");
      if (row.outcome.conversion_time < row.time)
        return Bad(parsed, kOutOfOrder, "conversion_time " + Quoted(value[kConversionTime]) + " before the request");
      if (!value[kValue].empty() && !Real(value[kValue], &row.outcome.conversion_value))
        return Bad(parsed, kUnparsableNumber, "value " + Quoted(value[kValue]) + " is not a number");
    }
    parsed->ok = true;
    return true;
  }

 private:
  // One pass over the characters: a memchr call per field costs more than
  // the fields are long.
  static void Split(std::string_view line, std::vector<std::string_view>* out) {
    out->clear();
    const char* data = line.data();
    size_t start = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (data[i] == ',') {
        out->emplace_back(data + start, i - start);
        start = i + 1;
      }
    }
    out->emplace_back(data + start, line.size() - start);
  }
  static bool Integer(std::string_view text, int64_t* out) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return error == std::errc() && end == text.data() + text.size();
  }
  static bool Real(std::string_view text, double* out) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return error == std::errc() && end == text.data() + text.size() && std::isfinite(*out);
  }
  static bool Bad(Parsed* parsed, BadKind kind, std::string detail) {
    parsed->ok = false;
    parsed->kind = kind;
    parsed->detail = std::move(detail);
    return true;
  }

  const Scenario& scenario_;
  LineReader reader_;
  std::array<int, kNumFields> column_{};
  int only_channel_ = -1;
  std::vector<std::string_view> fields_;
};

// adsim's own event log: a result file of a run with `recording.events`,
// its `events` table joined with its `conversions` table (the conversions of
// the clicks our campaigns won), channels and segments matched by name. The
// file is read whole (an event log is capped by recording.max_events).
class AdsimSource final : public RowSource {
 public:
  AdsimSource(const Scenario& scenario, const ReplaySpec& spec) {
    {
      std::FILE* probe = std::fopen(spec.resolved.c_str(), "rb");
      if (!probe)
        throw ConfigError({{scenario.source_name, spec.field, 0, "a readable adsim result file",
                            "'" + spec.resolved + "', which cannot be opened (missing or unreadable)"}});
      std::fclose(probe);
    }
    try {
      results_ = ReadResultsHdf5(spec.resolved);
    } catch (const Error& error) {
      throw ConfigError({{scenario.source_name, spec.field, 0, "an adsim result file", error.what()}});
    }
    events_ = results_.Find("events");
    if (!events_)
      throw ConfigError({{scenario.source_name, spec.field, 0,
                          "a result of a run with recording.events: true (it has an events table)",
                          "'" + spec.resolved + "' without an events table"}});
    channel_map_ = MapNames(results_, "channels", scenario, true);
    segment_map_ = MapNames(results_, "segments", scenario, false);
    time_ = &Ints(*events_, "time");
    channel_ = &Ints(*events_, "channel");
    segment_ = &Ints(*events_, "segment");
    user_ = &Ints(*events_, "user");
    winner_ = &Ints(*events_, "winner");
    click_ = &Ints(*events_, "click");
    price_ = &std::get<std::vector<double>>(ColumnOf(*events_, "top_competing_bid").data);
    if (const Table* conversions = results_.Find("conversions")) {
      const auto& click_time = Ints(*conversions, "click_time");
      const auto& time = Ints(*conversions, "time");
      const auto& channel = Ints(*conversions, "channel");
      const auto& segment = Ints(*conversions, "segment");
      const auto& user = Ints(*conversions, "user");
      const auto& value = std::get<std::vector<double>>(ColumnOf(*conversions, "value").data);
      for (size_t i = 0; i < click_time.size(); ++i)
        conversions_.emplace(std::make_tuple(click_time[i], channel[i], segment[i], user[i]),
                             std::make_pair(time[i], value[i]));
    }
  }

  bool Read(Parsed* parsed) override {
    if (next_ >= events_->rows()) return false;
    const size_t i = next_++;
    Row& row = parsed->row;
    row = Row{};
    row.line = static_cast<int64_t>(i) + 1;
    row.time = (*time_)[i];
    row.user = (*user_)[i];
    row.market_price = (*price_)[i];
    const int64_t channel = (*channel_)[i], segment = (*segment_)[i];
    parsed->ok = false;
    if (channel < 0 || channel >= static_cast<int64_t>(channel_map_.size()) || channel_map_[channel] < 0) {
      parsed->kind = kUnknownChannel;
      parsed->detail = "channel " + std::to_string(channel) + " of the result";
      return true;
    }
    if (segment < 0 || segment >= static_cast<int64_t>(segment_map_.size()) || segment_map_[segment] < 0) {
      parsed->kind = kUnknownSegment;
      parsed->detail = "segment " + std::to_string(segment) + " of the result";
      return true;
    }
    row.channel = channel_map_[channel];
    row.segment = segment_map_[segment];
    row.outcome.logger_won = (*winner_)[i] >= 0;
    row.outcome.click = row.outcome.logger_won && (*click_)[i] == 1;
    if (row.outcome.click) {
      const auto found = conversions_.find(std::make_tuple(row.time, channel, segment, row.user));
      if (found != conversions_.end()) {
        row.outcome.conversion_time = found->second.first;
        row.outcome.conversion_value = found->second.second;
        conversions_.erase(found);  // one conversion per click
      }
    }
    parsed->ok = true;
    return true;
  }

 private:
  static const Column& ColumnOf(const Table& table, const std::string& name) {
    const adsim::Column* column = table.Find(name);
    if (!column) throw DataError("the " + table.name() + " table has no column '" + name + "'");
    return *column;
  }
  static const std::vector<int64_t>& Ints(const Table& table, const std::string& name) {
    return std::get<std::vector<int64_t>>(ColumnOf(table, name).data);
  }
  // Index in the result's dictionary -> index in the scenario (-1 = unknown).
  static std::vector<int> MapNames(const Results& results, const std::string& table_name, const Scenario& scenario,
                                   bool channels) {
    std::vector<int> map;
    const Table* table = results.Find(table_name);
    if (!table) return map;
    const auto& names = std::get<std::vector<std::string>>(ColumnOf(*table, "name").data);
    for (const std::string& name : names)
      map.push_back(channels ? scenario.ChannelIndex(name) : scenario.SegmentIndex(name));
    return map;
  }

  Results results_;
  const Table* events_ = nullptr;
  const std::vector<int64_t>*time_, *channel_, *segment_, *user_, *winner_, *click_;
  const std::vector<double>* price_;
  std::vector<int> channel_map_, segment_map_;
  std::multimap<std::tuple<int64_t, int64_t, int64_t, int64_t>, std::pair<int64_t, double>> conversions_;
  size_t next_ = 0;
};

// What happened to a log's rows, per kind, with the first few line numbers.
struct RowCounts {
  int64_t read = 0;
  int64_t replayed = 0;
  int64_t after_end = 0;
  int64_t unlogged_skipped = 0;
  int64_t unlogged_modelled = 0;
  std::array<int64_t, kNumBadKinds> bad{};
  std::array<std::vector<int64_t>, kNumBadKinds> first_lines;
};

// One log file, served to the channels that name it: valid rows in time
// order, applying on_bad_rows.
class ReplayLog {
 public:
  ReplayLog(const Scenario& scenario, const ReplaySpec& spec, std::vector<int> channels)
      : scenario_(scenario), spec_(spec), channels_(std::move(channels)) {
    Open();
    if (spec_.on_bad_rows == BadRowPolicy::kSort) {
      // Sorting needs every row in memory (not flat in the log's length).
      Row row;
      while (ReadValid(&row)) sorted_.push_back(row);
      sorted_counts_ = counts_;
      std::stable_sort(sorted_.begin(), sorted_.end(), [](const Row& a, const Row& b) { return a.time < b.time; });
      source_.reset();
    }
  }

  // The next valid row before the end of the run; false when there is none.
  bool Next(Row* row) {
    if (spec_.on_bad_rows == BadRowPolicy::kSort) {
      while (sorted_next_ < sorted_.size()) {
        *row = sorted_[sorted_next_++];
        if (row->time >= scenario_.duration) {
          counts_.after_end += static_cast<int64_t>(sorted_.size() - sorted_next_ + 1);
          sorted_next_ = sorted_.size();
          return false;
        }
        return true;
      }
      return false;
    }
    if (!source_) return false;
    if (!ReadValid(row)) return false;
    if (row->time >= scenario_.duration) {  // the rest of the log is past the run
      ++counts_.after_end;
      source_.reset();
      return false;
    }
    return true;
  }

  // Back to the first row, counts cleared (after the model's fitting pass).
  void Restart() {
    counts_ = RowCounts{};
    last_time_ = 0;
    sorted_next_ = 0;
    if (spec_.on_bad_rows != BadRowPolicy::kSort)
      Open();
    else
      counts_ = sorted_counts_;
  }

  RowCounts& counts() { return counts_; }
  const RowCounts& counts() const { return counts_; }
  const ReplaySpec& spec() const { return spec_; }

 private:
  void Open() {
    if (spec_.format == "adsim")
      source_ = std::make_unique<AdsimSource>(scenario_, spec_);
    else
      source_ = std::make_unique<CsvSource>(scenario_, spec_, channels_);
  }

  bool ReadValid(Row* row) {
    Parsed parsed;
    while (source_->Read(&parsed)) {
      ++counts_.read;
      if (parsed.ok && std::find(channels_.begin(), channels_.end(), parsed.row.channel) == channels_.end()) {
        parsed.ok = false;
        parsed.kind = kUnknownChannel;
        parsed.detail = "channel '" + scenario_.channels[parsed.row.channel].name + "' does not name this log";
      }
      if (parsed.ok && spec_.on_bad_rows != BadRowPolicy::kSort && parsed.row.time < last_time_) {
        parsed.ok = false;
        parsed.kind = kOutOfOrder;
        parsed.detail =
            "time " + std::to_string(parsed.row.time) + " before the previous row's " + std::to_string(last_time_);
      }
      if (parsed.ok && parsed.row.time < 0) {
        parsed.ok = false;
        parsed.kind = kOutOfOrder;
        parsed.detail = "time " + std::to_string(parsed.row.time) + " before the scenario start (0)";
      }
      if (!parsed.ok) {
        const int64_t line = parsed.row.line;
        if (spec_.on_bad_rows == BadRowPolicy::kFail)
          throw DataError(spec_.resolved + ":" + std::to_string(line) + ": bad row (" + kBadKindNames[parsed.kind] +
                          "): " + parsed.detail + "; " + spec_.field.substr(0, spec_.field.size() - 4) +
                          "on_bad_rows: skip or sort drops such rows");
        ++counts_.bad[parsed.kind];
        if (counts_.first_lines[parsed.kind].size() < 5) counts_.first_lines[parsed.kind].push_back(line);
        continue;
      }
      last_time_ = parsed.row.time;
      *row = parsed.row;
      return true;
    }
    return false;
  }

  const Scenario& scenario_;
  const ReplaySpec& spec_;
  std::vector<int> channels_;
  std::unique_ptr<RowSource> source_;
  RowCounts counts_;
  RowCounts sorted_counts_;
  SimTime last_time_ = 0;
  std::vector<Row> sorted_;
  size_t sorted_next_ = 0;
};

// The model of unlogged outcomes for one channel x segment: click and
// conversion rates drawn once per run from their Beta posteriors (uniform
// priors) over the rows the logger won, the mean logged delay and value.
struct OutcomeModel {
  int64_t won = 0, clicks = 0, conversions = 0;
  double delay_sum_us = 0.0, value_sum = 0.0;
  double ctr = 0.0, cvr = 0.0, mean_delay_us = 0.0, mean_value = 0.0;
};

double BetaDraw(Stream& stream, double a, double b) {
  boost::random::gamma_distribution<double> gamma_a(a), gamma_b(b);
  const double x = gamma_a(stream.engine());
  const double y = gamma_b(stream.engine());
  return x / (x + y);
}

class ReplayMarket final : public Market {
 public:
  ReplayMarket(const Scenario& scenario, uint64_t seed) : scenario_(scenario) {
    const int num_channels = static_cast<int>(scenario.channels.size());
    // One reader per distinct log path; the channels naming it share it.
    for (int c = 0; c < num_channels; ++c) {
      const auto& replay = scenario.channels[c].replay;
      if (!replay) throw ConfigError("the replay market needs traffic.replay on every channel");
      int found = -1;
      for (size_t l = 0; l < specs_.size(); ++l)
        if (specs_[l]->resolved == replay->resolved) found = static_cast<int>(l);
      if (found < 0) {
        specs_.push_back(&*replay);
        log_channels_.emplace_back();
        found = static_cast<int>(specs_.size()) - 1;
      }
      log_channels_[found].push_back(c);
    }
    for (size_t l = 0; l < specs_.size(); ++l) {
      logs_.push_back(std::make_unique<ReplayLog>(scenario, *specs_[l], log_channels_[l]));
      log_seeds_.push_back(StreamSeed(seed, "market/replay/" + scenario.channels[log_channels_[l][0]].name));
    }
    const size_t cells = scenario.channels.size() * scenario.segments.size();
    models_.resize(cells);
    unlogged_model_.assign(scenario.channels.size(), false);
    bool any_model = false;
    for (int c = 0; c < num_channels; ++c) {
      unlogged_model_[c] = scenario.channels[c].replay->unlogged == UnloggedPolicy::kModel;
      any_model |= unlogged_model_[c];
    }
    if (any_model) FitModels(seed);
    pending_.resize(logs_.size());
    has_pending_.assign(logs_.size(), false);
    for (size_t l = 0; l < logs_.size(); ++l) Advance(l);
  }

  size_t Generate(SimTime until, Opportunity* out, size_t max) override {
    if (outcomes_.size() < max) outcomes_.resize(max);  // once: the engine asks for the same batch size
    size_t n = 0;
    while (n < max) {
      int best = -1;
      SimTime best_time = until;
      for (size_t l = 0; l < logs_.size(); ++l)
        if (has_pending_[l] && pending_[l].time < best_time) {
          best_time = pending_[l].time;
          best = static_cast<int>(l);
        }
      if (best < 0) break;
      const Row& row = pending_[best];
      Opportunity& opportunity = out[n];
      opportunity.time = row.time;
      opportunity.channel = row.channel;
      opportunity.segment = row.segment;
      opportunity.user = row.user;
      opportunity.response_key = Mix64(log_seeds_[best] ^ static_cast<uint64_t>(row.line));
      opportunity.competing[0] = row.market_price;
      for (int slot = 1; slot < kMaxSlots; ++slot) opportunity.competing[slot] = 0.0;
      opportunity.competing_scale = 1.0;
      opportunity.competing_as_logs = false;
      opportunity.propensity = nullptr;
      outcomes_[n] = row.outcome;
      opportunity.logged = &outcomes_[n];
      ++n;
      Advance(best);
    }
    return n;
  }

  // Logged prices and outcomes are what the market was: shocks do not change
  // them (conversion_tracking shocks still apply, in the engine).
  void OnConditionsChanged(SimTime /*now*/, const MarketConditions& /*conditions*/) override {}
  bool HasLoggedOutcomes() const override { return true; }

  void AddTables(Results& results) const override {
    Table& table = results.Add("replay", "What happened to each replayed log's rows, per kind (docs/replay.md)");
    auto& log = table.Text("log", "the log's path as written in the scenario");
    auto& kind =
        table.Text("kind", "read, replayed, a kind of bad row, after_end, unlogged_skipped, unlogged_modelled");
    auto& rows = table.Int("rows", "count", "rows of that kind");
    auto& lines = table.Text("first_lines", "the first (up to 5) line numbers of a kind of bad row");
    for (const auto& replay_log : logs_) {
      const RowCounts& counts = replay_log->counts();
      auto add = [&](const std::string& name, int64_t count, const std::vector<int64_t>* first) {
        log.push_back(replay_log->spec().path);
        kind.push_back(name);
        rows.push_back(count);
        std::string text;
        if (first)
          for (int64_t line : *first) text += (text.empty() ? "" : " ") + std::to_string(line);
        lines.push_back(text);
      };
      add("read", counts.read, nullptr);
      add("replayed", counts.replayed, nullptr);
      for (int k = 0; k < kNumBadKinds; ++k) add(kBadKindNames[k], counts.bad[k], &counts.first_lines[k]);
      add("after_end", counts.after_end, nullptr);
      add("unlogged_skipped", counts.unlogged_skipped, nullptr);
      add("unlogged_modelled", counts.unlogged_modelled, nullptr);
    }
    table.CheckShape();
  }

 private:
  // The next row of log `l` to offer, applying the unlogged rule.
  void Advance(size_t l) {
    ReplayLog& log = *logs_[l];
    Row& row = pending_[l];
    while (log.Next(&row)) {
      if (!row.outcome.logger_won) {
        if (!unlogged_model_[row.channel]) {
          ++log.counts().unlogged_skipped;
          continue;
        }
        ModelOutcome(log_seeds_[l], &row);
        ++log.counts().unlogged_modelled;
      }
      ++log.counts().replayed;
      has_pending_[l] = true;
      return;
    }
    has_pending_[l] = false;
  }

  // A first pass over the logs: the won rows' counts per channel x segment,
  // then one Beta draw per rate for this run.
  void FitModels(uint64_t seed) {
    for (auto& log : logs_) {
      Row row;
      while (log->Next(&row)) {
        if (!row.outcome.logger_won) continue;
        OutcomeModel& model = models_[Cell(row.channel, row.segment)];
        ++model.won;
        if (!row.outcome.click) continue;
        ++model.clicks;
        if (row.outcome.conversion_time < 0) continue;
        ++model.conversions;
        model.delay_sum_us += static_cast<double>(row.outcome.conversion_time - row.time);
        model.value_sum += row.outcome.conversion_value;
      }
      log->Restart();
    }
    const int num_segments = static_cast<int>(scenario_.segments.size());
    for (size_t c = 0; c < scenario_.channels.size(); ++c) {
      for (int s = 0; s < num_segments; ++s) {
        OutcomeModel& model = models_[Cell(static_cast<int>(c), s)];
        Stream stream(seed, "market/replay/model/" + scenario_.channels[c].name + "/" + scenario_.segments[s].name);
        model.ctr = BetaDraw(stream, 1.0 + model.clicks, 1.0 + model.won - model.clicks);
        model.cvr = BetaDraw(stream, 1.0 + model.conversions, 1.0 + model.clicks - model.conversions);
        model.mean_delay_us = model.conversions > 0 ? model.delay_sum_us / model.conversions : 0.0;
        model.mean_value = model.conversions > 0 ? model.value_sum / model.conversions : 0.0;
      }
    }
  }

  // A lost row's outcome from the model: click, conversion, exponential delay
  // with the logged mean, the mean logged value; drawn from the row's own key.
  void ModelOutcome(uint64_t log_seed, Row* row) const {
    const OutcomeModel& model = models_[Cell(row->channel, row->segment)];
    ResponseRng rng(Mix64(log_seed ^ static_cast<uint64_t>(row->line)), 0);
    row->outcome.modelled = true;
    row->outcome.click = rng.Uniform() < model.ctr;
    if (!row->outcome.click || !(rng.Uniform() < model.cvr)) return;
    boost::random::exponential_distribution<double> exponential(1.0);
    row->outcome.conversion_time =
        row->time + std::max<SimTime>(1, static_cast<SimTime>(model.mean_delay_us * exponential(rng)));
    row->outcome.conversion_value = model.mean_value;
  }

  size_t Cell(int channel, int segment) const {
    return static_cast<size_t>(channel) * scenario_.segments.size() + segment;
  }

  const Scenario& scenario_;
  std::vector<const ReplaySpec*> specs_;
  std::vector<std::vector<int>> log_channels_;
  std::vector<std::unique_ptr<ReplayLog>> logs_;
  std::vector<uint64_t> log_seeds_;
  std::vector<Row> pending_;
  std::vector<bool> has_pending_;
  std::vector<LoggedOutcome> outcomes_;
  std::vector<OutcomeModel> models_;
  std::vector<bool> unlogged_model_;
};

}  // namespace

ADSIM_REGISTER_MARKET("replay", "opportunities read from logs (traffic.replay), competition frozen at the logged price",
                      ReplayMarket);

}  // namespace adsim

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
#include "simulators/synthetic.h"

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
  kCreative,
  kQuality,
  kNumFields
};
constexpr std::array<const char*, kNumFields> kFieldNames = {
    "time", "channel", "segment",         "user",  "floor",    "market_price",
    "won",  "click",   "conversion_time", "value", "creative", "quality"};

// The exact powers of ten of a double (10^22 is the last one).
constexpr double kPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

struct Row {
  SimTime time = 0;
  int32_t channel = 0;
  int32_t segment = 0;
  int64_t user = 0;
  double market_price = 0.0;
  LoggedOutcome outcome;
  int32_t creative = -1;  // the logger's creative: index in the log's creative names, -1 = not logged
  int64_t line = 0;       // line in the CSV file (1 = header), or row + 1 of the events table
  // The market price as it was spelled, when it was a plain decimal read by
  // CsvSource::ParseFast: market_price = price_digits / 10^price_decimals
  // (-1: not known), so that the row cache can keep a few bytes instead of 8.
  uint64_t price_digits = 0;
  int32_t price_decimals = -1;
};

// One line of a log, parsed: a row (written straight into the reader's
// row, so that a good row is not copied), or why it is bad.
struct Parsed {
  bool ok = false;
  BadKind kind = kMissingField;
  std::string detail;
  Row* row = nullptr;
};

// Where a log's lines come from, in file order.
class RowSource {
 public:
  virtual ~RowSource() = default;
  // The next line; false at the end of the log.
  virtual bool Read(Parsed* parsed) = 0;
};

// Lines of a file, read in chunks of 1 MiB: memory is flat in the file's
// length (a line longer than a chunk grows the buffer). The character just
// after a line returned by Next is always readable and is '\r' or '\n' (a
// last line without a newline gets a '\n' written after it, in the buffer's
// spare bytes), so a parser may scan a line's fields without checking its
// end at every character; and the kSpareBytes after the line's end are
// readable, so it may load 8 bytes at any position of the line
// (CsvSource::ParseFast).
class LineReader {
 public:
  static constexpr size_t kSpareBytes = 16;
  explicit LineReader(const std::string& path)
      : file_(std::fopen(path.c_str(), "rb")), buffer_((1 << 20) + kSpareBytes) {}
  ~LineReader() {
    if (file_) std::fclose(file_);
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  bool is_open() const { return file_ != nullptr; }
  // The next line without its end-of-line characters; false at the end.
  // (The common case, a whole line in the buffer, is small enough to be
  // inlined into the parser's loop; the rest is NextAfterRefill.)
  bool Next(std::string_view* line) {
    const char* start = buffer_.data() + begin_;
    const void* newline = std::memchr(start, '\n', end_ - begin_);
    if (!newline) return NextAfterRefill(line);
    const size_t length = static_cast<const char*>(newline) - start;
    *line = TrimCarriageReturn(std::string_view(start, length));
    begin_ += length + 1;
    ++line_number_;
    return true;
  }
  // Next when the buffer holds no whole line: reads the next chunk.
  bool NextAfterRefill(std::string_view* line) {
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
      const size_t capacity = buffer_.size() - kSpareBytes;
      if (end_ == capacity) buffer_.resize(2 * capacity + kSpareBytes);
      const size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - kSpareBytes - end_, file_);
      if (got == 0) {
        if (std::ferror(file_)) throw IoError("cannot read '" + path_for_errors_ + "'");
        eof_ = true;
      }
      end_ += got;
      buffer_[end_] = '\n';  // the sentinel after a last line without a newline
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
  CsvSource(const Scenario& scenario, const ReplaySpec& spec, const std::vector<int>& channels,
            std::vector<std::string>* creative_names)
      : reader_(spec.resolved), creative_names_(creative_names) {
    reader_.set_path_for_errors(spec.resolved);
    if (!reader_.is_open())
      throw ConfigError({{scenario.source_name, spec.field, 0, "a readable log file",
                          "'" + spec.resolved + "', which cannot be opened (missing or unreadable)"}});
    std::string_view header;
    if (!reader_.Next(&header))
      throw ConfigError({{scenario.source_name, spec.field, 0, "a CSV log with a header line", "an empty file"}});
    fields_.resize(1025);
    std::vector<std::string_view> names(fields_.begin(), fields_.begin() + std::min(Split(header), fields_.size() - 1));
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
    for (const ChannelSpec& channel : scenario.channels) channel_names_.push_back(channel.name);
    for (const SegmentSpec& segment : scenario.segments) segment_names_.push_back(segment.name);
    for (const std::string& name : channel_names_) channel_words_.emplace_back(name);
    for (const std::string& name : segment_names_) segment_words_.emplace_back(name);
    last_column_ = *std::max_element(column_.begin(), column_.end());
    fields_.assign(static_cast<size_t>(last_column_) + 2, std::string_view());
    for (int field = 0; field < kNumFields; ++field)
      slot_[field] = column_[field] >= 0 ? column_[field] : last_column_ + 1;
    // The fast path reads each column by the field it holds (kNumFields:
    // none); a column that two fields read (a `columns` mapping) leaves the
    // whole log to the general path.
    handler_.assign(static_cast<size_t>(last_column_) + 1, kNumFields);
    for (int field = 0; field < kNumFields; ++field) {
      if (column_[field] < 0) continue;
      if (handler_[column_[field]] != kNumFields) fast_ = false;
      handler_[column_[field]] = static_cast<int8_t>(field);
    }
    // The usual column order (the fields' own order, time to value, then
    // optionally creative and quality) gets a fast path of its own, decided
    // here once for the file: ParseInOrder.
    in_order_ = fast_ && last_column_ >= kValue;
    for (int column = 0; column <= last_column_; ++column)
      if (handler_[column] != column) in_order_ = false;
    // Names read before a second pass over the same log keep their indices.
    for (size_t i = 0; i < creative_names_->size(); ++i)
      creative_index_.emplace((*creative_names_)[i], static_cast<int32_t>(i));
  }

  bool Read(Parsed* parsed) override {
    std::string_view line;
    do {
      if (!reader_.Next(&line)) return false;
    } while (line.empty());
    if (in_order_ ? ParseInOrder(line, parsed->row) : fast_ && ParseFast(line, parsed->row)) {
      parsed->row->line = reader_.line_number();
      parsed->ok = true;
      return true;
    }
    // The general path: any row the fast path does not take, among them
    // every bad row, whose kind and message come from here.
    parsed->ok = false;
    Row& row = *parsed->row;
    row = Row{};
    row.line = reader_.line_number();
    const size_t found = Split(line);
    if (found <= static_cast<size_t>(last_column_)) {
      for (int field = 0; field < kNumFields; ++field)
        if (column_[field] >= static_cast<int>(found))
          return Bad(parsed, kMissingField,
                     std::string("no field '") + kFieldNames[field] + "' (only " + std::to_string(found) +
                         " fields on the line)");
    }
    // An absent column reads the always empty last entry of fields_.
    std::array<std::string_view, kNumFields> value;
    for (int field = 0; field < kNumFields; ++field) value[field] = fields_[slot_[field]];
    for (int field : {kTime, kSegment, kMarketPrice})
      if (value[field].empty()) return Bad(parsed, kMissingField, std::string("empty ") + kFieldNames[field]);
    if (!Integer(value[kTime], &row.time))
      return Bad(parsed, kUnparsableNumber, "time " + Quoted(value[kTime]) + " is not a whole number of us");
    if (column_[kChannel] >= 0) {
      if (value[kChannel].empty()) return Bad(parsed, kMissingField, "empty channel");
      row.channel = Lookup(channel_names_, value[kChannel]);
      if (row.channel < 0) return Bad(parsed, kUnknownChannel, "channel " + Quoted(value[kChannel]));
    } else {
      row.channel = only_channel_;
    }
    row.segment = Lookup(segment_names_, value[kSegment]);
    if (row.segment < 0) return Bad(parsed, kUnknownSegment, "segment " + Quoted(value[kSegment]));
    if (!Real(value[kMarketPrice], &row.market_price))
      return Bad(parsed, kUnparsableNumber, "market_price " + Quoted(value[kMarketPrice]) + " is not a number");
    if (!value[kUser].empty() && !Integer(value[kUser], &row.user))
      return Bad(parsed, kUnparsableNumber, "user " + Quoted(value[kUser]) + " is not a whole number");
    // The logged floor is only checked (the channel's floor applies); logs
    // repeat a few floors, so a floor spelled like the last good one is not
    // parsed again.
    double floor = 0.0;
    const std::string_view floor_text = value[kFloor];
    if (!floor_text.empty() && !(floor_text.size() == good_floor_.size() &&
                                 std::memcmp(floor_text.data(), good_floor_.data(), floor_text.size()) == 0)) {
      if (!Real(floor_text, &floor))
        return Bad(parsed, kUnparsableNumber, "floor " + Quoted(floor_text) + " is not a number");
      if (floor >= 0) {
        good_floor_.assign(floor_text.data(), floor_text.size());
        good_floor_word_ = ShortText(good_floor_);
      }
    }
    if (row.market_price < 0 || floor < 0)
      return Bad(
          parsed, kNegativePrice,
          row.market_price < 0 ? "market_price " + Quoted(value[kMarketPrice]) : "floor " + Quoted(value[kFloor]));
    int flag = 0;
    if (!Flag(value[kWon], &flag))
      return Bad(parsed, kUnparsableNumber, "won " + Quoted(value[kWon]) + " is not 0 or 1");
    row.outcome.logger_won = flag == 1;
    if (!Flag(value[kClick], &flag))
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
    if (!value[kQuality].empty() && (!Real(value[kQuality], &row.outcome.quality) || !(row.outcome.quality > 0)))
      return Bad(parsed, kUnparsableNumber, "quality " + Quoted(value[kQuality]) + " is not a number above 0");
    if (!value[kCreative].empty()) row.creative = CreativeIndex(value[kCreative]);
    parsed->ok = true;
    return true;
  }

 private:
  // The end of a row both fast paths read: the outcome from the won and click
  // flags (each 0 or 1) and the conversion, value, quality and creative
  // fields, checked as the general parser checks them; false sends the row
  // to the general parser.
  bool FinishFastRow(unsigned won, unsigned click, std::string_view conversion_text, std::string_view value_text,
                     std::string_view quality_text, std::string_view creative_text, Row* row) {
    row->outcome.logger_won = won == 1;
    row->outcome.click = (won & click) == 1;
    if (!conversion_text.empty() && row->outcome.click) {
      if (!Integer(conversion_text, &row->outcome.conversion_time) || row->outcome.conversion_time < row->time)
        return false;
      if (!value_text.empty() && !Real(value_text, &row->outcome.conversion_value)) return false;
    }
    if (!quality_text.empty() && (!Real(quality_text, &row->outcome.quality) || !(row->outcome.quality > 0)))
      return false;
    if (!creative_text.empty()) row->creative = CreativeIndex(creative_text);
    return true;
  }

  // The fast path for a row in the common spelling: every number plain
  // digits (prices and values with an optional '.' and decimals; no sign,
  // no exponent), names that the scenario has, a floor spelled like the last
  // good one. It reads the line once, column by column, each field parsed
  // where it stands (no split, no copy), and returns false, leaving the line
  // to the general path in Read, on anything else: a row it takes is valid
  // and gets the same values, bit for bit, as from the general path (the
  // same digit loops and the same exact division as Real's fast path), and
  // every bad row is judged and reported by the general path alone.
  // Relies on LineReader's guarantee: the character after the line is '\r'
  // or '\n', which ends a field as the line's end does.
  bool ParseFast(std::string_view line, Row* row) {
    const char* p = line.data();
    const char* const end = p + line.size();
    *row = Row{};
    row->channel = only_channel_;
    int won = 0, click = 0;
    std::string_view conversion_text, value_text, quality_text, creative_text;
    bool has_segment = false;
    for (int column = 0;; ++column) {
      const char* const start = p;
      switch (handler_[column]) {
        case kTime:
          if (!Digits(&p, &row->time)) return false;
          break;
        case kUser:
          if (*p != ',' && p != end && !Digits(&p, &row->user)) return false;
          break;
        case kMarketPrice:
          if (!Decimal(&p, &row->market_price, &row->price_digits, &row->price_decimals)) return false;
          break;
        case kChannel:
          row->channel = MatchName(&p, end, channel_names_, channel_words_, &last_channel_);
          if (row->channel < 0) return false;
          break;
        case kSegment:
          row->segment = MatchName(&p, end, segment_names_, segment_words_, &last_segment_);
          if (row->segment < 0) return false;
          has_segment = true;
          break;
        case kFloor:
          if (p != end && *p != ',') {
            if (!IsField(p, end, good_floor_word_)) return false;
            p += good_floor_word_.size;
          }
          break;
        case kWon:
        case kClick:
          if (*p == '0' || *p == '1') {
            (handler_[column] == kWon ? won : click) = *p - '0';
            ++p;
          }
          break;
        case kConversionTime:
          p = FieldEnd(p, end);
          conversion_text = std::string_view(start, p - start);
          break;
        case kValue:
          p = FieldEnd(p, end);
          value_text = std::string_view(start, p - start);
          break;
        case kQuality:
          p = FieldEnd(p, end);
          quality_text = std::string_view(start, p - start);
          break;
        case kCreative:
          p = FieldEnd(p, end);
          creative_text = std::string_view(start, p - start);
          break;
        default:  // a column no field reads
          p = FieldEnd(p, end);
          break;
      }
      // Each field must end exactly at a comma (or, for the last column
      // read, at the line's end): "12x" or a missing column is not taken.
      if (column == last_column_) {
        if (p != end && *p != ',') return false;
        break;
      }
      if (p == end || *p != ',') return false;
      ++p;
    }
    if (!has_segment) return false;
    return FinishFastRow(static_cast<unsigned>(won), static_cast<unsigned>(click), conversion_text, value_text,
                         quality_text, creative_text, row);
  }
  // ParseFast for a log whose columns are the fields in their own order
  // (time, channel, segment, user, floor, market_price, won, click,
  // conversion_time, value, then optionally creative and quality: the
  // benchmark's and adsim's own layout), decided once per file: the same
  // checks and values as ParseFast, bit for bit, in straight-line code (no
  // dispatch per column), and false on every row ParseFast refuses (and on
  // the few it takes whose later columns are not the usual ones), which
  // then go to the general path.
  bool ParseInOrder(std::string_view line, Row* row) {
    const char* p = line.data();
    const char* const end = p + line.size();
    // The character at `end` is '\r' or '\n' (LineReader), never a comma:
    // `*p == ','` is a field ending before the line's end. Every field of
    // the row is set below (as Row{} would, without clearing it first).
    row->user = 0;
    row->outcome = LoggedOutcome{};
    row->creative = -1;
    if (!Digits(&p, &row->time) || *p != ',') return false;
    ++p;
    row->channel = MatchName(&p, end, channel_names_, channel_words_, &last_channel_);
    if (row->channel < 0 || *p != ',') return false;
    ++p;
    row->segment = MatchName(&p, end, segment_names_, segment_words_, &last_segment_);
    if (row->segment < 0 || *p != ',') return false;
    ++p;
    if (*p != ',' && !Digits(&p, &row->user)) return false;
    if (*p != ',') return false;
    ++p;
    if (*p != ',') {
      if (!IsField(p, end, good_floor_word_)) return false;
      p += good_floor_word_.size;
      if (*p != ',') return false;
    }
    ++p;
    if (!Decimal(&p, &row->market_price, &row->price_digits, &row->price_decimals) || *p != ',') return false;
    ++p;
    // won and click: '0', '1' or empty (0), read without branches.
    const unsigned won_digit = static_cast<unsigned char>(*p) - '0';
    const unsigned won = won_digit <= 1 ? won_digit : 0;
    p += won_digit <= 1;
    if (*p != ',') return false;
    ++p;
    const unsigned click_digit = static_cast<unsigned char>(*p) - '0';
    const unsigned click = click_digit <= 1 ? click_digit : 0;
    p += click_digit <= 1;
    std::string_view conversion_text, value_text, creative_text, quality_text;
    if (!NextField(&p, end, &conversion_text)) return false;
    if (!NextField(&p, end, &value_text)) return false;  // the value column is missing
    if (last_column_ >= kCreative && !NextField(&p, end, &creative_text)) return false;
    if (last_column_ >= kQuality && !NextField(&p, end, &quality_text)) return false;
    // (FieldEnd stops at a comma or at the line's end: the last column read
    // ends there as in ParseFast.)
    return FinishFastRow(won, click, conversion_text, value_text, quality_text, creative_text, row);
  }
  // Where the field starting at p ends: its comma, or the line's end.
  static const char* FieldEnd(const char* p, const char* end) {
    while (p != end && *p != ',') ++p;
    return p;
  }
  // The field after the comma at *p: its text, *p left at its end; false when
  // *p is not a comma (a column is missing).
  static bool NextField(const char** p, const char* end, std::string_view* text) {
    if (**p != ',') return false;
    const char* const start = ++*p;
    *p = FieldEnd(start, end);
    *text = std::string_view(start, static_cast<size_t>(*p - start));
    return true;
  }
  // A short text (1 to 8 characters) as the bytes of one word, so that a
  // field is compared with it in one load (size 0: too long, never matches).
  struct ShortText {
    uint64_t bits = 0, mask = 0;
    size_t size = 0;
    explicit ShortText(std::string_view text = {}) {
      if (text.empty() || text.size() > 8) return;
      size = text.size();
      std::memcpy(&bits, text.data(), size);
      mask = size == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
    }
  };
  // Whether the field at p is exactly `text` (then followed by a comma or
  // the line's end). Loads 8 bytes at p: LineReader's spare bytes.
  static bool IsField(const char* p, const char* end, const ShortText& text) {
    if (text.size == 0 || static_cast<size_t>(end - p) < text.size) return false;
    uint64_t word;
    std::memcpy(&word, p, 8);
    return (word & text.mask) == text.bits && (p + text.size == end || p[text.size] == ',');
  }
  // The index among `names` of the name at *p, moving *p to its end; the
  // last name found is tried first, then the others, each in one word (logs
  // run in streaks, and most have one channel and few segments), then, for
  // names longer than a word, every name; -1 if none.
  // (Inlined: called twice a row.)
  [[gnu::always_inline]] static int32_t MatchName(const char** p, const char* end,
                                                  const std::vector<std::string>& names,
                                                  const std::vector<ShortText>& words, int32_t* last) {
    // The field's first 8 bytes in one load (LineReader's spare bytes), and
    // IsField's test against each name's word, without branches (a log's
    // segments alternate at random: a guess would often be wrong).
    const char* const start = *p;
    const size_t room = static_cast<size_t>(end - start);
    uint64_t word;
    std::memcpy(&word, start, 8);
    auto is_field = [&](const ShortText& text) {
      return (text.size != 0) & (text.size <= room) & ((word & text.mask) == text.bits) &
             ((text.size == room) | (start[text.size] == ','));
    };
    if (words.size() <= 4) {  // few names: all of them tried
      int32_t found = -1;
      for (size_t i = 0; i < words.size(); ++i) found = is_field(words[i]) ? static_cast<int32_t>(i) : found;
      if (found >= 0) {
        *p = start + words[found].size;
        return found;
      }
    } else {
      if (*last >= 0 && is_field(words[*last])) {
        *p = start + words[*last].size;
        return *last;
      }
      const size_t tried = std::min<size_t>(words.size(), 16);
      for (size_t i = 0; i < tried; ++i)
        if (is_field(words[i])) {
          *p = start + words[i].size;
          *last = static_cast<int32_t>(i);
          return *last;
        }
    }
    return MatchLongName(p, end, names, last);
  }
  // MatchName's fallback: the name at *p compared with every name.
  static int32_t MatchLongName(const char** p, const char* end, const std::vector<std::string>& names, int32_t* last) {
    const char* const start = *p;
    *p = FieldEnd(start, end);
    const int32_t found = Lookup(names, std::string_view(start, *p - start));
    if (found >= 0) *last = found;
    return found;
  }

  // The run of digits at *q appended to *value (value x 10^n + the digits),
  // eight characters at a time; returns n and moves *q past them. A run of
  // more than 19 digits wraps *value: callers refuse such runs. Per word,
  // the first non-digit byte is the lowest byte whose high nibble is not 3
  // or which reaches 0x40 when 6 is added (0x3a to 0x3f), and the digits
  // are combined by three multiplications (as in simdjson and fast_float's
  // parse_eight_digits_unrolled), after shifting them to the word's top so
  // that the missing leading digits read as zeros. Loads 8 bytes at *q:
  // LineReader's spare bytes.
  static ptrdiff_t DigitRun(const char** q, uint64_t* value) {
    static constexpr uint64_t kPowers[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    constexpr uint64_t kHighNibbles = 0xf0f0f0f0f0f0f0f0ULL, kZeros = 0x3030303030303030ULL,
                       kSixes = 0x0606060606060606ULL, kLowBytes = 0x000000ff000000ffULL;
    ptrdiff_t total = 0;
    for (;;) {
      uint64_t word;
      std::memcpy(&word, *q, 8);
      const uint64_t non_digits = ((word & kHighNibbles) ^ kZeros) | (((word + kSixes) & kHighNibbles) ^ kZeros);
      const int count = non_digits ? __builtin_ctzll(non_digits) / 8 : 8;
      if (count > 0) {
        uint64_t digits = (word - kZeros) << (8 * (8 - count));  // (a shift by 64 cannot happen: count > 0)
        digits = digits * 10 + (digits >> 8);
        digits =
            (((digits & kLowBytes) * 0x000f424000000064ULL) + (((digits >> 16) & kLowBytes) * 0x0000271000000001ULL)) >>
            32;
        *value = *value * kPowers[count] + (digits & 0xffffffffULL);
        *q += count;
        total += count;
      }
      if (count < 8) return total;
    }
  }
  // 1 to 18 decimal digits at *p (no sign), read as Integer reads them;
  // moves *p past them.
  static bool Digits(const char** p, int64_t* out) {
    const char* q = *p;
    uint64_t value = 0;  // unsigned: a too long number wraps (then refused) instead of overflowing
    const ptrdiff_t count = DigitRun(&q, &value);
    if (count == 0 || count > 18) return false;
    *out = static_cast<int64_t>(value);
    *p = q;
    return true;
  }
  // Digits, optionally '.' and more digits, taken only where Real's fast
  // path takes them (at most 19 digits, mantissa <= 2^53, at most 22
  // decimals), giving the same double (mantissa / 10^decimals, exact
  // operands, one correctly rounded division); moves *p past them.
  static bool Decimal(const char** p, double* out, uint64_t* digits, int32_t* decimals) {
    const char* q = *p;
    uint64_t mantissa = 0;
    // A price below 1 spelled "0.": its one integer digit adds nothing to
    // the mantissa (as DigitRun would find, at the cost of a word).
    const bool zero_point = q[0] == '0' && q[1] == '.';
    q += zero_point;
    const ptrdiff_t integer_digits = zero_point ? 1 : DigitRun(&q, &mantissa);
    if (integer_digits == 0) return false;
    ptrdiff_t fraction_digits = 0;
    if (*q == '.') {
      ++q;
      fraction_digits = DigitRun(&q, &mantissa);
      if (fraction_digits == 0) return false;
    }
    if (integer_digits + fraction_digits > 19 || mantissa > (uint64_t{1} << 53) || fraction_digits > 22) return false;
    *out = static_cast<double>(mantissa) / kPowersOfTen[fraction_digits];
    *digits = mantissa;
    *decimals = static_cast<int32_t>(fraction_digits);
    *p = q;
    return true;
  }
  // Splits a line at its commas into fields_ (the columns up to the last one
  // a field reads; later ones are only counted) and returns the number of
  // fields on the line. Eight characters at a time: each comma is a zero
  // byte of the word XOR ",,,,,,,,", found exactly (no carries between
  // bytes) by the bit trick of "Bit Twiddling Hacks" (haszero, exact form).
  size_t Split(std::string_view line) {
    const char* data = line.data();
    const size_t size = line.size();
    const size_t kept = fields_.size() - 1;  // the last entry stays empty (absent columns)
    size_t count = 0, start = 0, i = 0;
    auto cut = [&](size_t at) {
      if (count < kept) fields_[count] = std::string_view(data + start, at - start);
      ++count;
      start = at + 1;
    };
    constexpr uint64_t kCommas = 0x2c2c2c2c2c2c2c2cULL, kLow7 = 0x7f7f7f7f7f7f7f7fULL;
    for (; i + 8 <= size; i += 8) {
      uint64_t word;
      std::memcpy(&word, data + i, 8);
      const uint64_t x = word ^ kCommas;
      uint64_t zero = ~(((x & kLow7) + kLow7) | x | kLow7);  // 0x80 in each byte that is a comma
      while (zero) {
        cut(i + static_cast<size_t>(__builtin_ctzll(zero)) / 8);  // bytes in memory order (little-endian)
        zero &= zero - 1;
      }
    }
    for (; i < size; ++i)
      if (data[i] == ',') cut(i);
    cut(size);
    return count;
  }
  // The index of a logged creative's name in the log's creative names, added
  // when new (the last one found is tried first: logs run in streaks).
  int32_t CreativeIndex(std::string_view name) {
    if (last_creative_ >= 0 && (*creative_names_)[last_creative_] == name) return last_creative_;
    auto found = creative_index_.find(name);
    if (found == creative_index_.end()) {
      creative_names_->emplace_back(name);
      found = creative_index_.emplace(std::string(name), static_cast<int32_t>(creative_names_->size() - 1)).first;
    }
    last_creative_ = found->second;
    return last_creative_;
  }
  // The index of `name` among `names`, -1 if absent.
  static int32_t Lookup(const std::vector<std::string>& names, std::string_view name) {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i].size() == name.size() && !name.empty() && names[i][0] == name[0] &&
          std::memcmp(names[i].data(), name.data(), name.size()) == 0)
        return static_cast<int32_t>(i);
    return -1;
  }
  // A whole number: digits with an optional '-'; longer numbers than 18
  // digits go through std::from_chars (which checks the range).
  static bool Integer(std::string_view text, int64_t* out) {
    const char* p = text.data();
    const char* end = p + text.size();
    const bool negative = p != end && *p == '-';
    if (negative) ++p;
    if (p == end || end - p > 18) return FromChars(text, out);
    int64_t value = 0;
    for (; p != end; ++p) {
      const unsigned digit = static_cast<unsigned>(*p) - '0';
      if (digit > 9) return false;
      value = value * 10 + digit;
    }
    *out = negative ? -value : value;
    return true;
  }
  static bool FromChars(std::string_view text, int64_t* out) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return error == std::errc() && end == text.data() + text.size();
  }
  // 0 or 1 (an empty field is 0).
  static bool Flag(std::string_view text, int* out) {
    if (text.empty()) {
      *out = 0;
      return true;
    }
    if (text.size() != 1 || (text[0] != '0' && text[0] != '1')) return false;
    *out = text[0] - '0';
    return true;
  }
  // A finite decimal number, as std::from_chars reads it, bit for bit. The
  // fast path takes plain decimals (digits, '.', digits) whose digits make
  // a whole number m <= 2^53 with k <= 22 digits after the point: m and
  // 10^k are exact doubles, so m / 10^k is the correctly rounded value,
  // which is what from_chars returns (Clinger's fast path). Anything else
  // (exponents, long mantissas, malformed text) goes to from_chars.
  static bool Real(std::string_view text, double* out) {
    const char* p = text.data();
    const char* end = p + text.size();
    const bool negative = p != end && *p == '-';
    if (negative) ++p;
    uint64_t mantissa = 0;
    int digits = 0, fraction_digits = 0;
    const char* integer_start = p;
    for (; p != end && static_cast<unsigned>(*p - '0') <= 9; ++p, ++digits)
      mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    const bool has_integer = p != integer_start;
    if (p != end && *p == '.') {
      ++p;
      for (; p != end && static_cast<unsigned>(*p - '0') <= 9; ++p, ++digits, ++fraction_digits)
        mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    }
    if (p == end && has_integer && (fraction_digits > 0 || text.back() != '.') && digits <= 19 &&
        mantissa <= (uint64_t{1} << 53) && fraction_digits <= 22) {
      const double value = static_cast<double>(mantissa) / kPowersOfTen[fraction_digits];
      *out = negative ? -value : value;
      return true;
    }
    const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return error == std::errc() && stop == text.data() + text.size() && std::isfinite(*out);
  }
  static bool Bad(Parsed* parsed, BadKind kind, std::string detail) {
    parsed->ok = false;
    parsed->kind = kind;
    parsed->detail = std::move(detail);
    return true;
  }

  LineReader reader_;
  std::array<int, kNumFields> column_{};  // the column of each field, -1 if the log has none
  std::array<int, kNumFields> slot_{};    // the entry of fields_ each field reads
  int last_column_ = 0;                   // the last column a field reads
  int only_channel_ = -1;
  std::vector<std::string> channel_names_, segment_names_;
  std::vector<std::string>* creative_names_;  // the log's, kept by ReplayLog across passes
  std::map<std::string, int32_t, std::less<>> creative_index_;
  int32_t last_creative_ = -1;
  std::vector<std::string_view> fields_;                  // the fields of the current line, up to the last column read
  std::string good_floor_;                                // the text of the last floor that parsed and was not negative
  ShortText good_floor_word_;                             // good_floor_ as one word (ParseFast)
  std::vector<ShortText> channel_words_, segment_words_;  // the names as words (ParseFast)
  int32_t last_channel_ = -1, last_segment_ = -1;         // the names the last fast row had
  std::vector<int8_t> handler_;  // per column up to last_column_: the field it holds, kNumFields if none
  bool fast_ = true;             // whether ParseFast may be tried (no column read by two fields)
  bool in_order_ = false;        // whether the columns are the fields in their own order (ParseInOrder)
};

// adsim's own event log: a result file of a run with `recording.events`,
// its `events` table joined with its `conversions` table (the conversions of
// the clicks our campaigns won), channels and segments matched by name. The
// logger's creative is the winning campaign's creative, named through the
// result's `creatives` table; the logged quality is the events' `quality`
// (files written before it existed have none: 0, the engine's own). The
// file is read whole (an event log is capped by recording.max_events).
class AdsimSource final : public RowSource {
 public:
  AdsimSource(const Scenario& scenario, const ReplaySpec& spec, std::vector<std::string>* creative_names) {
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
    creative_ = &Ints(*events_, "creative");
    if (const Column* quality = events_->Find("quality")) quality_ = &std::get<std::vector<double>>(quality->data);
    // (campaign, creative) of the recorded run -> index in the log's creative
    // names, one index per distinct name (creatives are matched by name).
    if (const Table* creatives = results_.Find("creatives")) {
      const auto& campaign = Ints(*creatives, "campaign");
      const auto& creative = Ints(*creatives, "creative");
      const auto& name = std::get<std::vector<std::string>>(ColumnOf(*creatives, "name").data);
      for (size_t i = 0; i < name.size(); ++i) {
        auto named = std::find(creative_names->begin(), creative_names->end(), name[i]);
        if (named == creative_names->end()) named = creative_names->insert(creative_names->end(), name[i]);
        creative_of_[{campaign[i], creative[i]}] = static_cast<int32_t>(named - creative_names->begin());
      }
    }
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
    Row& row = *parsed->row;
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
    if (row.outcome.logger_won) {
      const auto named = creative_of_.find({(*winner_)[i], (*creative_)[i]});
      if (named != creative_of_.end()) row.creative = named->second;
    }
    if (quality_ && (*quality_)[i] > 0) row.outcome.quality = (*quality_)[i];
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
  const std::vector<int64_t>*time_, *channel_, *segment_, *user_, *winner_, *click_, *creative_;
  const std::vector<double>* price_;
  const std::vector<double>* quality_ = nullptr;                // absent in files written before it was recorded
  std::map<std::pair<int64_t, int64_t>, int32_t> creative_of_;  // (campaign, creative) -> the log's creative name
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

// The valid rows of a log's first pass (the model's fitting pass, unlogged:
// model), kept in an anonymous temporary file (std::tmpfile: removed when
// closed, also if the process dies) so that the replay's pass reads them back
// instead of parsing the log a second time. Memory stays flat in the log's
// length (a 1 MiB buffer); the file is about 11 bytes a row: each row is a
// flags byte, then variable-length integers (7 bits a byte) of the time and
// line as increases over the previous row's (rows come in time order: the
// cache is not used under on_bad_rows: sort; the line's only when it is not
// the next line), the channel (only when it is not the previous row's), the
// segment, the user (zigzag: it may be negative) and the creative + 1 (only
// when logged), then the market price (its decimal digits as a whole number
// and its number of decimals when it was spelled as a plain decimal, which
// give the same double back by the same division; else its 8 bytes), the
// quality's 8 bytes when logged, and, for a row with a conversion, the
// conversion's delay and its value.
class RowCache {
 public:
  RowCache() : file_(std::tmpfile()), buffer_(kBufferBytes) {
    if (!file_)
      throw IoError(
          "cannot create a temporary file for the replay's row cache (unlogged: model reads the log once "
          "and keeps its rows there): check TMPDIR's space and permissions");
  }
  ~RowCache() { std::fclose(file_); }
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  void Write(const Row& row) {
    if (end_ + kMaxRowBytes > buffer_.size()) Flush();
    uint8_t* out = buffer_.data() + end_;
    const bool converts = row.outcome.click && row.outcome.conversion_time >= 0;
    const bool has_quality = row.outcome.quality > 0;
    const bool next_line = row.line == previous_line_ + 1;
    const bool same_channel = row.channel == previous_channel_;
    const bool has_creative = row.creative >= 0;
    const bool decimal_price = row.price_decimals >= 0;
    const uint64_t time_step = static_cast<uint64_t>(row.time - previous_time_);
    const uint64_t user_zigzag = (static_cast<uint64_t>(row.user) << 1) ^ static_cast<uint64_t>(row.user >> 63);
    previous_time_ = row.time;
    previous_line_ = row.line;
    previous_channel_ = row.channel;
    if (next_line && same_channel && !has_creative && decimal_price && !has_quality && !row.outcome.click &&
        time_step < kCompactLimit && user_zigzag < kCompactLimit && row.price_digits < kCompactLimit &&
        row.segment < 256) {
      // The common row in one fixed record of 12 bytes: the flags, then the
      // time step (3 bytes), the segment (1), the user (3), the price's
      // digits (3) and decimals (1).
      out[0] = static_cast<uint8_t>(kCompactMarker | (row.outcome.logger_won ? kWonFlag : 0));
      const uint64_t first = time_step | static_cast<uint64_t>(row.segment) << 24 | user_zigzag << 32;
      std::memcpy(out + 1, &first, 8);
      const uint32_t second = static_cast<uint32_t>(row.price_digits) | static_cast<uint32_t>(row.price_decimals) << 24;
      std::memcpy(out + 8, &second, 4);
      end_ += kCompactBytes;
      return;
    }
    *out++ = static_cast<uint8_t>((row.outcome.logger_won ? kWonFlag : 0) | (row.outcome.click ? kClickFlag : 0) |
                                  (converts ? kConvertsFlag : 0) | (has_quality ? kQualityFlag : 0) |
                                  (next_line ? kNextLineFlag : 0) | (same_channel ? kSameChannelFlag : 0) |
                                  (has_creative ? kCreativeFlag : 0) | (decimal_price ? kDecimalPriceFlag : 0));
    out = PutVarint(out, time_step);
    if (!next_line) out = PutVarint(out, static_cast<uint64_t>(row.line) - static_cast<uint64_t>(previous_line_));
    if (!same_channel) out = PutVarint(out, static_cast<uint64_t>(row.channel));
    out = PutVarint(out, static_cast<uint64_t>(row.segment));
    out = PutVarint(out, user_zigzag);
    if (has_creative) out = PutVarint(out, static_cast<uint64_t>(row.creative));
    if (decimal_price) {
      out = PutVarint(out, row.price_digits);
      *out++ = static_cast<uint8_t>(row.price_decimals);
    } else {
      std::memcpy(out, &row.market_price, 8);
      out += 8;
    }
    if (has_quality) {
      std::memcpy(out, &row.outcome.quality, 8);
      out += 8;
    }
    if (converts) {
      out = PutVarint(out, static_cast<uint64_t>(row.outcome.conversion_time - row.time));
      std::memcpy(out, &row.outcome.conversion_value, 8);
      out += 8;
    }
    end_ = static_cast<size_t>(out - buffer_.data());
  }
  // From writing to reading, at the first row.
  void Rewind() {
    Flush();
    std::rewind(file_);
    begin_ = end_ = 0;
    previous_time_ = previous_line_ = 0;
    previous_channel_ = -1;
    eof_ = false;
  }
  bool Read(Row* row) {
    if (end_ - begin_ < kMaxRowBytes && !eof_) Refill();
    if (begin_ == end_) return false;
    const uint8_t* in = buffer_.data() + begin_;
    const uint8_t flags = *in++;
    // Every field of the row is set below (as Row{} would, without clearing it first).
    row->outcome = LoggedOutcome{};
    row->creative = -1;
    if ((flags & (kConvertsFlag | kClickFlag)) == kCompactMarker) {
      uint64_t first;
      std::memcpy(&first, in, 8);
      uint32_t second;
      std::memcpy(&second, in + 7, 4);
      row->time = previous_time_ + static_cast<SimTime>(first & 0xffffff);
      row->line = previous_line_ + 1;
      row->channel = previous_channel_;
      row->segment = static_cast<int32_t>((first >> 24) & 0xff);
      const uint64_t user = (first >> 32) & 0xffffff;
      row->user = static_cast<int64_t>(user >> 1) ^ -static_cast<int64_t>(user & 1);
      row->price_digits = second & 0xffffff;
      row->price_decimals = static_cast<int32_t>(second >> 24);
      row->market_price = static_cast<double>(row->price_digits) / kPowersOfTen[row->price_decimals];
      row->outcome.logger_won = (flags & kWonFlag) != 0;
      begin_ += kCompactBytes;
      previous_time_ = row->time;
      previous_line_ = row->line;
      return true;
    }
    row->time = previous_time_ + static_cast<SimTime>(GetVarint(&in));
    row->line = previous_line_ + (flags & kNextLineFlag ? 1 : static_cast<int64_t>(GetVarint(&in)));
    row->channel = flags & kSameChannelFlag ? previous_channel_ : static_cast<int32_t>(GetVarint(&in));
    row->segment = static_cast<int32_t>(GetVarint(&in));
    const uint64_t user = GetVarint(&in);
    row->user = static_cast<int64_t>(user >> 1) ^ -static_cast<int64_t>(user & 1);
    if (flags & kCreativeFlag) row->creative = static_cast<int32_t>(GetVarint(&in));
    if (flags & kDecimalPriceFlag) {
      row->price_digits = GetVarint(&in);
      row->price_decimals = *in++;
      row->market_price = static_cast<double>(row->price_digits) / kPowersOfTen[row->price_decimals];
    } else {
      row->price_digits = 0;
      row->price_decimals = -1;
      std::memcpy(&row->market_price, in, 8);
      in += 8;
    }
    if (flags & kQualityFlag) {
      std::memcpy(&row->outcome.quality, in, 8);
      in += 8;
    }
    row->outcome.logger_won = (flags & kWonFlag) != 0;
    row->outcome.click = (flags & kClickFlag) != 0;
    if (flags & kConvertsFlag) {
      row->outcome.conversion_time = row->time + static_cast<SimTime>(GetVarint(&in));
      std::memcpy(&row->outcome.conversion_value, in, 8);
      in += 8;
    }
    begin_ = static_cast<size_t>(in - buffer_.data());
    previous_time_ = row->time;
    previous_line_ = row->line;
    previous_channel_ = row->channel;
    return true;
  }

 private:
  enum Flags : uint8_t {
    kWonFlag = 1,
    kClickFlag = 2,
    kConvertsFlag = 4,
    kQualityFlag = 8,
    kNextLineFlag = 16,       // the line is the previous row's + 1: not written
    kSameChannelFlag = 32,    // the channel is the previous row's: not written
    kCreativeFlag = 64,       // a logged creative follows
    kDecimalPriceFlag = 128,  // the price as decimal digits and decimals, not 8 bytes
    // A conversion without a click, which a general record cannot have,
    // marks the fixed 12-byte record of a common row (Write).
    kCompactMarker = kConvertsFlag
  };
  static constexpr uint64_t kCompactLimit = uint64_t{1} << 24;  // time step, user and price digits in 3 bytes
  static constexpr size_t kCompactBytes = 12;
  static constexpr size_t kBufferBytes = 1 << 20;
  static constexpr size_t kMaxRowBytes = 1 + 8 * 10 + 1 + 3 * 8;  // flags, eight varints, decimals, three doubles
  static uint8_t* PutVarint(uint8_t* out, uint64_t value) {
    while (value >= 0x80) {
      *out++ = static_cast<uint8_t>(value | 0x80);
      value >>= 7;
    }
    *out++ = static_cast<uint8_t>(value);
    return out;
  }
  static uint64_t GetVarint(const uint8_t** in) {
    uint64_t value = 0;
    for (int shift = 0;; shift += 7) {
      const uint8_t byte = *(*in)++;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  }
  void Flush() {
    if (end_ > 0 && std::fwrite(buffer_.data(), 1, end_, file_) != end_)
      throw IoError("cannot write the replay's temporary row cache (unlogged: model): is TMPDIR full?");
    end_ = 0;
  }
  // Moves the unread bytes to the front and reads more after them.
  void Refill() {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    const size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
    if (got == 0) {
      if (std::ferror(file_)) throw IoError("cannot read the replay's temporary row cache back");
      eof_ = true;
    }
    end_ += got;
  }
  std::FILE* file_;
  std::vector<uint8_t> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  SimTime previous_time_ = 0;
  int64_t previous_line_ = 0;
  int32_t previous_channel_ = -1;
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
  // (Small, so that it is inlined where the replay reads the row cache.)
  bool Next(Row* row) {
    if (reading_cache_) return cache_->Read(row);
    return NextFromLog(row);
  }

  // Next, from the log (or the sorted rows), not from the row cache.
  bool NextFromLog(Row* row) {
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
    if (cache_) cache_->Write(*row);
    return true;
  }

  // Before a first pass that Restart will follow (the model's fitting pass):
  // the rows it reads are kept (RowCache) for the pass after Restart.
  void CacheFirstPass() {
    if (spec_.on_bad_rows != BadRowPolicy::kSort) cache_ = std::make_unique<RowCache>();
  }

  // Back to the first row after a whole first pass (the model's fitting
  // pass). The counts of rows read, dropped and after the end stay: the
  // second pass reads the same rows, from the cache (or the sorted rows).
  void Restart() {
    sorted_next_ = 0;
    if (spec_.on_bad_rows == BadRowPolicy::kSort) {
      counts_ = sorted_counts_;
      return;
    }
    if (cache_) {
      cache_->Rewind();
      reading_cache_ = true;
      return;
    }
    counts_ = RowCounts{};
    last_time_ = 0;
    source_.reset();
    Open();
  }

  RowCounts& counts() { return counts_; }
  const RowCounts& counts() const { return counts_; }
  // The logger's creatives named by the rows read so far (Row::creative).
  const std::vector<std::string>& creative_names() const { return creative_names_; }
  const ReplaySpec& spec() const { return spec_; }

 private:
  void Open() {
    if (spec_.format == "adsim")
      source_ = std::make_unique<AdsimSource>(scenario_, spec_, &creative_names_);
    else
      source_ = std::make_unique<CsvSource>(scenario_, spec_, channels_, &creative_names_);
  }

  bool ReadValid(Row* row) {
    Parsed& parsed = parsed_;
    parsed.row = row;  // the source parses into *row
    while (source_->Read(&parsed)) {
      ++counts_.read;
      if (parsed.ok && std::find(channels_.begin(), channels_.end(), parsed.row->channel) == channels_.end()) {
        parsed.ok = false;
        parsed.kind = kUnknownChannel;
        parsed.detail = "channel '" + scenario_.channels[parsed.row->channel].name + "' does not name this log";
      }
      if (parsed.ok && spec_.on_bad_rows != BadRowPolicy::kSort && parsed.row->time < last_time_) {
        parsed.ok = false;
        parsed.kind = kOutOfOrder;
        parsed.detail =
            "time " + std::to_string(parsed.row->time) + " before the previous row's " + std::to_string(last_time_);
      }
      if (parsed.ok && parsed.row->time < 0) {
        parsed.ok = false;
        parsed.kind = kOutOfOrder;
        parsed.detail = "time " + std::to_string(parsed.row->time) + " before the scenario start (0)";
      }
      if (!parsed.ok) {
        const int64_t line = parsed.row->line;
        if (spec_.on_bad_rows == BadRowPolicy::kFail)
          throw DataError(spec_.resolved + ":" + std::to_string(line) + ": bad row (" + kBadKindNames[parsed.kind] +
                          "): " + parsed.detail + "; " + spec_.field.substr(0, spec_.field.size() - 4) +
                          "on_bad_rows: skip or sort drops such rows");
        ++counts_.bad[parsed.kind];
        if (counts_.first_lines[parsed.kind].size() < 5) counts_.first_lines[parsed.kind].push_back(line);
        continue;
      }
      last_time_ = row->time;
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
  Parsed parsed_;  // the current line (a member: no construction per row)
  std::vector<std::string> creative_names_;
  std::unique_ptr<RowCache> cache_;  // the first pass's rows, with unlogged: model
  bool reading_cache_ = false;
};

// The model of unlogged outcomes for one channel x segment: click and
// conversion rates drawn once per run from their Beta posteriors (uniform
// priors) over the rows the logger won, the mean logged delay and value.
struct OutcomeModel {
  int64_t won = 0, clicks = 0, conversions = 0;
  double delay_sum_us = 0.0, value_sum = 0.0;
  // Counts a row: a won row as a win, a lost one not at all (a lost row has
  // no click), without a branch on which it is (they come at random).
  void Count(const Row& row) {
    won += row.outcome.logger_won;
    if (!row.outcome.click) return;
    ++clicks;
    if (row.outcome.conversion_time < 0) return;
    ++conversions;
    delay_sum_us += static_cast<double>(row.outcome.conversion_time - row.time);
    value_sum += row.outcome.conversion_value;
  }
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
      if (!replay) {  // a synthetic channel beside the replayed ones
        if (!synthetic_) synthetic_ = std::make_unique<SyntheticMarket>(scenario, seed);
        continue;
      }
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
    creative_models_.resize(cells);
    for (const CampaignSpec& campaign : scenario.campaigns)
      for (const CreativeSpec& creative : campaign.creatives) our_creatives_.push_back(creative.name);
    unlogged_model_.assign(scenario.channels.size(), false);
    bool any_model = false;
    for (int c = 0; c < num_channels; ++c) {
      unlogged_model_[c] =
          scenario.channels[c].replay && scenario.channels[c].replay->unlogged == UnloggedPolicy::kModel;
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
    bool synthetic_done = !synthetic_;  // no synthetic opportunity left before `until`
    while (n < max) {
      int best = -1;
      SimTime best_time = until;
      for (size_t l = 0; l < logs_.size(); ++l)
        if (has_pending_[l] && pending_[l].time < best_time) {
          best_time = pending_[l].time;
          best = static_cast<int>(l);
        }
      // The synthetic channels' stream, merged by time (a logged request
      // first at equal times). Buffered opportunities are before an earlier
      // `until`, so a change of conditions at or after it cannot concern them.
      if (!synthetic_done && synthetic_next_ == synthetic_count_) {
        synthetic_count_ = synthetic_->Generate(until, synthetic_buffer_.data(), synthetic_buffer_.size());
        synthetic_next_ = 0;
        synthetic_done = synthetic_count_ == 0;
      }
      if (synthetic_next_ < synthetic_count_ && synthetic_buffer_[synthetic_next_].time < best_time) {
        out[n++] = synthetic_buffer_[synthetic_next_++];
        continue;
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
  // Synthetic channels beside replayed ones follow the conditions as usual.
  void OnConditionsChanged(SimTime now, const MarketConditions& conditions) override {
    if (synthetic_) synthetic_->OnConditionsChanged(now, conditions);
  }
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
      const bool lost = !row.outcome.logger_won;
      if (!unlogged_model_[row.channel] && lost) {
        ++log.counts().unlogged_skipped;
        continue;
      }
      // A lost row is modelled: the user response draws the outcome of the
      // creative that wins (set without a branch on lost or won: they come
      // at random).
      row.outcome.modelled = lost;
      row.outcome.model = lost ? &rates_[Cell(row.channel, row.segment) * our_creatives_.size()] : nullptr;
      log.counts().unlogged_modelled += lost;
      ++log.counts().replayed;
      has_pending_[l] = true;
      return;
    }
    has_pending_[l] = false;
  }

  // A first pass over the logs: the won rows' counts per channel x segment,
  // and per channel x segment x logged creative when the log names the
  // logger's creatives; then, for each channel x segment and each creative
  // of ours, one Beta draw per rate for this run: from the logged creative
  // of the same name if the log has one, else from the segment's pooled
  // counts. Both with uniform Beta(1, 1) priors.
  void FitModels(uint64_t seed) {
    for (auto& log : logs_) {
      log->CacheFirstPass();
      Row row;
      while (log->Next(&row)) {
        const size_t cell = Cell(row.channel, row.segment);
        models_[cell].Count(row);  // (counts only the rows the logger won)
        if (row.creative < 0 || !row.outcome.logger_won) continue;
        auto& by_creative = creative_models_[cell];
        if (by_creative.size() <= static_cast<size_t>(row.creative)) by_creative.resize(row.creative + 1);
        by_creative[row.creative].Count(row);
      }
      log->Restart();
    }
    const int num_segments = static_cast<int>(scenario_.segments.size());
    const size_t num_ours = our_creatives_.size();
    rates_.resize(models_.size() * num_ours);
    for (size_t c = 0; c < scenario_.channels.size(); ++c) {
      const ReplayLog* log = LogOf(static_cast<int>(c));
      if (!log) continue;  // a synthetic channel
      for (int s = 0; s < num_segments; ++s) {
        const size_t cell = Cell(static_cast<int>(c), s);
        const std::string stream_path =
            "market/replay/model/" + scenario_.channels[c].name + "/" + scenario_.segments[s].name;
        const ModelledRates pooled = Draw(models_[cell], models_[cell], seed, stream_path);
        for (size_t ours = 0; ours < num_ours; ++ours) {
          const auto& names = log->creative_names();
          const auto named = std::find(names.begin(), names.end(), our_creatives_[ours]);
          if (named == names.end()) {
            rates_[cell * num_ours + ours] = pooled;
            continue;
          }
          const size_t logged = static_cast<size_t>(named - names.begin());
          const OutcomeModel none;
          const OutcomeModel& model = logged < creative_models_[cell].size() ? creative_models_[cell][logged] : none;
          rates_[cell * num_ours + ours] = Draw(model, models_[cell], seed, stream_path + "/" + *named);
        }
      }
    }
  }

  // The rates of one model for this run: click and conversion rates drawn
  // from Beta(1 + clicks, 1 + wins - clicks) and Beta(1 + conversions,
  // 1 + clicks - conversions) on the stream `path` of the run's seed; the
  // mean logged delay and value, from `fallback` when `model` has no conversion.
  static ModelledRates Draw(const OutcomeModel& model, const OutcomeModel& fallback, uint64_t seed,
                            const std::string& path) {
    Stream stream(seed, path);
    ModelledRates rates;
    rates.ctr = BetaDraw(stream, 1.0 + model.clicks, 1.0 + model.won - model.clicks);
    rates.cvr = BetaDraw(stream, 1.0 + model.conversions, 1.0 + model.clicks - model.conversions);
    const OutcomeModel& means = model.conversions > 0 ? model : fallback;
    rates.mean_delay_us = means.conversions > 0 ? means.delay_sum_us / means.conversions : 0.0;
    rates.mean_value = means.conversions > 0 ? means.value_sum / means.conversions : 0.0;
    return rates;
  }

  // The log a channel replays, null for a synthetic channel.
  const ReplayLog* LogOf(int channel) const {
    for (size_t l = 0; l < logs_.size(); ++l)
      if (std::find(log_channels_[l].begin(), log_channels_[l].end(), channel) != log_channels_[l].end())
        return logs_[l].get();
    return nullptr;
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
  std::vector<char> has_pending_;  // (not vector<bool>: read for every row)
  std::vector<LoggedOutcome> outcomes_;
  std::vector<OutcomeModel> models_;                        // per channel x segment, pooled over creatives
  std::vector<std::vector<OutcomeModel>> creative_models_;  // per channel x segment, per logged creative
  std::vector<std::string> our_creatives_;                  // campaigns in order, their creatives in order
  std::vector<ModelledRates> rates_;                        // [channel x segment][our creative]: this run's drawn rates
  std::vector<bool> unlogged_model_;
  // The synthetic channels (none: null), exactly as the synthetic market
  // draws them (one stream per channel), and its opportunities not yet merged.
  std::unique_ptr<SyntheticMarket> synthetic_;
  std::array<Opportunity, 256> synthetic_buffer_{};
  size_t synthetic_next_ = 0, synthetic_count_ = 0;
};

}  // namespace

ADSIM_REGISTER_MARKET("replay", "opportunities read from logs (traffic.replay), competition frozen at the logged price",
                      ReplayMarket);

}  // namespace adsim

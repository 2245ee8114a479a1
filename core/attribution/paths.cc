// Owns PathData's bookkeeping and the reader of `path;conversions;value;null`
// CSV files (core/attribution/paths.h): every rejected row is reported with
// the file, the line, the column and what was expected.
#include "core/attribution/paths.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <variant>

#include "core/error.h"

namespace adsim::attribution {

int PathData::ChannelIndex(const std::string& name) {
  const auto [it, inserted] = index_.emplace(name, static_cast<int>(channel_names.size()));
  if (inserted) channel_names.push_back(name);
  return it->second;
}

double PathData::TotalConversions() const {
  double total = 0;
  for (const Path& p : paths) total += p.conversions;
  return total;
}

double PathData::TotalValue() const {
  double total = 0;
  for (const Path& p : paths) total += p.value;
  return total;
}

double PathData::TotalNulls() const {
  double total = 0;
  for (const Path& p : paths) total += p.nulls;
  return total;
}

namespace {

std::string Trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string> SplitFields(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t end = line.find(';', start);
    fields.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return fields;
}

[[noreturn]] void Fail(const std::string& source, int line, const std::string& field, const std::string& expected,
                       const std::string& found) {
  std::ostringstream message;
  message << source << ":" << line << ": " << field << ": expected " << expected;
  if (!found.empty()) message << ", found " << found;
  throw DataError(message.str());
}

std::string Quoted(const std::string& text) {
  const size_t limit = 60;
  return "'" + (text.size() > limit ? text.substr(0, limit) + "..." : text) + "'";
}

double ParseCount(const std::string& source, int line, const std::string& field, const std::string& raw) {
  const std::string text = Trim(raw);
  if (text.empty()) Fail(source, line, field, "a number >= 0", "an empty field");
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value) || value < 0)
    Fail(source, line, field, "a finite number >= 0", Quoted(text));
  return value;
}

}  // namespace

PathData ReadPathsCsv(std::istream& in, const std::string& source) {
  PathData data;
  std::string line;
  int line_number = 0;
  int path_column = -1, conversions_column = -1, value_column = -1, null_column = -1;
  std::vector<std::string> header;
  // The header: the first non-blank line.
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (Trim(line).empty()) continue;
    if (line_number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a UTF-8 byte order mark
    header = SplitFields(line);
    for (int i = 0; i < static_cast<int>(header.size()); ++i) {
      const std::string name = Trim(header[i]);
      int* column = nullptr;
      if (name == "path") column = &path_column;
      if (name == "total_conversions" || name == "conversions") column = &conversions_column;
      if (name == "total_conversion_value" || name == "conversion_value" || name == "value") column = &value_column;
      if (name == "total_null" || name == "null") column = &null_column;
      if (column == nullptr)
        Fail(source, line_number, "header", "the columns path;total_conversions;total_conversion_value;total_null",
             "unknown column " + Quoted(name));
      if (*column >= 0) Fail(source, line_number, "header", "each column once", "a second " + Quoted(name));
      *column = i;
    }
    if (path_column < 0)
      Fail(source, line_number, "header", "a column 'path' (channels joined by ' > ')", Quoted(line));
    if (conversions_column < 0)
      Fail(source, line_number, "header", "a column 'total_conversions' (or 'conversions')", Quoted(line));
    break;
  }
  if (header.empty())
    Fail(source, std::max(line_number, 1), "header",
         "a header row path;total_conversions;total_conversion_value;total_null", "an empty file");
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (Trim(line).empty()) continue;
    const std::vector<std::string> fields = SplitFields(line);
    if (fields.size() != header.size())
      Fail(source, line_number, "row", std::to_string(header.size()) + " fields separated by ';'",
           std::to_string(fields.size()) + " in " + Quoted(line));
    Path path;
    const std::string& path_text = fields[path_column];
    size_t start = 0;
    while (true) {
      const size_t end = path_text.find('>', start);
      const std::string channel =
          Trim(path_text.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (channel.empty())
        Fail(source, line_number, "path",
             "channel names joined by ' > ' (no empty name, touch " + std::to_string(path.channels.size() + 1) + ")",
             Quoted(path_text));
      path.channels.push_back(data.ChannelIndex(channel));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    path.conversions = ParseCount(source, line_number, Trim(header[conversions_column]), fields[conversions_column]);
    if (value_column >= 0)
      path.value = ParseCount(source, line_number, Trim(header[value_column]), fields[value_column]);
    if (null_column >= 0) path.nulls = ParseCount(source, line_number, Trim(header[null_column]), fields[null_column]);
    if (path.conversions == 0 && path.value != 0)
      Fail(source, line_number, Trim(header[value_column]), "0 on a path without conversions",
           Quoted(Trim(fields[value_column])));
    data.paths.push_back(std::move(path));
  }
  if (in.bad()) throw IoError(source + ": reading failed");
  return data;
}

PathData PathsFromLists(const std::vector<std::string>& conversion_paths, const std::vector<double>& conversion_values,
                        const std::vector<std::string>& null_paths, const std::vector<int64_t>& null_users) {
  PathData data;
  std::unordered_map<std::string, size_t> index;
  auto path_of = [&](const std::string& text) -> Path& {
    const auto [it, inserted] = index.emplace(text, data.paths.size());
    if (inserted) {
      Path path;
      size_t start = 0;
      for (;;) {
        const size_t end = text.find(" > ", start);
        path.channels.push_back(data.ChannelIndex(text.substr(start, end - start)));
        if (end == std::string::npos) break;
        start = end + 3;
      }
      data.paths.push_back(std::move(path));
    }
    return data.paths[it->second];
  };
  for (size_t row = 0; row < conversion_paths.size(); ++row) {
    if (conversion_paths[row].empty()) continue;
    Path& path = path_of(conversion_paths[row]);
    path.conversions += 1;
    path.value += conversion_values[row];
  }
  for (size_t row = 0; row < null_paths.size(); ++row)
    if (!null_paths[row].empty()) path_of(null_paths[row]).nulls += static_cast<double>(null_users[row]);
  return data;
}

PathData CampaignPathsFromJourneys(const Results& results, const std::string& source) {
  const Table* table = results.Find("journey_campaign_paths");
  if (!table)
    throw DataError("'" + source +
                    "': expected a result of a scenario with journeys.truth: true (table journey_campaign_paths; "
                    "docs/journeys.md), found none");
  auto column = [&](const std::string& name) -> const Column& {
    const Column* found = table->Find(name);
    if (!found) throw DataError("'" + source + "': table journey_campaign_paths: expected a column '" + name + "'");
    return *found;
  };
  const auto& texts = std::get<std::vector<std::string>>(column("path").data);
  const auto& conversions = std::get<std::vector<double>>(column("total_conversions").data);
  const auto& values = std::get<std::vector<double>>(column("total_conversion_value").data);
  const auto& nulls = std::get<std::vector<int64_t>>(column("total_null").data);
  PathData data;
  for (size_t row = 0; row < texts.size(); ++row) {
    if (texts[row].empty()) continue;
    Path path;
    for (size_t start = 0;;) {
      const size_t end = texts[row].find(" > ", start);
      path.channels.push_back(data.ChannelIndex(texts[row].substr(start, end - start)));
      if (end == std::string::npos) break;
      start = end + 3;
    }
    path.conversions = conversions[row];
    path.value = values[row];
    path.nulls = static_cast<double>(nulls[row]);
    data.paths.push_back(std::move(path));
  }
  return data;
}

PathData PathsFromJourneys(const Results& results, const std::string& source) {
  const Table* conversions = results.Find("journey_conversions");
  const Table* nulls = results.Find("journey_paths");
  if (!conversions || !nulls)
    throw DataError("'" + source +
                    "': expected a result of a scenario with journeys (tables journey_conversions and journey_paths; "
                    "docs/journeys.md), found none");
  auto column = [&source](const Table& table, const std::string& name) -> const Column& {
    const Column* found = table.Find(name);
    if (!found) throw DataError("'" + source + "': table " + table.name() + ": expected a column '" + name + "'");
    return *found;
  };
  const auto& conversion_paths = std::get<std::vector<std::string>>(column(*conversions, "path").data);
  const auto& conversion_values = std::get<std::vector<double>>(column(*conversions, "value").data);
  const auto& null_paths = std::get<std::vector<std::string>>(column(*nulls, "path").data);
  const auto& null_users = std::get<std::vector<int64_t>>(column(*nulls, "users").data);
  PathData data = PathsFromLists(conversion_paths, conversion_values, null_paths, null_users);
  if (const Table* holdout = results.Find("journey_holdout")) {
    const Table* channels = results.Find("channels");
    if (!channels) throw DataError("'" + source + "': expected a table 'channels' beside journey_holdout");
    const auto& channel_names = std::get<std::vector<std::string>>(column(*channels, "name").data);
    const auto& channel_index = std::get<std::vector<int64_t>>(column(*holdout, "channel").data);
    std::vector<std::string> names;
    for (const int64_t c : channel_index) {
      if (c < 0 || c >= static_cast<int64_t>(channel_names.size()))
        throw DataError("'" + source +
                        "': table journey_holdout: channel: expected an index into the channels table, found " +
                        std::to_string(c));
      names.push_back(channel_names[c]);
    }
    auto numbers = [&](const std::string& name) { return std::get<std::vector<double>>(column(*holdout, name).data); };
    const std::vector<std::string> groups = {"held_out", "exposed"};
    for (size_t row = 0; row < names.size(); ++row) {
      ChannelHoldout channel;
      channel.channel = names[row];
      data.ChannelIndex(names[row]);
      for (const std::string& group : groups) {
        HoldoutGroup& counts = group == "held_out" ? channel.held_out : channel.exposed;
        counts.users = numbers(group + "_users")[row];
        counts.conversions = numbers(group + "_conversions")[row];
        counts.conversions_sq = numbers(group + "_conversions_sq")[row];
        counts.value = numbers(group + "_value")[row];
        counts.value_sq = numbers(group + "_value_sq")[row];
      }
      data.holdout.push_back(channel);
    }
  }
  return data;
}

}  // namespace adsim::attribution

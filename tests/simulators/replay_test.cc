// The replay market (simulators/replay.cc) and the replay user response
// (core/engine/user_response.h), run by the real engine on the committed
// fixture tests/data/replay/ and on logs written here: the counterfactual
// rules, the round trip through adsim's own event log, bad rows per kind and
// per on_bad_rows mode, the unlogged rule, and that no outcome arrives before
// its logged time.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/engine.h"
#include "core/error.h"
#include "core/results.h"
#include "core/scenario.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;

const std::string kFixtureDir = std::string(ADSIM_SOURCE_DIR) + "/tests/data/replay";

// One row of the fixture CSV, read here independently of the market's reader.
struct LoggedRow {
  SimTime time = 0;
  std::string segment;
  double market_price = 0;
  bool won = false, click = false;
  SimTime conversion_time = -1;
  double value = 0;
};

std::vector<LoggedRow> ReadFixture() {
  std::ifstream in(kFixtureDir + "/requests.csv");
  std::string line;
  std::getline(in, line);  // header
  std::vector<LoggedRow> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    f.resize(10);
    LoggedRow row;
    row.time = std::stoll(f[0]);
    row.segment = f[2];
    row.market_price = std::stod(f[5]);
    row.won = f[6] == "1";
    row.click = f[7] == "1";
    if (!f[8].empty()) row.conversion_time = std::stoll(f[8]);
    if (!f[9].empty()) row.value = std::stod(f[9]);
    rows.push_back(row);
  }
  return rows;
}

std::string FixtureText() {
  std::ifstream in(kFixtureDir + "/scenario.yaml");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// The fixture scenario with text replaced (first occurrence of each pair).
Scenario FixtureScenario(const std::vector<std::pair<std::string, std::string>>& replacements = {}) {
  std::string text = FixtureText();
  for (const auto& [from, to] : replacements) {
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
  }
  return ParseScenario(text, kFixtureDir + "/scenario.yaml");
}

int64_t Sum(const Results& results, const std::string& column) {
  int64_t total = 0;
  for (int64_t v : Col<int64_t>(results, "aggregates", column)) total += v;
  return total;
}
double SumReal(const Results& results, const std::string& column) {
  double total = 0;
  for (double v : Col<double>(results, "aggregates", column)) total += v;
  return total;
}
int64_t ReplayRows(const Results& results, const std::string& kind) {
  const auto& kinds = Col<std::string>(results, "replay", "kind");
  const auto& rows = Col<int64_t>(results, "replay", "rows");
  for (size_t i = 0; i < kinds.size(); ++i)
    if (kinds[i] == kind) return rows[i];
  ADD_FAILURE() << "no replay row " << kind;
  return -1;
}

TEST(Replay, ScenarioReadsTheReplayFieldsAndResolvesThePath) {
  const Scenario sc = FixtureScenario();
  EXPECT_EQ(sc.market, "replay");
  ASSERT_TRUE(sc.channels[0].replay.has_value());
  EXPECT_EQ(sc.channels[0].replay->path, "requests.csv");
  EXPECT_EQ(std::filesystem::path(sc.channels[0].replay->resolved),
            std::filesystem::path(kFixtureDir) / "requests.csv");
  EXPECT_EQ(sc.channels[0].replay->field, "channels[0].traffic.replay.path");
}

TEST(Replay, BadReplayFieldsAreConfigErrorsNamingTheField) {
  const std::string base = FixtureText();
  auto issues_for = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    text.replace(text.find(from), from.size(), to);
    return test::IssuesOf(text);
  };
  auto has = [](const std::vector<ConfigIssue>& issues, const std::string& path) {
    for (const auto& issue : issues)
      if (issue.path == path) return true;
    return false;
  };
  EXPECT_TRUE(has(issues_for("format: csv", "format: parquet"), "channels[0].traffic.replay.format"));
  EXPECT_TRUE(has(issues_for("on_bad_rows: fail", "on_bad_rows: ignore"), "channels[0].traffic.replay.on_bad_rows"));
  EXPECT_TRUE(has(issues_for("unlogged: skip", "unlogged: guess"), "channels[0].traffic.replay.unlogged"));
  EXPECT_TRUE(has(issues_for("unlogged: skip", "unlogged: skip, columns: {when: t}"),
                  "channels[0].traffic.replay.columns.when"));
  EXPECT_TRUE(has(issues_for("duration: 1d", "duration: 1d\noracle: true"), "oracle"));
  EXPECT_TRUE(has(issues_for("auction: second_price", "auction: gsp"), "channels[0].auction"));
  // A synthetic channel beside a replayed one is valid.
  std::string mixed = base;
  mixed.replace(mixed.find("segments:"), 9,
                "  - name: search\n    traffic: {per_hour: 10}\n    competition: {median: 0.002}\nsegments:");
  EXPECT_NO_THROW(ParseScenario(mixed, kFixtureDir + "/scenario.yaml"));
}

TEST(Replay, MissingLogIsAConfigErrorNamingTheFieldAndPath) {
  const Scenario sc = FixtureScenario({{"path: requests.csv", "path: no_such_log.csv"}});
  try {
    RunScenario(sc);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("channels[0].traffic.replay.path"), std::string::npos) << message;
    EXPECT_NE(message.find("no_such_log.csv"), std::string::npos) << message;
  }
}

TEST(Replay, SecondPriceWinsWhatTheBidBeatsAndPaysTheLoggedPrice) {
  // Counterfactual rule: a bid b wins a request when b > market price m
  // (single slot, floor 0.0005 below every bid here), and pays m under second
  // price. With unlogged: skip only the rows the logger won are offered; the
  // logger bid 0.003, so at b = 0.003 we win exactly the logged wins.
  const std::vector<LoggedRow> rows = ReadFixture();
  int64_t logged_wins = 0, clicks = 0, conversions = 0;
  double spend = 0;
  for (const LoggedRow& row : rows) {
    if (!row.won) continue;
    ++logged_wins;
    spend += std::round(std::max(row.market_price, 0.0005) * 1e6) / 1e6;
    clicks += row.click ? 1 : 0;
    conversions += row.click && row.conversion_time >= 0 && row.conversion_time < kMicrosPerDay ? 1 : 0;
  }
  const Results results = RunScenario(FixtureScenario());
  EXPECT_EQ(ReplayRows(results, "read"), static_cast<int64_t>(rows.size()));
  EXPECT_EQ(ReplayRows(results, "replayed"), logged_wins);
  EXPECT_EQ(ReplayRows(results, "unlogged_skipped"), static_cast<int64_t>(rows.size()) - logged_wins);
  EXPECT_EQ(Sum(results, "impressions"), logged_wins);
  EXPECT_EQ(Sum(results, "clicks"), clicks);
  EXPECT_EQ(Sum(results, "conversions"), conversions);
  EXPECT_NEAR(SumReal(results, "spend"), spend, 1e-9);
  EXPECT_EQ(results.int_attrs.at("replay_wins_logged"), logged_wins);
  EXPECT_EQ(results.int_attrs.at("replay_wins_modelled"), 0);
}

TEST(Replay, HigherBidsWinMoreAndFirstPricePaysTheBid) {
  // With unlogged: model every row is offered; wins at bid b = #{m < b},
  // non-decreasing in b. Under first price each win costs b.
  const std::vector<LoggedRow> rows = ReadFixture();
  int64_t previous = -1;
  for (const char* bid : {"0.001", "0.003", "0.006"}) {
    const Results results = RunScenario(
        FixtureScenario({{"unlogged: skip", "unlogged: model"}, {"bid: 0.003", std::string("bid: ") + bid}}));
    int64_t expected = 0;
    for (const LoggedRow& row : rows) expected += row.market_price < std::stod(bid) ? 1 : 0;
    EXPECT_EQ(Sum(results, "impressions"), expected) << bid;
    EXPECT_GE(Sum(results, "impressions"), previous) << bid;
    previous = Sum(results, "impressions");
  }
  const Results first = RunScenario(FixtureScenario({{"auction: second_price", "auction: first_price"}}));
  const int64_t wins = Sum(first, "impressions");
  EXPECT_GT(wins, 0);
  EXPECT_NEAR(SumReal(first, "spend"), 0.003 * static_cast<double>(wins), 1e-9);
}

TEST(Replay, BudgetCapStopsSpendingAsInSyntheticRuns) {
  // A daily budget of 0.1 buys about 0.1 / 0.0017 (mean logged price) wins:
  // the ledger never lets spend pass the cap.
  const Results capped = RunScenario(FixtureScenario({{"budget: {daily: 50}", "budget: {daily: 0.1}"}}));
  const Results free = RunScenario(FixtureScenario());
  EXPECT_LE(SumReal(capped, "spend"), 0.1 + 1e-12);
  EXPECT_GT(SumReal(capped, "spend"), 0.1 - 0.003);  // stops within one bid of the cap
  EXPECT_LT(Sum(capped, "impressions"), Sum(free, "impressions"));
}

TEST(Replay, ConversionsArriveAtTheirLoggedTimesNeverEarlier) {
  // Every reported conversion is in the aggregates' bucket (1h) of its logged
  // conversion_time, and the conversions table holds exactly the logged times:
  // no strategy's snapshot can count one before it happened.
  const std::vector<LoggedRow> rows = ReadFixture();
  std::map<SimTime, int64_t> expected_per_bucket;
  std::vector<SimTime> expected_times;
  for (const LoggedRow& row : rows)
    if (row.won && row.click && row.conversion_time >= 0 && row.conversion_time < kMicrosPerDay) {
      ++expected_per_bucket[row.conversion_time / kMicrosPerHour * kMicrosPerHour];
      expected_times.push_back(row.conversion_time);
    }
  ASSERT_FALSE(expected_times.empty());
  const Results results = RunScenario(FixtureScenario());
  std::map<SimTime, int64_t> per_bucket;
  const auto& bucket = Col<int64_t>(results, "aggregates", "bucket_start");
  const auto& conversions = Col<int64_t>(results, "aggregates", "conversions");
  for (size_t i = 0; i < bucket.size(); ++i)
    if (conversions[i] > 0) per_bucket[bucket[i]] += conversions[i];
  EXPECT_EQ(per_bucket, expected_per_bucket);
  std::vector<SimTime> times;
  const auto& time = Col<int64_t>(results, "conversions", "time");
  const auto& reported = Col<int64_t>(results, "conversions", "reported");
  for (size_t i = 0; i < time.size(); ++i)
    if (reported[i]) times.push_back(time[i]);
  std::sort(times.begin(), times.end());
  std::sort(expected_times.begin(), expected_times.end());
  EXPECT_EQ(times, expected_times);
}

TEST(Replay, PricesAndTimesParseExactlyAsFromChars) {
  // The reader's fast number parsing (simulators/replay.cc, CsvSource::Real
  // and Integer) must give the same doubles as std::strtod, bit for bit, on
  // plain decimals, long mantissas, exponents and integers; the event log
  // records each replayed request's market price (top_competing_bid) and time.
  const std::vector<std::string> prices = {"0.001",
                                           "0.0015",
                                           "0.001528",
                                           "1",
                                           "12.5",
                                           "0.1",
                                           "0.30000000000000004",
                                           "0.123456789012345678",
                                           "9007199254740993e-18",
                                           "2.5e-3",
                                           "0.000000000000000000000001",
                                           "1234567.000001",
                                           "0.00"};
  const std::string path = testing::TempDir() + "replay_numbers.csv";
  {
    std::ofstream out(path);
    out << "time,segment,market_price,won\n";
    for (size_t i = 0; i < prices.size(); ++i) out << (i + 1) * 1000003 << ",a," << prices[i] << ",1\n";
  }
  std::string text = FixtureText();
  text.replace(text.find("path: requests.csv"), 18, "path: '" + path + "'");
  text += "recording: {events: true}\n";
  const Results results = RunScenario(ParseScenario(text, kFixtureDir + "/scenario.yaml"));
  const auto& time = Col<int64_t>(results, "events", "time");
  const auto& price = Col<double>(results, "events", "top_competing_bid");
  ASSERT_EQ(price.size(), prices.size());
  for (size_t i = 0; i < prices.size(); ++i) {
    EXPECT_EQ(time[i], static_cast<int64_t>((i + 1) * 1000003)) << i;
    EXPECT_EQ(price[i], std::strtod(prices[i].c_str(), nullptr)) << prices[i];
  }
}

TEST(Replay, FastAndGeneralParsersReadEveryRowAlike) {
  // The CSV reader takes rows in the common spelling by a fast path and
  // leaves every other row, and every bad one, to its general parser
  // (simulators/replay.cc, CsvSource::ParseFast). A column that two fields
  // read turns the fast path off for the whole log, so the same log read
  // with `columns: {floor: market_price}` (every floor here is valid and
  // only checked, so the floor read from the price column changes no
  // verdict: a negative floor is tested in BadRows*) goes through
  // the general parser alone: both runs must agree on every count, line,
  // price, time and outcome, under unlogged: skip and under unlogged: model
  // (whose row cache keeps a fast row's price as its decimal digits).
  const std::string path = testing::TempDir() + "replay_spellings.csv";
  {
    std::ofstream out(path, std::ios::binary);
    out << "time,channel,segment,user,floor,market_price,won,click,conversion_time,value,creative,quality\n"
           "1000,display,a,1,0.0005,0.001,1,1,5000,2.5,c1,\n"                // fast, with a conversion
           "2000,display,b,,0.0005,0.0015,0,,,,,\n"                          // fast, empty user, lost
           "3000,display,a,-7,0.0005,0.002,1,0,,,,\n"                        // negative user: general
           "4000,display,a,12,0.00050,0.0025,1,1,,,c2,0.01\n"                // another floor spelling
           "5000,display,b,13,0.00050,2.5e-3,1,0,,,,\n"                      // exponent: general
           "6000,display,a,14,0.0005,0.30000000000000004,1,1,7000,1,c1,\n"   // mantissa above 2^53
           "7000,display,b,15,0.0005,5.,1,0,,,,\n"                           // trailing point
           "8000,display,a,16,0.0005,.5,0,0,,,,\n"                           // leading point
           "9000,display,a,17,0.0005,0.001,01,0,,,,\n"                       // bad won
           "10000,display,a,18,0.0005,0.001x,1,0,,,,\n"                      // bad price
           "9500,display,a,19,0.0005,0.001,1,0,,,,\n"                        // out of order
           "11000,display,zz,20,0.0005,0.001,1,0,,,,\n"                      // unknown segment
           "12000,display,a,21,0.0005,0.001,1,1,11000,3,,\n"                 // conversion before the request
           "13000,display,a,22,0.0005,0.001,1,0,garbage,zzz,,\n"             // not clicked: conversion ignored
           "14000,display,a,23,0.0005,0.001,1,1,15000,abc,,\n"               // bad value
           "15000,display,a,24,0.0005,0.001,1,0,,,,0\n"                      // quality 0
           "16000,display,b,26,0.0005,0.00175,1,1,,,,\r\n"                   // CRLF
           "17000,display,a,27,0.0005,0.001,1,0,,,,,extra,columns\n"         // extra columns
           "18000,display,a,28\n"                                            // missing fields
           "19000,display,a,29,0.0005,0.001,1,1,,,,0.02\n"                   // logged quality
           "020000,display,a,030,0.0005,000.0010,1,0,,,,\n"                  // leading zeros: fast
           "21000,display,b,31,0.0005,12345678901234567890,1,0,,,,\n"        // 20 digits: general
           "22000, display,a,32,0.0005,0.001,1,0,,,,\n"                      // unknown channel
           "23000,display,,33,0.0005,0.001,1,0,,,,\n"                        // empty segment
           "25000,display,a,35,0.0005,-0.001,1,0,,,,\n"                      // negative price
           "26000,display,b,36,0.0005,-0,1,1,30000,4,c2,\n"                  // -0: general, not negative
           "27000,display,a,37,0.0005,123456789.12345678,1,1,28000,5,c1,\n"  // 17 digits: fast
           "28000,display,b,38,0.0005,0.0009,1,1,29000,6,c3,0.5";            // no newline at the end
  }
  for (const std::string unlogged : {"skip", "model"}) {
    SCOPED_TRACE(unlogged);
    auto run = [&](const std::string& columns) {
      std::string text = FixtureText();
      text.replace(text.find("path: requests.csv"), 18, "path: '" + path + "'" + columns);
      text.replace(text.find("on_bad_rows: fail"), 17, "on_bad_rows: skip");
      text.replace(text.find("unlogged: skip"), 14, "unlogged: " + unlogged);
      text += "recording: {events: true}\n";
      return RunScenario(ParseScenario(text, kFixtureDir + "/scenario.yaml"));
    };
    const Results fast = run("");
    const Results general = run(", columns: {floor: market_price}");
    EXPECT_EQ(Col<std::string>(fast, "replay", "kind"), Col<std::string>(general, "replay", "kind"));
    EXPECT_EQ(Col<int64_t>(fast, "replay", "rows"), Col<int64_t>(general, "replay", "rows"));
    EXPECT_EQ(Col<std::string>(fast, "replay", "first_lines"), Col<std::string>(general, "replay", "first_lines"));
    for (const char* column : {"time", "user", "segment", "winner", "click"})
      EXPECT_EQ(Col<int64_t>(fast, "events", column), Col<int64_t>(general, "events", column)) << column;
    for (const char* column : {"top_competing_bid", "quality"})
      EXPECT_EQ(Col<double>(fast, "events", column), Col<double>(general, "events", column)) << column;
    EXPECT_EQ(Col<int64_t>(fast, "conversions", "time"), Col<int64_t>(general, "conversions", "time"));
    EXPECT_EQ(Col<double>(fast, "conversions", "value"), Col<double>(general, "conversions", "value"));
    EXPECT_EQ(Col<double>(fast, "aggregates", "spend"), Col<double>(general, "aggregates", "spend"));
    // The log holds rows of every kind, and the prices read are strtod's.
    EXPECT_EQ(ReplayRows(fast, "read"), 28);
    for (const char* kind :
         {"missing_field", "unparsable_number", "out_of_order", "negative_price", "unknown_channel", "unknown_segment"})
      EXPECT_GT(ReplayRows(fast, kind), 0) << kind;
    const auto& price = Col<double>(fast, "events", "top_competing_bid");
    const auto& time = Col<int64_t>(fast, "events", "time");
    const std::map<int64_t, std::string> spelled = {{1000, "0.001"},
                                                    {20000, "000.0010"},
                                                    {6000, "0.30000000000000004"},
                                                    {27000, "123456789.12345678"},
                                                    {28000, "0.0009"},
                                                    {21000, "12345678901234567890"},
                                                    {5000, "2.5e-3"}};
    for (size_t i = 0; i < time.size(); ++i) {
      const auto found = spelled.find(time[i]);
      if (found != spelled.end()) EXPECT_EQ(price[i], std::strtod(found->second.c_str(), nullptr)) << found->second;
    }
  }
}

TEST(Replay, EveryColumnOrderReadsEveryRowAlike) {
  // A log whose columns are the fields in their own order (time to value,
  // then creative and quality) is read by a fast path of its own
  // (CsvSource::ParseInOrder); any other order by the per-column fast path
  // (CsvSource::ParseFast). The same rows, spelled every way the fast paths
  // take or refuse and with bad rows of every kind, written in the usual
  // order and with the columns reversed, must give the same counts, lines,
  // prices, times and outcomes, under unlogged: skip and unlogged: model.
  const std::vector<std::array<std::string, 12>> rows = {
      {"1000", "display", "a", "1", "0.0005", "0.001", "1", "1", "5000", "2.5", "c1", ""},
      {"2000", "display", "b", "", "0.0005", "0.0015", "0", "", "", "", "", ""},
      {"3000", "display", "a", "-7", "0.0005", "0.002", "1", "0", "", "", "", ""},
      {"4000", "display", "a", "12", "0.00050", "0.0025", "1", "1", "", "", "c2", "0.01"},
      {"5000", "display", "b", "13", "0.00050", "2.5e-3", "1", "0", "", "", "", ""},
      {"6000", "display", "a", "14", "0.0005", "0.30000000000000004", "1", "1", "7000", "1", "c1", ""},
      {"7000", "display", "b", "15", "0.0005", "5.", "0", "0", "", "", "", ""},
      {"9000", "display", "a", "17", "0.0005", "0.001", "01", "0", "", "", "", ""},
      {"10000", "display", "a", "18", "0.0005", "0.001x", "1", "0", "", "", "", ""},
      {"9500", "display", "a", "19", "0.0005", "0.001", "1", "0", "", "", "", ""},
      {"11000", "display", "zz", "20", "0.0005", "0.001", "1", "0", "", "", "", ""},
      {"12000", "display", "a", "21", "0.0005", "0.001", "1", "1", "11000", "3", "", ""},
      {"13000", "display", "a", "22", "0.0005", "0.001", "1", "0", "garbage", "zzz", "", ""},
      {"14000", "display", "a", "23", "0.0005", "0.001", "1", "1", "15000", "abc", "", ""},
      {"15000", "display", "a", "24", "0.0005", "0.001", "1", "0", "", "", "", "0"},
      {"17000", " display", "a", "27", "0.0005", "0.001", "1", "0", "", "", "", ""},
      {"18000", "display", "", "28", "0.0005", "0.001", "1", "0", "", "", "", ""},
      {"19000", "display", "a", "29", "0.0005", "-0.001", "1", "1", "", "", "", "0.02"},
      {"020000", "display", "b", "030", "0.0005", "000.0010", "0", "0", "", "", "", ""},
      {"21000", "display", "b", "31", "0.0005", "12345678901234567890", "1", "0", "", "", "", ""},
      {"27000", "display", "a", "37", "0.0005", "123456789.12345678", "1", "1", "28000", "5", "c1", ""},
      {"28000", "display", "b", "38", "0.0005", "0.0009", "1", "1", "29000", "6", "c3", "0.5"},
      {"29000", "display", "a", "39", "0.0005", "0.0011", "0", "1", "", "", "", ""}};
  const std::string header =
      "time,channel,segment,user,floor,market_price,won,click,conversion_time,value,creative,quality";
  auto write = [&](const std::string& name, bool reversed) {
    std::string path = testing::TempDir() + name;
    std::ofstream out(path, std::ios::binary);
    auto line = [&](std::vector<std::string> fields) {
      if (reversed) std::reverse(fields.begin(), fields.end());
      std::string text;
      for (size_t i = 0; i < fields.size(); ++i) text += (i ? "," : "") + fields[i];
      return text;
    };
    std::vector<std::string> names;
    std::stringstream split(header);
    for (std::string name; std::getline(split, name, ',');) names.push_back(name);
    out << line(names) << "\n";
    for (size_t r = 0; r < rows.size(); ++r)
      out << line(std::vector<std::string>(rows[r].begin(), rows[r].end())) << (r == 3 ? "\r\n" : "\n");
    return path;
  };
  const std::string in_order = write("replay_in_order.csv", false);
  const std::string reversed = write("replay_reversed.csv", true);
  for (const std::string unlogged : {"skip", "model"}) {
    SCOPED_TRACE(unlogged);
    auto run = [&](const std::string& path) {
      std::string text = FixtureText();
      text.replace(text.find("path: requests.csv"), 18, "path: '" + path + "'");
      text.replace(text.find("on_bad_rows: fail"), 17, "on_bad_rows: skip");
      text.replace(text.find("unlogged: skip"), 14, "unlogged: " + unlogged);
      text += "recording: {events: true}\n";
      return RunScenario(ParseScenario(text, kFixtureDir + "/scenario.yaml"));
    };
    const Results usual = run(in_order);
    const Results other = run(reversed);
    EXPECT_EQ(Col<std::string>(usual, "replay", "kind"), Col<std::string>(other, "replay", "kind"));
    EXPECT_EQ(Col<int64_t>(usual, "replay", "rows"), Col<int64_t>(other, "replay", "rows"));
    EXPECT_EQ(Col<std::string>(usual, "replay", "first_lines"), Col<std::string>(other, "replay", "first_lines"));
    for (const char* column : {"time", "user", "segment", "winner", "click"})
      EXPECT_EQ(Col<int64_t>(usual, "events", column), Col<int64_t>(other, "events", column)) << column;
    for (const char* column : {"top_competing_bid", "quality"})
      EXPECT_EQ(Col<double>(usual, "events", column), Col<double>(other, "events", column)) << column;
    EXPECT_EQ(Col<int64_t>(usual, "conversions", "time"), Col<int64_t>(other, "conversions", "time"));
    EXPECT_EQ(Col<double>(usual, "conversions", "value"), Col<double>(other, "conversions", "value"));
    EXPECT_EQ(Col<double>(usual, "aggregates", "spend"), Col<double>(other, "aggregates", "spend"));
    // Both logs hold good rows and every kind of bad row.
    EXPECT_EQ(ReplayRows(usual, "read"), static_cast<int64_t>(rows.size()));
    EXPECT_GT(ReplayRows(usual, "replayed"), 8);
    for (const char* kind :
         {"missing_field", "unparsable_number", "out_of_order", "negative_price", "unknown_channel", "unknown_segment"})
      EXPECT_GT(ReplayRows(usual, kind), 0) << kind;
  }
}

// A log with one bad row of each kind, lines 3 to 8, and good rows around them.
std::string WriteBadLog() {
  std::string path = testing::TempDir() + "replay_bad_rows.csv";
  std::ofstream out(path);
  out << "time,channel,segment,user,floor,market_price,won,click,conversion_time,value\n"  // line 1
         "1000000,display,a,1,0.0005,0.001,1,1,,\n"                                        // 2 good
         "2000000,display,a,1,0.0005,,1,0,,\n"                                             // 3 missing_field
         "3000000,display,a,1,0.0005,abc,1,0,,\n"                                          // 4 unparsable_number
         "500000,display,a,1,0.0005,0.001,1,0,,\n"                                         // 5 out_of_order
         "4000000,display,a,1,0.0005,-0.001,1,0,,\n"                                       // 6 negative_price
         "5000000,video,a,1,0.0005,0.001,1,0,,\n"                                          // 7 unknown_channel
         "6000000,display,zz,1,0.0005,0.001,1,0,,\n"                                       // 8 unknown_segment
         "7000000,display,b,2,0.0005,0.002,1,1,,\n";                                       // 9 good
  return path;
}

TEST(Replay, BadRowsFailWithTheLineNumberAndKind) {
  const std::string path = WriteBadLog();
  try {
    RunScenario(FixtureScenario({{"path: requests.csv", "path: " + path}}));
    FAIL() << "expected a DataError";
  } catch (const DataError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path + ":3:"), std::string::npos) << message;
    EXPECT_NE(message.find("missing_field"), std::string::npos) << message;
  }
}

TEST(Replay, BadRowsSkipCountsEachKindWithItsLine) {
  const std::string path = WriteBadLog();
  const Results results = RunScenario(
      FixtureScenario({{"path: requests.csv", "path: " + path}, {"on_bad_rows: fail", "on_bad_rows: skip"}}));
  const std::map<std::string, std::string> expected_line = {{"missing_field", "3"},   {"unparsable_number", "4"},
                                                            {"out_of_order", "5"},    {"negative_price", "6"},
                                                            {"unknown_channel", "7"}, {"unknown_segment", "8"}};
  const auto& kinds = Col<std::string>(results, "replay", "kind");
  const auto& lines = Col<std::string>(results, "replay", "first_lines");
  for (size_t i = 0; i < kinds.size(); ++i) {
    const auto found = expected_line.find(kinds[i]);
    if (found == expected_line.end()) continue;
    EXPECT_EQ(ReplayRows(results, kinds[i]), 1) << kinds[i];
    EXPECT_EQ(lines[i], found->second) << kinds[i];
  }
  EXPECT_EQ(ReplayRows(results, "read"), 8);
  EXPECT_EQ(ReplayRows(results, "replayed"), 2);
  EXPECT_EQ(Sum(results, "impressions"), 2);
  EXPECT_EQ(Sum(results, "clicks"), 2);
}

TEST(Replay, BadRowsSortKeepsRowsOutOfOrder) {
  // sort: the out-of-order row (line 5) is replayed in its place by time;
  // the other bad kinds are still dropped.
  const std::string path = WriteBadLog();
  const Results results = RunScenario(
      FixtureScenario({{"path: requests.csv", "path: " + path}, {"on_bad_rows: fail", "on_bad_rows: sort"}}));
  EXPECT_EQ(ReplayRows(results, "out_of_order"), 0);
  EXPECT_EQ(ReplayRows(results, "replayed"), 3);
  EXPECT_EQ(Sum(results, "impressions"), 3);
}

TEST(Replay, ColumnsMapOtherNamesAndAMissingColumnNamesItsField) {
  // The same two requests under other column names (and in another order),
  // mapped with `columns:`; a mapping to a column the header lacks is a
  // ConfigError naming columns.<field>.
  const std::string path = testing::TempDir() + "replay_renamed.csv";
  std::ofstream(path) << "ts_us,seg,clearing_price,logger_won,clicked,extra\n"
                         "1000000,a,0.001,1,1,x\n"
                         "2000000,b,0.002,1,0,y\n";
  const std::string columns =
      "columns: {time: ts_us, segment: seg, market_price: clearing_price, won: logger_won, click: clicked}";
  const Results results = RunScenario(
      FixtureScenario({{"path: requests.csv", "path: " + path}, {"unlogged: skip", "unlogged: skip, " + columns}}));
  EXPECT_EQ(ReplayRows(results, "replayed"), 2);
  EXPECT_EQ(Sum(results, "impressions"), 2);
  EXPECT_EQ(Sum(results, "clicks"), 1);
  // second price: 0.001 + 0.002
  EXPECT_NEAR(SumReal(results, "spend"), 0.003, 1e-12);
  try {
    RunScenario(FixtureScenario(
        {{"path: requests.csv", "path: " + path}, {"unlogged: skip", "unlogged: skip, columns: {time: when_us}"}}));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("channels[0].traffic.replay.columns.time"), std::string::npos) << message;
    EXPECT_NE(message.find("when_us"), std::string::npos) << message;
  }
}

TEST(Replay, UnloggedModelCarriesItsUncertaintyAcrossSeeds) {
  // unlogged: model with a high bid wins the rows the logger lost too; their
  // clicks come from a Beta posterior drawn once per run. Same seed: same
  // result; over seeds, the modelled clicks vary.
  auto modelled_clicks = [](uint64_t seed) {
    RunOptions options;
    options.seed = seed;
    const Results results =
        RunScenario(FixtureScenario({{"unlogged: skip", "unlogged: model"}, {"bid: 0.003", "bid: 0.05"}}), options);
    EXPECT_GT(results.int_attrs.at("replay_wins_modelled"), 0);
    return Sum(results, "clicks");
  };
  EXPECT_EQ(modelled_clicks(1), modelled_clicks(1));
  std::set<int64_t> distinct;
  for (uint64_t seed = 1; seed <= 6; ++seed) distinct.insert(modelled_clicks(seed));
  EXPECT_GT(distinct.size(), 1u);
}

// A log of 9000 requests, one every 9 s of a day, in segment a at market price
// 0.001: every third lost by the logger (no creative), the others won by the
// logger's creatives red (clicked on 3 rows in 10) and blue (1 in 20),
// alternately: 3000 lost, 3000 red and 3000 blue rows, no conversions.
std::string WriteCreativeLog() {
  std::string path = testing::TempDir() + "replay_creatives.csv";
  std::ofstream out(path);
  out << "time,segment,market_price,won,click,creative\n";
  int red = 0, blue = 0;
  for (int i = 0; i < 9000; ++i) {
    out << static_cast<int64_t>(i) * 9000000 << ",a,0.001,";
    if (i % 3 == 0) {
      out << "0,,\n";
    } else if (i % 3 == 1) {
      out << "1," << (red++ % 10 < 3 ? 1 : 0) << ",red\n";
    } else {
      out << "1," << (blue++ % 20 == 0 ? 1 : 0) << ",blue\n";
    }
  }
  return path;
}

TEST(Replay, UnloggedModelIsFittedPerCreativeAndPooledForOtherNames) {
  // unlogged: model with a creative column: our creative named like a logged
  // one gets that creative's click rate on the requests the logger lost, one
  // with another name the segment's pooled rate. Bidding 0.05 > 0.001 we win
  // all 9000 rows; the 6000 logged wins hold 900 + 150 logged clicks, so the
  // modelled clicks are the total minus 1050, over 3000 modelled wins.
  // Expected modelled rate: the Beta posterior mean (1 + clicks) / (2 + wins)
  // of the matched creative (red 901/3002, blue 151/3002) or of the pooled
  // segment (1051/6002). Its spread: the run's one Beta draw (variance about
  // p(1-p)/wins) plus the binomial over the 3000 modelled wins (p(1-p)/3000):
  // tolerance 4 standard errors, fixed seed.
  const std::string path = WriteCreativeLog();
  struct Case {
    std::string creative;
    double expected;
    int64_t fitted_on;
  };
  for (const Case& c :
       {Case{"red", 901.0 / 3002, 3000}, Case{"blue", 151.0 / 3002, 3000}, Case{"green", 1051.0 / 6002, 6000}}) {
    RunOptions options;
    options.seed = 7;
    const Results results =
        RunScenario(FixtureScenario({{"path: requests.csv", "path: '" + path + "'"},
                                     {"unlogged: skip", "unlogged: model"},
                                     {"bid: 0.003", "bid: 0.05\n    creatives: [" + c.creative + "]"}}),
                    options);
    ASSERT_EQ(results.int_attrs.at("replay_wins_modelled"), 3000) << c.creative;
    ASSERT_EQ(results.int_attrs.at("replay_wins_logged"), 6000) << c.creative;
    const double rate = static_cast<double>(Sum(results, "clicks") - 1050) / 3000.0;
    const double se = std::sqrt(c.expected * (1 - c.expected) * (1.0 / c.fitted_on + 1.0 / 3000.0));
    EXPECT_NEAR(rate, c.expected, 4 * se) << c.creative;
  }
}

TEST(Replay, ClickBilledChannelsRankByTheLoggedQuality) {
  // On a click-billed channel a click bid b ranks by b x quality against the
  // logged market price m (per impression) and pays m / quality per click.
  // With b = 0.05, m = 0.001: quality 0.1 scores 0.005 > m (won, 0.01 a
  // click), quality 0.01 scores 0.0005 < m (lost). Without the column the
  // engine's own quality (segment ctr 0.01) would lose every request.
  const std::string path = testing::TempDir() + "replay_quality.csv";
  {
    std::ofstream out(path);
    out << "time,segment,market_price,won,click,quality\n";
    for (int i = 0; i < 200; ++i)
      out << (i + 1) * 1000000 << ",a,0.001,1," << (i % 4 == 0 ? 1 : 0) << "," << (i % 2 == 0 ? "0.1" : "0.01") << "\n";
    out << "201000000,a,0.001,1,1,0\n"    // line 202: a quality of 0 is a bad row
        << "202000000,a,0.001,1,1,-1\n";  // line 203: so is a negative one
  }
  const Results results = RunScenario(FixtureScenario({{"path: requests.csv", "path: '" + path + "'"},
                                                       {"on_bad_rows: fail", "on_bad_rows: skip"},
                                                       {"second_price", "second_price\n    billing: click"},
                                                       {"bid: 0.003", "bid: 0.05"}}));
  // Won: the 100 even rows (quality 0.1); clicked: rows i % 4 == 0, 50 of them.
  EXPECT_EQ(Sum(results, "impressions"), 100);
  EXPECT_EQ(Sum(results, "clicks"), 50);
  EXPECT_NEAR(SumReal(results, "spend"), 50 * 0.01, 1e-9);
  EXPECT_EQ(ReplayRows(results, "unparsable_number"), 2);
  // unlogged: model replays the rows kept by its fitting pass (a temporary
  // file): the quality goes through it unchanged, so the same requests win.
  const Results through_cache = RunScenario(FixtureScenario({{"path: requests.csv", "path: '" + path + "'"},
                                                             {"on_bad_rows: fail", "on_bad_rows: skip"},
                                                             {"unlogged: skip", "unlogged: model"},
                                                             {"second_price", "second_price\n    billing: click"},
                                                             {"bid: 0.003", "bid: 0.05"}}));
  EXPECT_EQ(Sum(through_cache, "impressions"), 100);
  EXPECT_NEAR(SumReal(through_cache, "spend"), 50 * 0.01, 1e-9);
  const auto& kinds = Col<std::string>(results, "replay", "kind");
  const auto& lines = Col<std::string>(results, "replay", "first_lines");
  for (size_t i = 0; i < kinds.size(); ++i)
    if (kinds[i] == "unparsable_number") EXPECT_EQ(lines[i], "202 203");
  // The same requests without a quality column: the engine's quality 0.01 x 0.05 < 0.001 wins nothing.
  const std::string plain = testing::TempDir() + "replay_no_quality.csv";
  {
    std::ofstream out(plain);
    out << "time,segment,market_price,won,click\n";
    for (int i = 0; i < 200; ++i) out << (i + 1) * 1000000 << ",a,0.001,1," << (i % 4 == 0 ? 1 : 0) << "\n";
  }
  const Results unlogged_quality = RunScenario(FixtureScenario({{"path: requests.csv", "path: '" + plain + "'"},
                                                                {"second_price", "second_price\n    billing: click"},
                                                                {"bid: 0.003", "bid: 0.05"}}));
  EXPECT_EQ(Sum(unlogged_quality, "impressions"), 0);
}

TEST(Replay, MixedRunKeepsTheSyntheticChannelBitIdentical) {
  // display replays the fixture log while search is synthetic; each channel
  // has its own campaign (no shared budget, no account cap). The replay
  // market draws search exactly as the synthetic market does (its own
  // streams, market/channels/search/...), and the engine gives each campaign
  // only its channel's requests, so search's rows of every table keyed by
  // channel equal those of a run where display is synthetic too.
  const std::string synthetic_display = "traffic: {per_hour: 400}\n    competition: {median: 0.002, sigma: 0.5}";
  const std::string search =
      "  - name: search\n    auction: first_price\n    floor: 0.0002\n    traffic: {per_hour: 900}\n"
      "    competition: {competitors: 3, median: 0.0015, sigma: 0.7}\nsegments:";
  const std::string campaigns =
      "  - name: replayed\n    channels: [display]\n    bid: 0.003\n    budget: {daily: 50}\n"
      "  - name: searcher\n    channels: [search]\n    bid: 0.002\n    budget: {daily: 0.5}\n"
      "    creatives: [one, two]\n";
  const std::string shocks =
      "shocks:\n  - {name: busy, start: 6h, end: 12h, channels: [search], segments: all,\n"
      "     multiply: {traffic: 1.5, competing_bids: 1.3}}\n";
  auto scenario_text = [&](bool replayed) {
    std::string text = FixtureText();
    if (!replayed) {
      const size_t at = text.find("    traffic:\n      replay:");
      text.replace(at, text.find('\n', text.find("replay:", at)) - at, "    " + synthetic_display);
    }
    text.replace(text.find("segments:"), 9, search);
    text.replace(text.find("  - name: replayed"), std::string::npos, campaigns + shocks);
    return text;
  };
  const Results mixed = RunScenario(ParseScenario(scenario_text(true), kFixtureDir + "/scenario.yaml"));
  const Results synthetic = RunScenario(ParseScenario(scenario_text(false), kFixtureDir + "/scenario.yaml"));
  // Every aggregates row of search (channel 1), all columns, bit for bit.
  auto search_rows = [](const Results& results) {
    std::vector<std::vector<double>> rows;
    const Table* aggregates = results.Find("aggregates");
    const auto& channel = Col<int64_t>(results, "aggregates", "channel");
    for (size_t i = 0; i < channel.size(); ++i) {
      if (channel[i] != 1) continue;
      std::vector<double> row;
      for (const auto& column : aggregates->columns()) {
        if (const auto* ints = std::get_if<std::vector<int64_t>>(&column.data))
          row.push_back(static_cast<double>((*ints)[i]));
        if (const auto* reals = std::get_if<std::vector<double>>(&column.data)) row.push_back((*reals)[i]);
      }
      rows.push_back(row);
    }
    return rows;
  };
  const auto mixed_search = search_rows(mixed);
  EXPECT_EQ(mixed_search, search_rows(synthetic));
  int64_t search_impressions = 0;
  const auto& channel = Col<int64_t>(mixed, "aggregates", "channel");
  const auto& impressions = Col<int64_t>(mixed, "aggregates", "impressions");
  for (size_t i = 0; i < channel.size(); ++i) search_impressions += channel[i] == 1 ? impressions[i] : 0;
  EXPECT_FALSE(mixed_search.empty());
  // search really ran: its daily budget 0.5 buys 0.5 / 0.002 = 250 first-price wins (900 requests an hour).
  EXPECT_EQ(search_impressions, 250);
  // display replayed the log: the fixture's 340 logged wins, nothing modelled.
  EXPECT_EQ(ReplayRows(mixed, "replayed"), 340);
  EXPECT_EQ(mixed.int_attrs.at("replay_wins_logged"), 340);
}

// Per (bucket, segment) of a one-campaign, one-channel, one-creative run:
// impressions, clicks, conversions, spend and value, for the rows with any
// outcome (a replay with unlogged: skip has no requests for the rows the
// logger lost, so rows with requests only may be missing).
std::map<std::pair<int64_t, int64_t>, std::tuple<int64_t, int64_t, int64_t, double, double>> Outcomes(
    const Results& results) {
  std::map<std::pair<int64_t, int64_t>, std::tuple<int64_t, int64_t, int64_t, double, double>> out;
  const auto& bucket = Col<int64_t>(results, "aggregates", "bucket_start");
  const auto& segment = Col<int64_t>(results, "aggregates", "segment");
  const auto& impressions = Col<int64_t>(results, "aggregates", "impressions");
  const auto& clicks = Col<int64_t>(results, "aggregates", "clicks");
  const auto& conversions = Col<int64_t>(results, "aggregates", "conversions");
  const auto& spend = Col<double>(results, "aggregates", "spend");
  const auto& value = Col<double>(results, "aggregates", "conversion_value");
  for (size_t i = 0; i < bucket.size(); ++i) {
    if (impressions[i] == 0 && clicks[i] == 0 && conversions[i] == 0 && spend[i] == 0) continue;
    out[{bucket[i], segment[i]}] = {impressions[i], clicks[i], conversions[i], spend[i], value[i]};
  }
  return out;
}

TEST(Replay, RoundTripThroughTheEventLogReproducesTheRun) {
  // A synthetic run with recording.events, then the same campaign replayed
  // on its own event log (format adsim): same wins, spend, clicks and
  // conversions, bucket by bucket.
  const std::string synthetic_text =
      "name: logged\nseed: 5\nstart: '2026-03-02T00:00:00'\nduration: 1d\n"
      "channels:\n  - name: display\n    auction: second_price\n    floor: 0.0005\n"
      "    traffic: {per_hour: 1500}\n    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
      "segments:\n  - {name: a, ctr: 0.05, cvr: 0.3, conversion_delay: {distribution: exponential, mean: 2h}}\n"
      "  - {name: b, ctr: 0.02, cvr: 0.2}\n"
      "campaigns:\n  - name: one\n    bid: 0.003\n    budget: {daily: 10}\n"
      "recording: {events: true}\n";
  const Results logged = RunScenario(ParseScenario(synthetic_text, "logged.yaml"));
  const std::string log_path = testing::TempDir() + "replay_round_trip.h5";
  WriteResultsHdf5(logged, log_path);
  for (const char* unlogged : {"skip", "model"}) {
    std::string replay_text = synthetic_text;
    replay_text.replace(replay_text.find("traffic: {per_hour: 1500}"), 25,
                        "traffic: {replay: {path: '" + log_path + "', format: adsim, unlogged: " + unlogged + "}}");
    replay_text.replace(replay_text.find("recording: {events: true}\n"), 26, "");
    const Results replayed = RunScenario(ParseScenario(replay_text, "replay.yaml"));
    EXPECT_EQ(Outcomes(replayed), Outcomes(logged)) << unlogged;
    EXPECT_GT(Sum(replayed, "conversions"), 0);
    EXPECT_GT(Outcomes(logged).size(), 20u);
  }
}

TEST(Replay, RoundTripCarriesTheLoggedQualityOnClickBilledChannels) {
  // The event log records the quality that ranked each win's click bid
  // (events.quality), and format: adsim replays rank by it. The replay's
  // segments get another click rate (0.2 instead of 0.05 and 0.02), so the
  // engine's own quality would rank and price every bid differently: with
  // the logged quality the replay still reproduces the run bucket by bucket;
  // with the quality column dropped from the log (a file written before it
  // was recorded) it does not.
  const std::string synthetic_text =
      "name: logged\nseed: 9\nstart: '2026-03-02T00:00:00'\nduration: 1d\n"
      "channels:\n  - name: search\n    auction: second_price\n    billing: click\n    floor: 0.01\n"
      "    traffic: {per_hour: 1500}\n    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
      "segments:\n  - {name: a, ctr: 0.05, cvr: 0.3}\n  - {name: b, ctr: 0.02, cvr: 0.2}\n"
      "campaigns:\n  - name: one\n    bid: 0.08\n    budget: {daily: 20}\n"
      "recording: {events: true}\n";
  const Results logged = RunScenario(ParseScenario(synthetic_text, "logged.yaml"));
  const std::vector<double>& quality = Col<double>(logged, "events", "quality");
  const std::vector<int64_t>& winner = Col<int64_t>(logged, "events", "winner");
  for (size_t i = 0; i < quality.size(); ++i) EXPECT_EQ(quality[i] > 0, winner[i] >= 0) << "row " << i;
  Results without_quality = logged;
  for (Table& table : without_quality.tables)
    if (table.name() == "events")
      table.columns().erase(std::find_if(table.columns().begin(), table.columns().end(),
                                         [](const Column& column) { return column.name == "quality"; }));
  const std::string log_path = testing::TempDir() + "replay_quality_round_trip.h5";
  const std::string old_log_path = testing::TempDir() + "replay_quality_round_trip_old.h5";
  WriteResultsHdf5(logged, log_path);
  WriteResultsHdf5(without_quality, old_log_path);
  auto replay = [&](const std::string& path) {
    std::string text = synthetic_text;
    text.replace(text.find("traffic: {per_hour: 1500}"), 25,
                 "traffic: {replay: {path: '" + path + "', format: adsim, unlogged: skip}}");
    text.replace(text.find("recording: {events: true}\n"), 26, "");
    text.replace(text.find("ctr: 0.05"), 9, "ctr: 0.2");
    text.replace(text.find("ctr: 0.02"), 9, "ctr: 0.2");
    return RunScenario(ParseScenario(text, "replay.yaml"));
  };
  EXPECT_GT(Sum(logged, "clicks"), 20);
  EXPECT_EQ(Outcomes(replay(log_path)), Outcomes(logged));
  EXPECT_NE(Outcomes(replay(old_log_path)), Outcomes(logged));
}

TEST(Replay, RoundTripFitsTheFillInModelPerLoggedCreative) {
  // The event log names the creative of each win (events.creative through
  // the creatives table), so a format: adsim replay under unlogged: model
  // fits per creative. The recorded run shows red (true click rate 0.2) and
  // blue (0.02). Replayed with a higher bid (0.01 > 0.003: every logged win
  // again, plus requests the logger lost) and one creative of ours, the
  // modelled click rate is that creative's Beta posterior mean
  // (1 + clicks) / (2 + wins) over its logged wins, not the pooled one.
  // Spread: the run's Beta draw (p(1-p)/wins) plus the binomial over the
  // modelled wins (p(1-p)/modelled): 4 standard errors, fixed seeds.
  const std::string synthetic_text =
      "name: logged\nseed: 4\nstart: '2026-03-02T00:00:00'\nduration: 1d\n"
      "channels:\n  - name: display\n    auction: second_price\n    floor: 0.0005\n"
      "    traffic: {per_hour: 1500}\n    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
      "segments:\n  - {name: a, ctr: 0.02, cvr: 0.1, creatives: {one/red: {ctr: 0.2}}}\n"
      "campaigns:\n  - name: one\n    bid: 0.003\n    creatives: [red, blue]\n"
      "recording: {events: true}\n";
  const Results logged = RunScenario(ParseScenario(synthetic_text, "logged.yaml"));
  const auto& winner = Col<int64_t>(logged, "events", "winner");
  const auto& creative = Col<int64_t>(logged, "events", "creative");
  const auto& click = Col<int64_t>(logged, "events", "click");
  std::array<int64_t, 2> wins{}, clicks{};
  int64_t logged_clicks = 0;
  for (size_t i = 0; i < winner.size(); ++i) {
    if (winner[i] < 0) continue;
    ++wins[creative[i]];
    clicks[creative[i]] += click[i];
    logged_clicks += click[i];
  }
  ASSERT_GT(wins[0], 1000);
  ASSERT_GT(wins[1], 1000);
  const std::string log_path = testing::TempDir() + "replay_creative_round_trip.h5";
  WriteResultsHdf5(logged, log_path);
  for (int ours : {0, 1}) {
    const std::string name = ours == 0 ? "red" : "blue";
    std::string text = synthetic_text;
    text.replace(text.find("traffic: {per_hour: 1500}"), 25,
                 "traffic: {replay: {path: '" + log_path + "', format: adsim, unlogged: model}}");
    text.replace(text.find("recording: {events: true}\n"), 26, "");
    const std::string ours_before = "bid: 0.003\n    creatives: [red, blue]";
    text.replace(text.find(ours_before), ours_before.size(), "bid: 0.01\n    creatives: [" + name + "]");
    const std::string override_red = ", creatives: {one/red: {ctr: 0.2}}";  // not a creative of ours any more
    text.replace(text.find(override_red), override_red.size(), "");
    RunOptions options;
    options.seed = 12;
    const Results replayed = RunScenario(ParseScenario(text, "replay.yaml"), options);
    const int64_t modelled = replayed.int_attrs.at("replay_wins_modelled");
    ASSERT_EQ(replayed.int_attrs.at("replay_wins_logged"), wins[0] + wins[1]) << name;
    ASSERT_GT(modelled, 1000) << name;
    const double expected = (1.0 + clicks[ours]) / (2.0 + wins[ours]);
    const double rate = static_cast<double>(Sum(replayed, "clicks") - logged_clicks) / modelled;
    const double se = std::sqrt(expected * (1 - expected) * (1.0 / wins[ours] + 1.0 / modelled));
    EXPECT_NEAR(rate, expected, 4 * se) << name;
    // The pooled rate is far from it (red about 0.2, blue 0.02, pooled in between).
    const double pooled = (1.0 + clicks[0] + clicks[1]) / (2.0 + wins[0] + wins[1]);
    EXPECT_GT(std::abs(pooled - expected), 8 * se) << name;
  }
}

}  // namespace
}  // namespace adsim

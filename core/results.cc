#include "core/results.h"

#include <boost/version.hpp>

#include "core/error.h"

#ifndef ADSIM_VERSION
#define ADSIM_VERSION "0.0.0"
#endif

namespace adsim {

const char* AdsimVersion() { return ADSIM_VERSION; }

std::string BoostVersion() {
  return std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
         std::to_string(BOOST_VERSION % 100);
}

size_t Column::size() const {
  return std::visit([](const auto& v) { return v.size(); }, data);
}

std::vector<int64_t>& Table::Int(const std::string& name, const std::string& unit, const std::string& description) {
  columns_.push_back({name, unit, description, std::vector<int64_t>{}});
  return std::get<std::vector<int64_t>>(columns_.back().data);
}
std::vector<double>& Table::Real(const std::string& name, const std::string& unit, const std::string& description) {
  columns_.push_back({name, unit, description, std::vector<double>{}});
  return std::get<std::vector<double>>(columns_.back().data);
}
std::vector<std::string>& Table::Text(const std::string& name, const std::string& description) {
  columns_.push_back({name, "", description, std::vector<std::string>{}});
  return std::get<std::vector<std::string>>(columns_.back().data);
}

const Column* Table::Find(const std::string& name) const {
  for (const auto& c : columns_)
    if (c.name == name) return &c;
  return nullptr;
}

void Table::CheckShape() const {
  for (const auto& c : columns_)
    if (c.size() != rows())
      throw InvariantError("table '" + name_ + "': column '" + c.name + "' has " + std::to_string(c.size()) +
                           " rows, expected " + std::to_string(rows()));
}

Table& Results::Add(std::string name, std::string description) {
  tables.emplace_back(std::move(name), std::move(description));
  return tables.back();
}

const Table* Results::Find(const std::string& name) const {
  for (const auto& t : tables)
    if (t.name() == name) return &t;
  return nullptr;
}

}  // namespace adsim

#include "fleet_waves.h"

#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "tool_error.h"

namespace privota::tools {
namespace {

double parse_number(const std::string& text, const std::string& what) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value)) {
    throw ToolError(fmt::format("'{}' is not {}", text, what));
  }
  return value;
}

}  // namespace

std::vector<double> parse_waves(const std::string& text) {
  std::vector<double> waves;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    if (item.empty() || item.back() != '%') {
      throw ToolError(fmt::format("wave '{}' must be a percentage such as 10%", item));
    }
    const double percent = parse_number(item.substr(0, item.size() - 1), "a percentage");
    if (percent <= 0 || percent > 100 || (!waves.empty() && percent <= waves.back())) {
      throw ToolError(fmt::format("waves '{}' must grow from above 0% to 100%, each above the last", text));
    }
    waves.push_back(percent);
  }
  if (waves.empty() || waves.back() != 100) {
    throw ToolError(fmt::format("waves '{}' must end at 100% (every target gets its turn)", text));
  }
  return waves;
}

double parse_failure_rate(const std::string& text) {
  const bool percent = !text.empty() && text.back() == '%';
  double rate =
      parse_number(percent ? text.substr(0, text.size() - 1) : text, "a failure rate like 20% or 0.2");
  if (percent) rate /= 100;
  if (rate < 0 || rate > 1) throw ToolError(fmt::format("failure rate '{}' must be 0% to 100%", text));
  return rate;
}

std::vector<int> assign_waves(const std::vector<double>& waves, size_t count) {
  std::vector<int> assigned;
  int wave = 0;
  for (const double percent : waves) {
    const auto end = static_cast<size_t>(std::ceil(percent * static_cast<double>(count) / 100.0 - 1e-9));
    if (end <= assigned.size()) continue;
    while (assigned.size() < std::min(end, count))
      assigned.push_back(wave);
    ++wave;
  }
  return assigned;
}

}  // namespace privota::tools

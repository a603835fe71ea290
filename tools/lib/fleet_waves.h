// A rollout's waves and its stop rule (docs/fleet.md, "The controller"): cumulative percentages of the target
// devices ("1%,10%,50%,100%"), and the failure rate above which a wave stops the rollout.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace privota::tools {

// "1%,10%,50%,100%" -> {1, 10, 50, 100}: each above the last, the last 100. Throws ToolError.
std::vector<double> parse_waves(const std::string& text);
// "20%" or "0.2" -> 0.2, within [0, 1]. Throws ToolError.
double parse_failure_rate(const std::string& text);
// The wave (0-based) of each of `count` devices in rollout order; waves that would be empty are skipped, so
// the numbers run 0..k-1 without gaps. Wave i ends at ceil(percent_i * count / 100) devices.
std::vector<int> assign_waves(const std::vector<double>& waves, size_t count);

}  // namespace privota::tools

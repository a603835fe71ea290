// How host tools report failure: one exception type whose message is the single line the user sees.
#pragma once

#include <stdexcept>
#include <string>

#include "privota/status.h"

namespace privota::tools {

class ToolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "reason (code, 0x1234)": a core Status as one line of text; the number is the status detail (an offset,
// an index or a value, as the reason says).
std::string describe(const Status& status);

// Throws ToolError("<context>: <describe(status)>") unless status is ok.
void check(const Status& status, const std::string& context);

}  // namespace privota::tools

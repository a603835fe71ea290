// Result<T>: a value or the Status that explains why there is none.
//
// The core has no heap and no exceptions, so T is stored in place. T must be default-constructible and
// copyable or movable; core value types are plain structs, which keeps this simple and portable.
#pragma once

#include "privota/status.h"

namespace privota {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit on purpose: `return value;` and `return Status::error(...);` both read naturally.
  Result(const T& value) : value_(value) {}               // NOLINT(google-explicit-constructor)
  Result(T&& value) : value_(static_cast<T&&>(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(status) {               // NOLINT(google-explicit-constructor)
    if (status_.is_ok())
      status_ = Status::error(Code::kBadState, "Result built from ok status without value");
  }

  bool is_ok() const { return status_.is_ok(); }
  const Status& status() const { return status_; }

  // Only meaningful when is_ok(); otherwise a default-constructed T.
  const T& value() const { return value_; }
  T& value() { return value_; }
  const T* operator->() const { return &value_; }
  T* operator->() { return &value_; }
  const T& operator*() const { return value_; }
  T& operator*() { return value_; }

 private:
  T value_{};
  Status status_;
};

}  // namespace privota

// Assigns the value of a Result expression to `lhs`, or returns its status from the enclosing function.
#define PRIVOTA_ASSIGN_OR_RETURN(lhs, expr)                    \
  auto PRIVOTA_CONCAT(privota_result_, __LINE__) = (expr);     \
  if (!PRIVOTA_CONCAT(privota_result_, __LINE__).is_ok())      \
    return PRIVOTA_CONCAT(privota_result_, __LINE__).status(); \
  lhs = PRIVOTA_CONCAT(privota_result_, __LINE__).value()

#define PRIVOTA_CONCAT_INNER(a, b) a##b
#define PRIVOTA_CONCAT(a, b) PRIVOTA_CONCAT_INNER(a, b)

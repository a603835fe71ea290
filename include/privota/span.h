// Span<T>: a non-owning view of contiguous elements. The core passes buffers only as spans.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace privota {

template <typename T>
class Span {
 public:
  constexpr Span() = default;
  constexpr Span(T* data, size_t size) : data_(data), size_(size) {}
  template <size_t N>
  constexpr Span(T (&array)[N]) : data_(array), size_(N) {}  // NOLINT(google-explicit-constructor)
  // A span of T converts to a span of const T.
  template <typename U>
  constexpr Span(const Span<U>& other) : data_(other.data()), size_(other.size()) {}  // NOLINT

  constexpr T* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr T& operator[](size_t i) const { return data_[i]; }
  constexpr T* begin() const { return data_; }
  constexpr T* end() const { return data_ + size_; }

  // Out-of-range requests are clamped to what exists, so callers can never form a span past the end;
  // code that needs an exact length checks size() first.
  constexpr Span first(size_t n) const { return Span(data_, n < size_ ? n : size_); }
  constexpr Span subspan(size_t offset) const {
    return offset < size_ ? Span(data_ + offset, size_ - offset) : Span(data_ + size_, 0);
  }
  constexpr Span subspan(size_t offset, size_t n) const { return subspan(offset).first(n); }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

using ByteSpan = Span<uint8_t>;
using ConstByteSpan = Span<const uint8_t>;

}  // namespace privota

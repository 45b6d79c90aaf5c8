#pragma once
// WireWriter: appends bytes to a caller-provided buffer up to a limit. The responder checks
// fits() before each record, so a record is either written whole or not at all; truncation
// (TC=1) is decided from that, never by cutting a record.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace emu::dns {

class WireWriter {
 public:
  /// Writes into `buf`, never past min(buf.size(), limit).
  WireWriter(std::span<std::uint8_t> buf, std::size_t limit)
      : p_(buf.data()), cap_(std::min(buf.size(), limit)) {}

  /// Bytes written so far.
  std::size_t size() const { return pos_; }
  /// The limit.
  std::size_t capacity() const { return cap_; }
  /// Whether n more bytes fit under `reserve` bytes kept free at the end.
  bool fits(std::size_t n, std::size_t reserve = 0) const { return pos_ + n + reserve <= cap_; }
  /// Drops everything after `pos`.
  void rewind(std::size_t pos) { pos_ = pos; }

  /// Appends without a check (callers check fits() first).
  void put(const void* data, std::size_t n) {
    std::memcpy(p_ + pos_, data, n);
    pos_ += n;
  }
  void put8(std::uint8_t v) { p_[pos_++] = v; }
  void put16(std::uint16_t v) {
    p_[pos_] = static_cast<std::uint8_t>(v >> 8);
    p_[pos_ + 1] = static_cast<std::uint8_t>(v);
    pos_ += 2;
  }
  void put32(std::uint32_t v) {
    put16(static_cast<std::uint16_t>(v >> 16));
    put16(static_cast<std::uint16_t>(v));
  }
  /// Overwrites a 16-bit value already written (section counts).
  void set16(std::size_t at, std::uint16_t v) {
    p_[at] = static_cast<std::uint8_t>(v >> 8);
    p_[at + 1] = static_cast<std::uint8_t>(v);
  }
  /// The byte at `at` (for flag updates).
  std::uint8_t& at(std::size_t at) { return p_[at]; }

 private:
  std::uint8_t* p_;
  std::size_t cap_;
  std::size_t pos_ = 0;
};

}  // namespace emu::dns

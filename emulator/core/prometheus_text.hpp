#pragma once
// Prometheus text exposition (format 0.0.4) for GET /metrics: one writer, so every family gets
// its HELP and TYPE, label values are escaped once, and histograms are written the one way
// (cumulative `_bucket{le=...}` up to +Inf, then `_sum` and `_count`).
//
// Conventions (https://prometheus.io/docs/practices/naming/): every name starts with
// `ecs_emulator_`; counters end in `_total`; units are base units in the name (`_seconds`,
// `_bytes`).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emu::metrics {

/// Label name and value pairs of one sample.
using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// A histogram of seconds with fixed upper bounds; single-threaded (the event loop's).
class Histogram {
 public:
  /// `bounds`: strictly increasing upper bounds in seconds (+Inf is implied).
  explicit Histogram(std::vector<double> bounds);
  /// Bounds for durations from a millisecond to a minute.
  static std::vector<double> default_seconds();

  void observe(double seconds);
  const std::vector<double>& bounds() const { return bounds_; }
  /// Observations at or below bounds()[i] (not cumulative; the last entry is +Inf).
  const std::vector<std::uint64_t>& counts() const { return counts_; }
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

enum class Type { Counter, Gauge, Histogram };

/// Builds the exposition text, family by family.
class TextWriter {
 public:
  /// Starts a family: `# HELP` and `# TYPE` lines. Samples of it follow.
  void family(std::string_view name, Type type, std::string_view help);
  void sample(std::string_view name, Labels labels, std::uint64_t value);
  void sample(std::string_view name, Labels labels, double value);
  /// The `_bucket`, `_sum` and `_count` samples of one labelled histogram of family `name`.
  void histogram(std::string_view name, Labels labels, const Histogram& h);
  /// Appends text already in the format (other writers' families).
  void raw(std::string_view text) { out_ += text; }
  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void labels(Labels labels, std::string_view extra_name = {}, std::string_view extra_value = {});
  std::string out_;
};

/// A label value escaped as the format wants (backslash, double quote, newline).
std::string escape_label(std::string_view value);
/// A sample value: integers without exponent, +Inf/-Inf/NaN spelled as the format wants.
std::string format_value(double value);

}  // namespace emu::metrics

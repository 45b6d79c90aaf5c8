#pragma once
// Result<T>: a value or an Error{code, message, field, aws_type}. Nothing throws across a module
// boundary; untrusted input (DNS bytes, HTTP bodies, fixtures, SQLite rows) comes back as a Result.
// An Error carries its facts as members, so each edge (native JSON, AWS JSON, fixture files) maps
// it once without reading the message back.

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace emu {

/// What went wrong, in terms every edge (HTTP, AWS JSON, fixtures) maps from in one place.
enum class Code {
  InvalidArgument,        ///< bad input: 400 (field and reason in the message)
  NotFound,               ///< unknown resource: 404
  Conflict,               ///< already exists / in use: 409
  IllegalTransition,      ///< a state-machine move that is not allowed: 409
  TooLarge,               ///< body over the limit: 413
  CommandProbesDisabled,  ///< a host-run command probe the operator has not allowed: 400
  Unavailable,            ///< storage or environment failure: 503
  Internal,               ///< a bug: 500
};

/// An error with a machine-readable code and a message a person can act on.
struct Error {
  Code code;
  /// The whole text a person reads; for a field error it leads with the field
  /// ("healthCheck.retries: must be 1..10"), for an AWS-typed one it does not name the type.
  std::string message;
  /// The input at fault ("healthCheck.retries"), empty when the error is not about one field.
  std::string field = {};
  /// The AWS exception name (as botocore's models spell it) when the core knows it
  /// ("ClusterNotFoundException"); empty lets the AWS edge choose one from `code`.
  std::string aws_type = {};

  /// The message without its "field: " lead, for a caller that names the field differently.
  std::string_view reason() const {
    const std::string_view m = message;
    if (!field.empty() && m.size() > field.size() + 1 && m.starts_with(field) &&
        m.substr(field.size(), 2) == ": ")
      return m.substr(field.size() + 2);
    return m;
  }
};

/// Result<T> = T | Error. [[nodiscard]] so a failure cannot be dropped by accident.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

/// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{Code::Internal, {}};
  bool ok_ = true;
};

/// Bad input not tied to one field.
inline Error invalid(std::string message) { return {Code::InvalidArgument, std::move(message)}; }
/// Bad input in `field`: the message reads "field: reason".
inline Error invalid_field(std::string field, std::string_view reason) {
  std::string message = field + ": " + std::string(reason);
  return {Code::InvalidArgument, std::move(message), std::move(field)};
}

inline Error not_found(std::string message) { return {Code::NotFound, std::move(message)}; }
inline Error conflict(std::string message) { return {Code::Conflict, std::move(message)}; }

}  // namespace emu

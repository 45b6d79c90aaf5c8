#pragma once
// Result<T>: a value or an Error{code, message}. Nothing throws across a module boundary;
// untrusted input (DNS bytes, HTTP bodies, fixtures, SQLite rows) comes back as a Result.

#include <string>
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
  std::string message;
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

inline Error invalid(std::string message) { return {Code::InvalidArgument, std::move(message)}; }
inline Error not_found(std::string message) { return {Code::NotFound, std::move(message)}; }
inline Error conflict(std::string message) { return {Code::Conflict, std::move(message)}; }

}  // namespace emu

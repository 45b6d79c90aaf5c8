#pragma once
// RequestGuard: the API must not be drivable by a web page (SPEC section 12). Two checks run on
// every request before it is routed, native and AWS alike:
// - Origin (CSRF): a browser sends `Origin` on every cross-origin fetch and form POST, including
//   the "simple" text/plain POSTs that need no preflight. A request whose Origin is not a
//   loopback origin or one the operator allowed is refused with 403, and foreign origins never
//   get CORS headers, so a page can neither change state nor read an answer. Clients that are
//   not browsers (curl, the SDKs, the AWS CLI, test suites) send no Origin and are unaffected.
// - Host (DNS rebinding): a page whose own name re-resolves to 127.0.0.1 talks to us as a
//   same-origin page, with its own name in `Host`. Dotted names outside the allowed list are
//   refused; IP literals, single-label names (`localhost`, a compose service such as
//   `emulator`), `*.localhost` and the SDKs' `data-` prefix pass. This is what Vite's
//   server.allowedHosts and webpack-dev-server's allowedHosts do for dev servers on localhost.
// Pure: a decision over header values, so it is tested table-driven.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emu::api {

struct RequestGuardConfig {
  /// --allowed-origins: more origins whose pages may call the API. `http://app.test:3000` is
  /// one origin exactly; `app.test` any scheme and port of that host; `*.app.test` its
  /// subdomains; `*` every origin (turns the check off).
  std::vector<std::string> allowed_origins;
  /// --allowed-hosts: more dotted names the API answers to in `Host`: `emulator.test`,
  /// `*.corp.test` (subdomains), `*` (any name: turns the rebinding defence off).
  std::vector<std::string> allowed_hosts;
};

enum class GuardVerdict {
  Allow,          ///< no Origin, or an allowed one; Host allowed
  ForeignOrigin,  ///< 403: a page of another origin (CSRF)
  ForeignHost,    ///< 403: a name we do not answer to (DNS rebinding)
};

struct GuardDecision {
  GuardVerdict verdict = GuardVerdict::Allow;
  /// The allowed Origin to echo in Access-Control-Allow-Origin (empty: send no CORS headers).
  std::string cors_origin;
  /// For a refusal: what to tell the caller (names the header value and the flag to set).
  std::string message;
};

/// Decides on one request's `Host` and `Origin` header values (nullopt: header absent).
GuardDecision check_request(std::optional<std::string_view> host,
                            std::optional<std::string_view> origin,
                            const RequestGuardConfig& config);

/// True for the host part of a loopback origin: localhost, *.localhost, 127.0.0.0/8, [::1].
bool is_loopback_host(std::string_view host);

}  // namespace emu::api

// Which Host and Origin values reach the API: table-driven over check_request (SPEC section 12).
#include "api/request_guard.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace emu::api {
namespace {

using V = GuardVerdict;
constexpr std::nullopt_t kNone = std::nullopt;

struct Case {
  std::optional<std::string> host;
  std::optional<std::string> origin;
  V verdict;
  std::string cors;  // the echoed Access-Control-Allow-Origin, empty for none
};

void run(const Case& c, const RequestGuardConfig& config) {
  std::optional<std::string_view> host, origin;
  if (c.host) host = *c.host;
  if (c.origin) origin = *c.origin;
  const auto d = check_request(host, origin, config);
  EXPECT_EQ(d.verdict, c.verdict) << "Host " << c.host.value_or("-") << ", Origin "
                                  << c.origin.value_or("-") << ": " << d.message;
  EXPECT_EQ(d.cors_origin, c.cors)
      << "Host " << c.host.value_or("-") << ", Origin " << c.origin.value_or("-");
}

TEST(RequestGuard, HostsAllowedByDefault) {
  const Case cases[] = {
      {kNone, kNone, V::Allow, ""},  // HTTP/1.0 without Host
      {"localhost", kNone, V::Allow, ""},
      {"localhost:9080", kNone, V::Allow, ""},
      {"LOCALHOST.:9080", kNone, V::Allow, ""},
      {"api.localhost:9080", kNone, V::Allow, ""},
      {"127.0.0.1:9080", kNone, V::Allow, ""},
      {"127.9.9.9", kNone, V::Allow, ""},
      {"172.29.53.53:9080", kNone, V::Allow, ""},  // an IP literal cannot be rebound
      {"[::1]:9080", kNone, V::Allow, ""},
      {"[fd00::5]:9080", kNone, V::Allow, ""},
      {"emulator:9080", kNone, V::Allow, ""},        // a compose service name
      {"data-127.0.0.1:9080", kNone, V::Allow, ""},  // the SDKs' DiscoverInstances prefix
      {"data-localhost:9080", kNone, V::Allow, ""},
      {"data-emulator", kNone, V::Allow, ""},
  };
  for (const auto& c : cases) run(c, {});
}

TEST(RequestGuard, DottedNamesAreRefusedUnlessAllowed) {
  const Case cases[] = {
      {"evil.test:9080", kNone, V::ForeignHost, ""},
      {"evil.test", kNone, V::ForeignHost, ""},
      {"data-evil.test", kNone, V::ForeignHost, ""},
      {"localhost.evil.test", kNone, V::ForeignHost, ""},
      {"127.0.0.1.nip.io", kNone, V::ForeignHost, ""},
      {"2130706433", kNone, V::Allow, ""},        // single label (no dot): cannot be a public name
      {"0x7f.0.0.1", kNone, V::ForeignHost, ""},  // not a dotted quad: a name to the resolver
      {"", kNone, V::ForeignHost, ""},
      {"[::1", kNone, V::ForeignHost, ""},
      {"::1", kNone, V::ForeignHost, ""},  // IPv6 without brackets is not a valid Host
  };
  for (const auto& c : cases) run(c, {});
}

TEST(RequestGuard, AllowedHostsFlag) {
  RequestGuardConfig config;
  config.allowed_hosts = {"emulator.test", "*.corp.test", "Upper.Test."};
  const Case cases[] = {
      {"emulator.test:9080", kNone, V::Allow, ""}, {"data-emulator.test:9080", kNone, V::Allow, ""},
      {"a.corp.test", kNone, V::Allow, ""},        {"a.b.corp.test", kNone, V::Allow, ""},
      {"corp.test", kNone, V::ForeignHost, ""},  // *.x is the subdomains, not x itself
      {"upper.test", kNone, V::Allow, ""},         {"other.test", kNone, V::ForeignHost, ""},
  };
  for (const auto& c : cases) run(c, config);
  config.allowed_hosts = {"*"};
  run({"anything.example.com", kNone, V::Allow, ""}, config);
}

TEST(RequestGuard, OriginsAllowedByDefaultGetCors) {
  const Case cases[] = {
      {"127.0.0.1:9080", "http://localhost:3000", V::Allow, "http://localhost:3000"},
      {"127.0.0.1:9080", "http://127.0.0.1:9080", V::Allow, "http://127.0.0.1:9080"},
      {"127.0.0.1:9080", "https://app.localhost", V::Allow, "https://app.localhost"},
      {"127.0.0.1:9080", "http://[::1]:8080", V::Allow, "http://[::1]:8080"},
      {"127.0.0.1:9080", "http://127.3.2.1", V::Allow, "http://127.3.2.1"},
      {"localhost", kNone, V::Allow, ""},  // curl, SDKs, the CLI: no Origin
  };
  for (const auto& c : cases) run(c, {});
}

TEST(RequestGuard, ForeignOriginsAreRefused) {
  const Case cases[] = {
      {"127.0.0.1:9080", "https://evil.example", V::ForeignOrigin, ""},
      {"localhost:9080", "http://evil.test:9080", V::ForeignOrigin, ""},
      {"localhost:9080", "http://localhost.evil.test", V::ForeignOrigin, ""},
      {"localhost:9080", "http://10.0.0.1", V::ForeignOrigin, ""},  // not loopback
      {"localhost:9080", "null", V::ForeignOrigin, ""},             // sandboxed frame, file://
      {"localhost:9080", "file://", V::ForeignOrigin, ""},
      {"localhost:9080", "chrome-extension://abc", V::ForeignOrigin, ""},
      {"localhost:9080", "http://localhost@evil.test", V::ForeignOrigin, ""},
      {"localhost:9080", "", V::ForeignOrigin, ""},
      // The Host check comes first: a rebound name is refused whatever the Origin.
      {"evil.test:9080", "http://evil.test:9080", V::ForeignHost, ""},
  };
  for (const auto& c : cases) run(c, {});
}

TEST(RequestGuard, AllowedOriginsFlag) {
  RequestGuardConfig config;
  config.allowed_origins = {"http://app.test:3000", "tools.test", "*.corp.test"};
  const Case cases[] = {
      {"localhost", "http://app.test:3000", V::Allow, "http://app.test:3000"},
      {"localhost", "http://APP.test:3000", V::Allow, "http://APP.test:3000"},
      {"localhost", "http://app.test:3001", V::ForeignOrigin, ""},
      {"localhost", "https://app.test:3000", V::ForeignOrigin, ""},
      {"localhost", "https://tools.test:8443", V::Allow, "https://tools.test:8443"},
      {"localhost", "http://ui.corp.test", V::Allow, "http://ui.corp.test"},
      {"localhost", "http://corp.test", V::ForeignOrigin, ""},
  };
  for (const auto& c : cases) run(c, config);
  config.allowed_origins = {"*"};
  run({"localhost", "https://anything.example", V::Allow, "https://anything.example"}, config);
}

TEST(RequestGuard, MessagesNameTheValueAndTheFlag) {
  auto d = check_request("evil.test:9080", std::nullopt, {});
  EXPECT_NE(d.message.find("evil.test:9080"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("--allowed-hosts evil.test"), std::string::npos) << d.message;
  d = check_request("localhost", "https://evil.example", {});
  EXPECT_NE(d.message.find("https://evil.example"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("--allowed-origins https://evil.example"), std::string::npos)
      << d.message;
}

}  // namespace
}  // namespace emu::api

#include "emulator/core/native_codec.hpp"

#include <gtest/gtest.h>

namespace emu::core::native {
namespace {

using namespace std::chrono_literals;

struct DurationCase {
  const char* json;
  long long ms;  // -1 = error
};

class DurationTest : public ::testing::TestWithParam<DurationCase> {};

TEST_P(DurationTest, Parses) {
  const auto& c = GetParam();
  auto r = parse_duration(json::parse(c.json), "interval");
  if (c.ms < 0) {
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.error().message.rfind("interval: ", 0), 0u);
  } else {
    ASSERT_TRUE(r.ok()) << c.json << ": " << r.error().message;
    EXPECT_EQ(r->count(), c.ms) << c.json;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, DurationTest,
                         ::testing::Values(DurationCase{R"("500ms")", 500},
                                           DurationCase{R"("2s")", 2000},
                                           DurationCase{R"("1.5s")", 1500},
                                           DurationCase{R"("1m")", 60000}, DurationCase{"3", 3000},
                                           DurationCase{"0.25", 250}, DurationCase{R"("2 s")", -1},
                                           DurationCase{R"("fast")", -1}, DurationCase{"-1", -1},
                                           DurationCase{"true", -1}, DurationCase{R"("5d")", -1}));

TEST(NativeCodecTest, HealthCheckWithAllFields) {
  auto r = parse_health_check(json::parse(R"({"type": "grpc", "port": 50051, "service": "game",
      "interval": "1s", "timeout": "500ms", "retries": 3, "startPeriod": "0s"})"),
                              "healthCheck");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->type, ProbeType::Grpc);
  EXPECT_EQ(r->port, 50051);
  EXPECT_EQ(r->grpc_service, "game");
  EXPECT_EQ(r->interval, 1000ms);
  EXPECT_EQ(r->timeout, 500ms);
  EXPECT_EQ(r->retries, 3);
}

struct ErrorCase {
  const char* body;
  const char* message_prefix;
};

class HealthCheckErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(HealthCheckErrorTest, NamesTheField) {
  auto r = parse_health_check(json::parse(GetParam().body), "healthCheck");
  ASSERT_FALSE(r.ok()) << GetParam().body;
  EXPECT_EQ(r.error().code, Code::InvalidArgument);
  EXPECT_EQ(r.error().message.rfind(GetParam().message_prefix, 0), 0u) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, HealthCheckErrorTest,
    ::testing::Values(
        ErrorCase{R"({})", "healthCheck.type: required"},
        ErrorCase{R"({"type": "smtp"})", "healthCheck.type: must be"},
        ErrorCase{R"({"type": "http", "retries": 0})", "healthCheck.retries: must be 1..10"},
        ErrorCase{R"({"type": "http", "retries": "3"})", "healthCheck.retries: must be an integer"},
        ErrorCase{R"({"type": "http", "interval": "50ms"})",
                  "healthCheck.interval: must be 100ms..1h"},
        ErrorCase{R"({"type": "http", "port": 70000})", "healthCheck.port: must be 1..65535"},
        // Found by the fixture fuzzer: a whole float far past int64 must be a range error, not a
        // cast (undefined behaviour).
        ErrorCase{R"({"type": "http", "port": 5e34})", "healthCheck.port: must be 1..65535"},
        ErrorCase{R"({"type": "http", "retries": -5e34})", "healthCheck.retries: must be 1..10"},
        ErrorCase{R"({"type": "http", "port": 80.0, "retries": 2.0e0, "path": 1})",
                  "healthCheck.path: must be a string"},
        ErrorCase{R"({"type": "http", "path": "health"})", "healthCheck.path: must start with '/'"},
        ErrorCase{R"({"type": "command", "command": ["RUN", "x"]})",
                  "healthCheck.command: must be"},
        ErrorCase{R"({"type": "tcp", "helthCheck": 1})", "healthCheck.helthCheck: unknown field"}));

TEST(NativeCodecTest, TaskNeedsAnAddressAndValidatesIt) {
  EXPECT_EQ(parse_task(json::parse(R"({"port": 80})"), "").error().message.rfind("ip: required", 0),
            0u);
  EXPECT_EQ(
      parse_task(json::parse(R"({"ip": "1.2.3"})"), "").error().message.rfind("ip: not an IPv4", 0),
      0u);
  EXPECT_EQ(parse_task(json::parse(R"({"ip": "10.0.0.1", "port": -1})"), "")
                .error()
                .message.rfind("port:", 0),
            0u);
  auto v6 =
      parse_task(json::parse(R"({"ip": "fd00::1", "port": 80, "initialHealth": "UNHEALTHY"})"), "");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->ipv6, "fd00::1");
  EXPECT_TRUE(v6->ipv4.empty());
  EXPECT_EQ(v6->initial_health, Health::Unhealthy);
}

TEST(NativeCodecTest, ServiceRecordsAndRouting) {
  auto r = parse_service(json::parse(R"({"ttl": 10, "records": ["A", "srv"], "routing": "weighted",
                                         "onUnhealthy": "withdraw"})"),
                         "");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->records->a);
  EXPECT_TRUE(r->records->srv);
  EXPECT_FALSE(r->records->aaaa);
  EXPECT_EQ(*r->routing, Routing::Weighted);
  EXPECT_EQ(*r->on_unhealthy, OnUnhealthy::Withdraw);
  EXPECT_FALSE(parse_service(json::parse(R"({"records": ["MX"]})"), "").ok());
  EXPECT_FALSE(parse_service(json::parse(R"({"records": []})"), "").ok());
  EXPECT_FALSE(parse_service(json::parse(R"({"ttl": -5})"), "").ok());
  EXPECT_FALSE(parse_service(json::parse(R"([1, 2])"), "").ok());
}

TEST(NativeCodecTest, MalformedJsonIsAnErrorNotAnException) {
  auto r = parse_json("{\"ip\": ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::InvalidArgument);
  EXPECT_NE(r.error().message.find("malformed JSON"), std::string::npos);
  EXPECT_TRUE(parse_json("{\"a\": 1}").ok());
}

TEST(NativeCodecTest, Ipv4AndIpv6Parsing) {
  EXPECT_TRUE(parse_ipv4("127.0.0.2"));
  EXPECT_FALSE(parse_ipv4("127.0.0.256"));
  EXPECT_FALSE(parse_ipv4("::1"));
  EXPECT_FALSE(parse_ipv4(std::string(100, '1')));
  EXPECT_TRUE(parse_ipv6("::1"));
  EXPECT_FALSE(parse_ipv6("1.2.3.4"));
}

}  // namespace
}  // namespace emu::core::native

namespace emu::core::native {
namespace {
TEST(NativeCodecTest, OutOfRangeNumbersAreMalformedJsonNotACrash) {
  auto r = parse_json(R"({"port": 1e400})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::InvalidArgument);
}
}  // namespace
}  // namespace emu::core::native

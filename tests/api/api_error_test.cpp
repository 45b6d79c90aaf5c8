// The native edge's one error mapping, table-driven: every Code to its status and `error` name,
// and `field` taken from the Error's member (never read back from the message).

#include "api/api_error.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "emulator/core/ecs/ecs_errors.hpp"

namespace emu::api {
namespace {

using nlohmann::json;

struct Case {
  const char* name;
  Error error;
  http::status status;
  json body;  ///< the expected body
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

const Case kCases[] = {
    {"InvalidArgument",
     invalid("bad request"),
     http::status::bad_request,
     {{"error", "InvalidArgument"}, {"message", "bad request"}}},
    {"FieldError",
     invalid_field("healthCheck.retries", "must be 1..10"),
     http::status::bad_request,
     {{"error", "InvalidArgument"},
      {"message", "healthCheck.retries: must be 1..10"},
      {"field", "healthCheck.retries"}}},
    {"IndexedFieldError",
     invalid_field("tasks[2].port", "required"),
     http::status::bad_request,
     {{"error", "InvalidArgument"},
      {"message", "tasks[2].port: required"},
      {"field", "tasks[2].port"}}},
    // A message that merely looks like "field: reason" names no field.
    {"ColonInAPlainMessage",
     invalid("name: not a field"),
     http::status::bad_request,
     {{"error", "InvalidArgument"}, {"message", "name: not a field"}}},
    {"NotFound",
     not_found("task t-1 not found"),
     http::status::not_found,
     {{"error", "NotFound"}, {"message", "task t-1 not found"}}},
    {"Conflict",
     conflict("task t-1 already exists"),
     http::status::conflict,
     {{"error", "Conflict"}, {"message", "task t-1 already exists"}}},
    {"IllegalTransition",
     Error{Code::IllegalTransition, "task t-1 is STOPPED"},
     http::status::conflict,
     {{"error", "IllegalTransition"}, {"message", "task t-1 is STOPPED"}}},
    {"TooLarge",
     Error{Code::TooLarge, "body: too large", "body"},
     http::status::payload_too_large,
     {{"error", "TooLarge"}, {"message", "body: too large"}, {"field", "body"}}},
    {"CommandProbesDisabled",
     Error{Code::CommandProbesDisabled, "healthCheck: off", "healthCheck"},
     http::status::bad_request,
     {{"error", "CommandProbesDisabled"},
      {"message", "healthCheck: off"},
      {"field", "healthCheck"}}},
    {"Unavailable",
     Error{Code::Unavailable, "state file x is read-only"},
     http::status::service_unavailable,
     {{"error", "Unavailable"}, {"message", "state file x is read-only"}}},
    {"Internal",
     Error{Code::Internal, "bug"},
     http::status::internal_server_error,
     {{"error", "Internal"}, {"message", "bug"}}},
    // The native edge shows the code's name, not an AWS type the core attached.
    {"AwsTypedError",
     core::ecs::ecs_error("ClusterNotFoundException", "Cluster not found."),
     http::status::not_found,
     {{"error", "NotFound"}, {"message", "Cluster not found."}}},
};

class NativeErrorTest : public ::testing::TestWithParam<Case> {};

TEST_P(NativeErrorTest, MapsStatusNameMessageAndField) {
  const Case& c = GetParam();
  const auto res = error_response(c.error);
  EXPECT_EQ(res.result(), c.status);
  EXPECT_EQ(status_of(c.error.code), c.status);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(json::parse(res.body()), c.body);
}

INSTANTIATE_TEST_SUITE_P(Table, NativeErrorTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NativeErrorTest, AnExplicitStatusNamesAFieldOnlyWhenGiven) {
  auto with = error_response(http::status::payload_too_large, "TooLarge",
                             "body: larger than the limit of 10 bytes", "body");
  EXPECT_EQ(json::parse(with.body()).value("field", ""), "body");
  auto without = error_response(http::status::method_not_allowed, "MethodNotAllowed",
                                "PATCH is not allowed on /v1/tasks/{id}");
  EXPECT_FALSE(json::parse(without.body()).contains("field"));
  EXPECT_EQ(without.result(), http::status::method_not_allowed);
}

TEST(NativeErrorTest, AFieldErrorKnowsItsReason) {
  const Error e = invalid_field("name", "empty");
  EXPECT_EQ(e.reason(), "empty");
  EXPECT_EQ(invalid("name: empty").reason(), "name: empty");  // no field, nothing to strip
}

}  // namespace
}  // namespace emu::api

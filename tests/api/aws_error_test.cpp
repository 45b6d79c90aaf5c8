// The AWS edge's one error mapping, table-driven: every Code for each API, the exception names the
// core sets (as botocore's ECS and servicediscovery models spell them), the status each implies,
// and the wire shape (`__type`, `message`, `Message`, x-amzn-ErrorType, extra members).

#include "api/aws/aws_error.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "api/aws/aws_call.hpp"
#include "emulator/core/ecs/ecs_errors.hpp"

namespace emu::api::aws {
namespace {

using nlohmann::json;

struct Case {
  const char* name;
  Error error;
  AwsApi api;
  const char* not_found_type;
  const char* type;  ///< the expected `__type`
  http::status status;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

const Case kCases[] = {
    // ECS without an AWS type: the client's errors are InvalidParameterException, ours
    // ServerException.
    {"EcsInvalidArgument", invalid("bad"), AwsApi::Ecs, "", "InvalidParameterException",
     http::status::bad_request},
    {"EcsFieldError", invalid_field("count", "must be 1..10"), AwsApi::Ecs, "",
     "InvalidParameterException", http::status::bad_request},
    {"EcsNotFound", not_found("gone"), AwsApi::Ecs, "", "InvalidParameterException",
     http::status::bad_request},
    {"EcsConflict", conflict("busy"), AwsApi::Ecs, "", "InvalidParameterException",
     http::status::bad_request},
    {"EcsIllegalTransition", Error{Code::IllegalTransition, "no"}, AwsApi::Ecs, "",
     "InvalidParameterException", http::status::bad_request},
    {"EcsTooLarge", Error{Code::TooLarge, "big"}, AwsApi::Ecs, "", "InvalidParameterException",
     http::status::bad_request},
    {"EcsCommandProbesDisabled", Error{Code::CommandProbesDisabled, "off"}, AwsApi::Ecs, "",
     "InvalidParameterException", http::status::bad_request},
    {"EcsUnavailable", Error{Code::Unavailable, "disk"}, AwsApi::Ecs, "", "ServerException",
     http::status::internal_server_error},
    {"EcsInternal", Error{Code::Internal, "bug"}, AwsApi::Ecs, "", "ServerException",
     http::status::internal_server_error},
    // ECS with the type the core names.
    {"EcsClusterNotFound", core::ecs::ecs_error("ClusterNotFoundException", "Cluster not found."),
     AwsApi::Ecs, "", "ClusterNotFoundException", http::status::bad_request},
    {"EcsServiceNotActive", core::ecs::ecs_error("ServiceNotActiveException", "x"), AwsApi::Ecs, "",
     "ServiceNotActiveException", http::status::bad_request},
    {"EcsClusterContainsServices", core::ecs::ecs_error("ClusterContainsServicesException", "x"),
     AwsApi::Ecs, "", "ClusterContainsServicesException", http::status::bad_request},
    {"EcsClient", core::ecs::client_error("x"), AwsApi::Ecs, "", "ClientException",
     http::status::bad_request},
    {"EcsInvalidParameter", core::ecs::invalid_parameter("x"), AwsApi::Ecs, "",
     "InvalidParameterException", http::status::bad_request},
    {"EcsServerException", core::ecs::ecs_error("ServerException", "x"), AwsApi::Ecs, "",
     "ServerException", http::status::internal_server_error},
    {"EcsUnknownOperation", core::ecs::ecs_error("UnknownOperationException", "x"), AwsApi::Ecs, "",
     "UnknownOperationException", http::status::bad_request},
    {"EcsSerialization", aws_error("SerializationException", "x"), AwsApi::Ecs, "",
     "SerializationException", http::status::bad_request},
    // Cloud Map without an AWS type: the code picks the servicediscovery exception.
    {"CloudMapInvalidArgument", invalid("bad"), AwsApi::CloudMap, "NamespaceNotFound",
     "InvalidInput", http::status::bad_request},
    {"CloudMapFieldError", invalid_field("ttl", "must be 0..2147483647"), AwsApi::CloudMap, "",
     "InvalidInput", http::status::bad_request},
    {"CloudMapNamespaceNotFound", not_found("gone"), AwsApi::CloudMap, "NamespaceNotFound",
     "NamespaceNotFound", http::status::bad_request},
    {"CloudMapServiceNotFound", not_found("gone"), AwsApi::CloudMap, "ServiceNotFound",
     "ServiceNotFound", http::status::bad_request},
    {"CloudMapInstanceNotFound", not_found("gone"), AwsApi::CloudMap, "InstanceNotFound",
     "InstanceNotFound", http::status::bad_request},
    {"CloudMapNotFoundUnnamed", not_found("gone"), AwsApi::CloudMap, "",
     "ResourceNotFoundException", http::status::bad_request},
    {"CloudMapConflict", conflict("busy"), AwsApi::CloudMap, "", "ResourceInUse",
     http::status::bad_request},
    {"CloudMapIllegalTransition", Error{Code::IllegalTransition, "no"}, AwsApi::CloudMap, "",
     "ResourceInUse", http::status::bad_request},
    {"CloudMapUnavailable", Error{Code::Unavailable, "disk"}, AwsApi::CloudMap, "",
     "ServiceUnavailable", http::status::service_unavailable},
    {"CloudMapTooLarge", Error{Code::TooLarge, "big"}, AwsApi::CloudMap, "", "InternalFailure",
     http::status::internal_server_error},
    {"CloudMapCommandProbesDisabled", Error{Code::CommandProbesDisabled, "off"}, AwsApi::CloudMap,
     "", "InternalFailure", http::status::internal_server_error},
    {"CloudMapInternal", Error{Code::Internal, "bug"}, AwsApi::CloudMap, "", "InternalFailure",
     http::status::internal_server_error},
    // Cloud Map with the type named: it wins over the code and over not_found_type.
    {"CloudMapTyped", aws_error("TooManyTagsException", "x"), AwsApi::CloudMap, "ServiceNotFound",
     "TooManyTagsException", http::status::bad_request},
    {"CloudMapSerialization", aws_error("SerializationException", "x"), AwsApi::CloudMap, "",
     "SerializationException", http::status::bad_request},
    // Route 53: its own generic codes, and the statuses of botocore's route53 model.
    {"Route53InvalidArgument", invalid("bad"), AwsApi::Route53, "", "InvalidInput",
     http::status::bad_request},
    {"Route53TooLarge", Error{Code::TooLarge, "big"}, AwsApi::Route53, "", "InvalidInput",
     http::status::bad_request},
    {"Route53NotFoundDefault", not_found("gone"), AwsApi::Route53, "", "NoSuchHostedZone",
     http::status::not_found},
    {"Route53NoSuchChange", not_found("gone"), AwsApi::Route53, "NoSuchChange", "NoSuchChange",
     http::status::not_found},
    {"Route53Conflict", conflict("busy"), AwsApi::Route53, "", "ConcurrentModification",
     http::status::bad_request},
    {"Route53IllegalTransition", Error{Code::IllegalTransition, "no"}, AwsApi::Route53, "",
     "ConcurrentModification", http::status::bad_request},
    {"Route53Unavailable", Error{Code::Unavailable, "disk"}, AwsApi::Route53, "",
     "ServiceUnavailable", http::status::service_unavailable},
    {"Route53Internal", Error{Code::Internal, "bug"}, AwsApi::Route53, "", "InternalFailure",
     http::status::internal_server_error},
    {"Route53AlreadyExists", aws_error("HostedZoneAlreadyExists", "x"), AwsApi::Route53, "",
     "HostedZoneAlreadyExists", http::status::conflict},
    {"Route53NotImplemented", aws_error("NotImplemented", "x"), AwsApi::Route53, "",
     "NotImplemented", http::status::not_implemented},
    {"Route53InvalidChangeBatch", aws_error("InvalidChangeBatch", "x"), AwsApi::Route53, "",
     "InvalidChangeBatch", http::status::bad_request},
};

class AwsErrorTest : public ::testing::TestWithParam<Case> {};

TEST_P(AwsErrorTest, MapsTypeStatusAndMessage) {
  const Case& c = GetParam();
  const AwsError out = to_aws_error(c.error, c.api, c.not_found_type);
  EXPECT_EQ(out.type, c.type);
  EXPECT_EQ(out.status, c.status);
  // The message is sent as the core wrote it: never prefixed with the type.
  EXPECT_EQ(out.message, c.error.message);
}

INSTANTIATE_TEST_SUITE_P(Table, AwsErrorTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AwsErrorTest, StatusFollowsTheExceptionName) {
  EXPECT_EQ(aws_status("ServerException"), http::status::internal_server_error);
  EXPECT_EQ(aws_status("InternalFailure"), http::status::internal_server_error);
  EXPECT_EQ(aws_status("ServiceUnavailable"), http::status::service_unavailable);
  EXPECT_EQ(aws_status("ClusterNotFoundException"), http::status::bad_request);
  EXPECT_EQ(aws_status("NamespaceAlreadyExists"), http::status::bad_request);
  // Route 53's statuses are its own: Cloud Map's *AlreadyExists stay 400.
  EXPECT_EQ(route53_status("NoSuchHostedZone"), http::status::not_found);
  EXPECT_EQ(route53_status("HostedZoneNotEmpty"), http::status::bad_request);
  EXPECT_EQ(route53_status("NotAuthorizedException"), http::status::unauthorized);
  EXPECT_EQ(route53_status("InternalFailure"), http::status::internal_server_error);
}

TEST(AwsErrorTest, EcsErrorsNameTheirTypeOutsideTheMessage) {
  const Error e = core::ecs::ecs_error("ClusterNotFoundException", "Cluster not found.");
  EXPECT_EQ(e.aws_type, "ClusterNotFoundException");
  EXPECT_EQ(e.message, "Cluster not found.");
  EXPECT_EQ(e.code, Code::NotFound);
  EXPECT_EQ(core::ecs::ecs_error("ServerException", "x").code, Code::Internal);
  EXPECT_EQ(core::ecs::client_error("x").code, Code::InvalidArgument);
}

TEST(AwsErrorTest, TheWireShapeCarriesTypeMessageAndExtraMembers) {
  AwsCall call;
  call.request_id = "req-1";
  const auto res = fail(call, AwsError{"NamespaceAlreadyExists", "Namespace x already exists"},
                        json{{"NamespaceId", "ns-1"}, {"CreatorRequestId", "c-1"}});
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_EQ(res[http::field::content_type], "application/x-amz-json-1.1");
  EXPECT_EQ(res["x-amzn-ErrorType"], "NamespaceAlreadyExists");
  EXPECT_EQ(res["x-amzn-RequestId"], "req-1");
  EXPECT_EQ(json::parse(res.body()), (json{{"__type", "NamespaceAlreadyExists"},
                                           {"message", "Namespace x already exists"},
                                           {"Message", "Namespace x already exists"},
                                           {"NamespaceId", "ns-1"},
                                           {"CreatorRequestId", "c-1"}}));
}

TEST(AwsErrorTest, AMappedServerErrorIsA500OnTheWire) {
  AwsCall call;
  const auto res = fail(call, to_aws_error(Error{Code::Unavailable, "disk full"}, AwsApi::Ecs));
  EXPECT_EQ(res.result(), http::status::internal_server_error);
  EXPECT_EQ(json::parse(res.body()).at("__type"), "ServerException");
  EXPECT_EQ(json::parse(res.body()).at("message"), "disk full");
}

}  // namespace
}  // namespace emu::api::aws

namespace emu::api::aws {
namespace {

// An operation of the model without a handler: each service's own exception name, 400, naming it.
TEST(NotEmulated, NamesTheOperationInEachServicesTerms) {
  const auto ecs = not_emulated(AwsApi::Ecs, "AmazonEC2ContainerServiceV20141113.ExecuteCommand");
  EXPECT_EQ(ecs.type, "UnsupportedFeatureException");
  EXPECT_EQ(ecs.status, http::status::bad_request);
  EXPECT_NE(ecs.message.find("ExecuteCommand"), std::string::npos);
  const auto cm = not_emulated(AwsApi::CloudMap, "Route53AutoNaming_v20170314.Newer");
  EXPECT_EQ(cm.type, "UnsupportedOperation");
  EXPECT_NE(cm.message.find("Newer"), std::string::npos);
}

}  // namespace
}  // namespace emu::api::aws

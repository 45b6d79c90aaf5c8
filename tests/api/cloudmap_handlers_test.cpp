// Cloud Map handlers on Request values, over a Registry on a MemoryStore in simulated time: every
// operation, the error shapes, pagination, filters and region separation.

#include "api/aws/cloudmap_handlers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>

#include "emulator/core/memory_store.hpp"
#include "emulator/core/registry.hpp"
#include "tests/support/aws_model_inputs.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::api::aws {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

struct Reply {
  int status = 0;
  json body;
  std::string content_type;
  /// The error code, "" on success.
  std::string type() const { return body.is_object() ? body.value("__type", "") : ""; }
};

class CloudMapTest : public ::testing::Test {
 protected:
  Reply call(std::string_view op, const json& body, const std::string& region = "us-east-1") {
    return raw(op, body.dump(), region);
  }

  Reply raw(std::string_view op, const std::string& body, const std::string& region = "us-east-1") {
    Request req{http::verb::post, "/", 11};
    req.set("X-Amz-Target", std::string(kCloudMapPrefix) + "." + std::string(op));
    req.set(http::field::content_type, "application/x-amz-json-1.1");
    req.set(http::field::authorization,
            "AWS4-HMAC-SHA256 Credential=test/20260101/" + region +
                "/servicediscovery/aws4_request, SignedHeaders=host;x-amz-date, Signature=00");
    req.body() = body;
    req.prepare_payload();
    const Response res = handlers_.handle(req, op);
    Reply r;
    r.status = static_cast<int>(res.result_int());
    r.body = json::parse(res.body(), nullptr, false);
    r.content_type = std::string(res[http::field::content_type]);
    return r;
  }

  /// Creates a private DNS namespace; returns its id.
  std::string make_namespace(const std::string& name, const std::string& region = "us-east-1") {
    const auto r = call("CreatePrivateDnsNamespace", {{"Name", name}, {"Vpc", "vpc-1"}}, region);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    const auto op = call("GetOperation", {{"OperationId", r.body["OperationId"]}}, region);
    return op.body["Operation"]["Targets"]["NAMESPACE"].get<std::string>();
  }

  /// Creates a service; returns its id.
  std::string make_service(const std::string& ns_id, const std::string& name, json records,
                           bool custom_health, const std::string& region = "us-east-1") {
    json body{{"Name", name},
              {"NamespaceId", ns_id},
              {"DnsConfig", {{"RoutingPolicy", "MULTIVALUE"}, {"DnsRecords", records}}}};
    if (custom_health) body["HealthCheckCustomConfig"] = {{"FailureThreshold", 1}};
    const auto r = call("CreateService", body, region);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body["Service"]["Id"].get<std::string>();
  }

  Reply register_ip(const std::string& service_id, const std::string& id, const std::string& ip,
                    json extra = json::object()) {
    json attrs{{"AWS_INSTANCE_IPV4", ip}};
    for (const auto& [k, v] : extra.items()) attrs[k] = v;
    return call("RegisterInstance",
                {{"ServiceId", service_id}, {"InstanceId", id}, {"Attributes", attrs}});
  }

  /// The endpoints DNS sees for `service.ns` (ip -> healthy).
  std::map<std::string, bool> dns(const std::string& ns, const std::string& service) const {
    std::map<std::string, bool> out;
    for (const auto& zn : registry_.zone_model().namespaces) {
      if (zn.name != ns) continue;
      for (const auto& zs : zn.services) {
        if (zs.name != service) continue;
        for (const auto& e : zs.endpoints) {
          std::string ip;
          if (e.ipv4) {
            for (int i = 0; i < 4; ++i) ip += (i ? "." : "") + std::to_string((*e.ipv4)[i]);
          }
          out[ip] = e.healthy;
        }
      }
    }
    return out;
  }

  bool zone_exists(const std::string& ns) const {
    for (const auto& zn : registry_.zone_model().namespaces) {
      if (zn.name == ns) return true;
    }
    return false;
  }

  test::SimTime sim_;
  core::MemoryStore store_;
  core::Registry registry_{sim_.clock, sim_.timers, store_, core::RegistryConfig{}, 42};
  CloudMapHandlers handlers_{registry_, sim_.clock};
};

const json kA = json::array({{{"Type", "A"}, {"TTL", 60}}});
const json kASrv = json::array({{{"Type", "A"}, {"TTL", 30}}, {{"Type", "SRV"}, {"TTL", 30}}});

// --------------------------------------------------------------------------- namespaces

TEST_F(CloudMapTest, CreatePrivateDnsNamespaceIsAZoneAndAnOperation) {
  const auto r = call("CreatePrivateDnsNamespace",
                      {{"Name", "demo.local"},
                       {"Vpc", "vpc-1"},
                       {"CreatorRequestId", "req-1"},
                       {"Description", "d"},
                       {"Properties", {{"DnsProperties", {{"SOA", {{"TTL", 15}}}}}}}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.content_type, "application/x-amz-json-1.1");
  const auto op_id = r.body["OperationId"].get<std::string>();
  EXPECT_TRUE(std::regex_match(op_id, std::regex("[a-z0-9]{32}-[a-z0-9]{8}"))) << op_id;

  const auto op = call("GetOperation", {{"OperationId", op_id}});
  ASSERT_EQ(op.status, 200);
  EXPECT_EQ(op.body["Operation"]["Status"], "SUCCESS");
  EXPECT_EQ(op.body["Operation"]["Type"], "CREATE_NAMESPACE");
  EXPECT_TRUE(op.body["Operation"]["CreateDate"].is_number());
  const auto ns_id = op.body["Operation"]["Targets"]["NAMESPACE"].get<std::string>();
  EXPECT_TRUE(std::regex_match(ns_id, std::regex("ns-[a-z0-9]{16}"))) << ns_id;

  const auto got = call("GetNamespace", {{"Id", ns_id}});
  ASSERT_EQ(got.status, 200);
  const auto& n = got.body["Namespace"];
  EXPECT_EQ(n["Name"], "demo.local");
  EXPECT_EQ(n["Type"], "DNS_PRIVATE");
  EXPECT_EQ(n["Arn"], "arn:aws:servicediscovery:us-east-1:000000000000:namespace/" + ns_id);
  EXPECT_EQ(n["Description"], "d");
  EXPECT_EQ(n["CreatorRequestId"], "req-1");
  EXPECT_EQ(n["ServiceCount"], 0);
  EXPECT_TRUE(n["CreateDate"].is_number());
  EXPECT_EQ(n["Properties"]["DnsProperties"]["SOA"]["TTL"], 15);
  EXPECT_EQ(n["Properties"]["HttpProperties"]["HttpName"], "demo.local");
  EXPECT_THAT(n["Properties"]["DnsProperties"]["HostedZoneId"].get<std::string>(),
              ::testing::StartsWith("Z"));
  EXPECT_TRUE(zone_exists("demo.local"));
  // by ARN too
  EXPECT_EQ(call("GetNamespace", {{"Id", n["Arn"]}}).status, 200);
}

TEST_F(CloudMapTest, NamespaceAlreadyExistsUnlessTheSameCreatorRequestId) {
  const auto first = call("CreatePrivateDnsNamespace",
                          {{"Name", "demo"}, {"Vpc", "vpc-1"}, {"CreatorRequestId", "a"}});
  ASSERT_EQ(first.status, 200);
  // a retry with the same token gets the same operation
  const auto retry = call("CreatePrivateDnsNamespace",
                          {{"Name", "demo"}, {"Vpc", "vpc-1"}, {"CreatorRequestId", "a"}});
  ASSERT_EQ(retry.status, 200);
  EXPECT_EQ(retry.body["OperationId"], first.body["OperationId"]);
  // another token is a conflict that names the namespace
  const auto again = call("CreatePrivateDnsNamespace",
                          {{"Name", "demo"}, {"Vpc", "vpc-1"}, {"CreatorRequestId", "b"}});
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.type(), "NamespaceAlreadyExists");
  EXPECT_THAT(again.body["NamespaceId"].get<std::string>(), ::testing::StartsWith("ns-"));
  EXPECT_EQ(again.body["CreatorRequestId"], "a");
  EXPECT_EQ(again.body["Message"], again.body["message"]);
}

TEST_F(CloudMapTest, MissingRequiredMembersAreInvalidInputNamingThem) {
  auto r = call("CreatePrivateDnsNamespace", {{"Vpc", "vpc-1"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "InvalidInput");
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("'Name'"));
  r = call("CreatePrivateDnsNamespace", {{"Name", "x"}});
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("'Vpc'"));
  r = call("CreateService", json::object());
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("'Name'"));
  r = call("RegisterInstance", {{"ServiceId", "srv-x"}, {"InstanceId", "i"}});
  EXPECT_EQ(r.type(), "InvalidInput");
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("'Attributes'"));
  r = call("DiscoverInstances", {{"NamespaceName", "x"}});
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("'ServiceName'"));
  r = call("UpdateInstanceCustomHealthStatus", {{"ServiceId", "s"}, {"InstanceId", "i"}});
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("'Status'"));
  r = call("TagResource", {{"ResourceARN", "arn:aws:x"}});
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("'Tags'"));
  r = call("GetOperation", json::object());
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("'OperationId'"));
  // a wrong type is InvalidInput too, never a 500
  r = call("GetNamespace", {{"Id", 5}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "InvalidInput");
}

TEST_F(CloudMapTest, BadJsonAndUnknownOperations) {
  auto r = raw("ListNamespaces", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "SerializationException");
  r = raw("ListNamespaces", "");  // an empty body is {}
  EXPECT_EQ(r.status, 200);
  r = call("FrobnicateNamespace", json::object());
  EXPECT_EQ(r.type(), "UnknownOperationException");
}

TEST_F(CloudMapTest, NotFoundErrors) {
  EXPECT_EQ(call("GetNamespace", {{"Id", "ns-aaaaaaaaaaaaaaaa"}}).type(), "NamespaceNotFound");
  EXPECT_EQ(call("DeleteNamespace", {{"Id", "ns-aaaaaaaaaaaaaaaa"}}).type(), "NamespaceNotFound");
  EXPECT_EQ(call("GetService", {{"Id", "srv-aaaaaaaaaaaaaaaa"}}).type(), "ServiceNotFound");
  EXPECT_EQ(call("GetOperation", {{"OperationId", "nope"}}).type(), "OperationNotFound");
  EXPECT_EQ(
      call("ListTagsForResource",
           {{"ResourceARN", "arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-x"}})
          .type(),
      "ResourceNotFoundException");
  const auto ns = make_namespace("demo");
  EXPECT_EQ(call("CreateService",
                 {{"Name", "web"}, {"NamespaceId", "ns-nope"}, {"DnsConfig", {{"DnsRecords", kA}}}})
                .type(),
            "NamespaceNotFound");
  const auto svc = make_service(ns, "web", kA, false);
  EXPECT_EQ(call("GetInstance", {{"ServiceId", svc}, {"InstanceId", "i-1"}}).type(),
            "InstanceNotFound");
  EXPECT_EQ(call("DeregisterInstance", {{"ServiceId", svc}, {"InstanceId", "i-1"}}).type(),
            "InstanceNotFound");
  EXPECT_EQ(call("DiscoverInstances", {{"NamespaceName", "nope"}, {"ServiceName", "web"}}).type(),
            "NamespaceNotFound");
  EXPECT_EQ(call("DiscoverInstances", {{"NamespaceName", "demo"}, {"ServiceName", "nope"}}).type(),
            "ServiceNotFound");
}

TEST_F(CloudMapTest, DeleteNamespaceInUseThenDeleted) {
  const auto ns = make_namespace("demo");
  const auto svc = make_service(ns, "web", kA, false);
  auto r = call("DeleteNamespace", {{"Id", ns}});
  EXPECT_EQ(r.type(), "ResourceInUse");
  ASSERT_EQ(register_ip(svc, "i-1", "10.0.0.1").status, 200);
  r = call("DeleteService", {{"Id", svc}});
  EXPECT_EQ(r.type(), "ResourceInUse");
  ASSERT_EQ(call("DeregisterInstance", {{"ServiceId", svc}, {"InstanceId", "i-1"}}).status, 200);
  r = call("DeleteService", {{"Id", svc}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, json::object());
  r = call("DeleteNamespace", {{"Id", ns}});
  ASSERT_EQ(r.status, 200);
  const auto op = call("GetOperation", {{"OperationId", r.body["OperationId"]}});
  EXPECT_EQ(op.body["Operation"]["Type"], "DELETE_NAMESPACE");
  EXPECT_FALSE(zone_exists("demo"));
  EXPECT_EQ(call("GetNamespace", {{"Id", ns}}).type(), "NamespaceNotFound");
}

TEST_F(CloudMapTest, HttpNamespaceServicesAndAddresslessInstances) {
  const auto r = call("CreateHttpNamespace", {{"Name", "api"}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const auto ns = call("GetOperation", {{"OperationId", r.body["OperationId"]}})
                      .body["Operation"]["Targets"]["NAMESPACE"]
                      .get<std::string>();
  EXPECT_EQ(call("GetNamespace", {{"Id", ns}}).body["Namespace"]["Type"], "HTTP");
  EXPECT_FALSE(zone_exists("api"));  // HTTP namespaces are not zones
  // DnsConfig has no place in an HTTP namespace
  EXPECT_EQ(call("CreateService",
                 {{"Name", "x"}, {"NamespaceId", ns}, {"DnsConfig", {{"DnsRecords", kA}}}})
                .type(),
            "InvalidInput");
  const auto s = call("CreateService", {{"Name", "web"}, {"NamespaceId", ns}});
  ASSERT_EQ(s.status, 200) << s.body.dump();
  EXPECT_EQ(s.body["Service"]["Type"], "HTTP");
  EXPECT_FALSE(s.body["Service"].contains("DnsConfig"));
  const auto svc = s.body["Service"]["Id"].get<std::string>();
  const auto reg =
      call("RegisterInstance",
           {{"ServiceId", svc}, {"InstanceId", "i-1"}, {"Attributes", {{"version", "v1"}}}});
  ASSERT_EQ(reg.status, 200) << reg.body.dump();
  const auto d = call("DiscoverInstances", {{"NamespaceName", "api"}, {"ServiceName", "web"}});
  ASSERT_EQ(d.status, 200);
  ASSERT_EQ(d.body["Instances"].size(), 1u);
  EXPECT_EQ(d.body["Instances"][0]["Attributes"]["version"], "v1");
}

// --------------------------------------------------------------------------- services

TEST_F(CloudMapTest, CreateServiceShapeAndIdempotency) {
  const auto ns = make_namespace("demo");
  json body{{"Name", "web"},
            {"NamespaceId", ns},
            {"CreatorRequestId", "c1"},
            {"Description", "web tier"},
            {"DnsConfig", {{"RoutingPolicy", "WEIGHTED"}, {"DnsRecords", kASrv}}},
            {"HealthCheckCustomConfig", {{"FailureThreshold", 3}}}};
  const auto r = call("CreateService", body);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const auto& s = r.body["Service"];
  const auto id = s["Id"].get<std::string>();
  EXPECT_TRUE(std::regex_match(id, std::regex("srv-[a-z0-9]{16}"))) << id;
  EXPECT_EQ(s["Arn"], "arn:aws:servicediscovery:us-east-1:000000000000:service/" + id);
  EXPECT_EQ(s["Name"], "web");
  EXPECT_EQ(s["NamespaceId"], ns);
  EXPECT_EQ(s["Type"], "DNS_HTTP");
  EXPECT_EQ(s["Description"], "web tier");
  EXPECT_EQ(s["InstanceCount"], 0);
  EXPECT_EQ(s["DnsConfig"]["RoutingPolicy"], "WEIGHTED");
  EXPECT_EQ(s["DnsConfig"]["DnsRecords"], kASrv);
  EXPECT_EQ(s["HealthCheckCustomConfig"]["FailureThreshold"], 1);  // always 1, as AWS
  EXPECT_EQ(s["CreatorRequestId"], "c1");
  EXPECT_TRUE(s["CreateDate"].is_number());
  EXPECT_EQ(call("GetService", {{"Id", id}}).body["Service"], s);
  EXPECT_EQ(call("GetNamespace", {{"Id", ns}}).body["Namespace"]["ServiceCount"], 1);

  // the same token returns the service; another token conflicts
  EXPECT_EQ(call("CreateService", body).body["Service"]["Id"], id);
  body["CreatorRequestId"] = "c2";
  const auto dup = call("CreateService", body);
  EXPECT_EQ(dup.type(), "ServiceAlreadyExists");
  EXPECT_EQ(dup.body["ServiceId"], id);
  EXPECT_EQ(dup.body["ServiceArn"], s["Arn"]);
}

TEST_F(CloudMapTest, CreateServiceValidation) {
  const auto ns = make_namespace("demo");
  auto make = [&](json dns, json extra = json::object()) {
    json body{{"Name", "web"}, {"NamespaceId", ns}, {"DnsConfig", dns}};
    for (const auto& [k, v] : extra.items()) body[k] = v;
    return call("CreateService", body);
  };
  auto r = make({{"DnsRecords", json::array({{{"Type", "CNAME"}, {"TTL", 60}}})}});
  EXPECT_EQ(r.type(), "InvalidInput");
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("CNAME"));
  r = make({{"DnsRecords", json::array({{{"Type", "MX"}, {"TTL", 60}}})}});
  EXPECT_EQ(r.type(), "InvalidInput");
  r = make({{"DnsRecords", json::array({{{"Type", "A"}}})}});
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("TTL"));
  r = make({{"DnsRecords", json::array({{{"Type", "A"}, {"TTL", -1}}})}});
  EXPECT_EQ(r.type(), "InvalidInput");
  r = make({{"DnsRecords", json::array()}});
  EXPECT_EQ(r.type(), "InvalidInput");
  r = make({{"RoutingPolicy", "RANDOM"}, {"DnsRecords", kA}});
  EXPECT_EQ(r.type(), "InvalidInput");
  r = make({{"DnsRecords", kA}}, {{"HealthCheckConfig", {{"Type", "HTTP"}}}});
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("HealthCheckConfig"));
  r = make({{"DnsRecords", kA}}, {{"HealthCheckCustomConfig", {{"FailureThreshold", 11}}}});
  EXPECT_EQ(r.type(), "InvalidInput");
  r = call("CreateService", {{"Name", "web"}, {"NamespaceId", ns}});
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("DnsConfig"));
  r = make({{"DnsRecords", kA}}, {{"Name", "bad name!"}});
  EXPECT_EQ(r.type(), "InvalidInput");
  // the deprecated DnsConfig.NamespaceId still works
  r = call("CreateService",
           {{"Name", "old"}, {"DnsConfig", {{"NamespaceId", ns}, {"DnsRecords", kA}}}});
  EXPECT_EQ(r.status, 200) << r.body.dump();
}

TEST_F(CloudMapTest, UpdateServiceChangesTtlAndDescriptionNotRecordTypes) {
  const auto ns = make_namespace("demo");
  const auto svc = make_service(ns, "web", kA, false);
  auto r = call("UpdateService",
                {{"Id", svc},
                 {"Service",
                  {{"Description", "new"},
                   {"DnsConfig", {{"DnsRecords", json::array({{{"Type", "A"}, {"TTL", 5}}})}}}}}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const auto op = call("GetOperation", {{"OperationId", r.body["OperationId"]}});
  EXPECT_EQ(op.body["Operation"]["Type"], "UPDATE_SERVICE");
  EXPECT_EQ(op.body["Operation"]["Targets"]["SERVICE"], svc);
  const auto s = call("GetService", {{"Id", svc}}).body["Service"];
  EXPECT_EQ(s["Description"], "new");
  EXPECT_EQ(s["DnsConfig"]["DnsRecords"][0]["TTL"], 5);
  EXPECT_EQ(registry_.service_by_id(svc)->ttl, 5u);
  r = call("UpdateService",
           {{"Id", svc},
            {"Service",
             {{"DnsConfig", {{"DnsRecords", json::array({{{"Type", "AAAA"}, {"TTL", 5}}})}}}}}});
  EXPECT_EQ(r.type(), "InvalidInput");
  EXPECT_EQ(call("UpdateService", {{"Id", svc}}).type(), "InvalidInput");
  EXPECT_EQ(call("UpdateService", {{"Id", "srv-nope"}, {"Service", json::object()}}).type(),
            "ServiceNotFound");
}

TEST_F(CloudMapTest, ListServicesFiltersByNamespace) {
  const auto a = make_namespace("a");
  const auto b = make_namespace("b");
  make_service(a, "one", kA, false);
  make_service(a, "two", kA, false);
  make_service(b, "three", kA, false);
  auto r = call("ListServices", json::object());
  EXPECT_EQ(r.body["Services"].size(), 3u);
  r = call("ListServices",
           {{"Filters", {{{"Name", "NAMESPACE_ID"}, {"Values", {a}}, {"Condition", "EQ"}}}}});
  ASSERT_EQ(r.body["Services"].size(), 2u);
  EXPECT_TRUE(r.body["Services"][0].contains("DnsConfig"));
  EXPECT_EQ(
      call("ListServices", {{"Filters", {{{"Name", "NAMESPACE_ID"}, {"Values", {a, b}}}}}}).type(),
      "InvalidInput");  // EQ takes one value
  EXPECT_EQ(call("ListServices", {{"Filters", {{{"Name", "COLOR"}, {"Values", {"x"}}}}}}).type(),
            "InvalidInput");
}

// --------------------------------------------------------------------------- instances and DNS

TEST_F(CloudMapTest, RegisterInstanceIsInDnsAtOnceAndDeregisterRemovesIt) {
  const auto ns = make_namespace("demo");
  const auto svc = make_service(ns, "web", kASrv, false);
  auto r = register_ip(svc, "i-1", "10.0.0.1", {{"AWS_INSTANCE_PORT", "8080"}, {"az", "a"}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(dns("demo", "web"), (std::map<std::string, bool>{{"10.0.0.1", true}}));
  const auto op = call("GetOperation", {{"OperationId", r.body["OperationId"]}}).body["Operation"];
  EXPECT_EQ(op["Type"], "REGISTER_INSTANCE");
  EXPECT_EQ(op["Targets"]["INSTANCE"], "i-1");
  EXPECT_EQ(op["Targets"]["SERVICE"], svc);

  const auto got = call("GetInstance", {{"ServiceId", svc}, {"InstanceId", "i-1"}});
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["Instance"]["Id"], "i-1");
  EXPECT_EQ(got.body["Instance"]["Attributes"]["AWS_INSTANCE_IPV4"], "10.0.0.1");
  EXPECT_EQ(got.body["Instance"]["Attributes"]["AWS_INSTANCE_PORT"], "8080");
  EXPECT_EQ(got.body["Instance"]["Attributes"]["az"], "a");
  EXPECT_EQ(got.body["ResourceOwner"], "000000000000");

  // same id again is an update (upsert): the address moves
  ASSERT_EQ(register_ip(svc, "i-1", "10.0.0.9", {{"AWS_INSTANCE_PORT", "8080"}}).status, 200);
  EXPECT_EQ(dns("demo", "web"), (std::map<std::string, bool>{{"10.0.0.9", true}}));
  // two instances may share an address in Cloud Map
  ASSERT_EQ(register_ip(svc, "i-2", "10.0.0.9", {{"AWS_INSTANCE_PORT", "8080"}}).status, 200);
  EXPECT_EQ(call("GetService", {{"Id", svc}}).body["Service"]["InstanceCount"], 2);

  r = call("DeregisterInstance", {{"ServiceId", svc}, {"InstanceId", "i-1"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(
      call("GetOperation", {{"OperationId", r.body["OperationId"]}}).body["Operation"]["Type"],
      "DEREGISTER_INSTANCE");
  ASSERT_EQ(call("DeregisterInstance", {{"ServiceId", svc}, {"InstanceId", "i-2"}}).status, 200);
  EXPECT_TRUE(dns("demo", "web").empty());
}

TEST_F(CloudMapTest, RegisterInstanceValidation) {
  const auto ns = make_namespace("demo");
  const auto a = make_service(ns, "web", kA, false);
  const auto srv = make_service(ns, "srv", kASrv, false);
  auto r = call("RegisterInstance",
                {{"ServiceId", a}, {"InstanceId", "i-1"}, {"Attributes", {{"x", "y"}}}});
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("AWS_INSTANCE_IPV4"));
  r = register_ip(a, "i-1", "not-an-ip");
  EXPECT_EQ(r.type(), "InvalidInput");
  r = register_ip(srv, "i-1", "10.0.0.1");
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("AWS_INSTANCE_PORT"));
  r = register_ip(srv, "i-1", "10.0.0.1", {{"AWS_INSTANCE_PORT", "70000"}});
  EXPECT_EQ(r.type(), "InvalidInput");
  r = register_ip(a, "bad id!", "10.0.0.1");
  EXPECT_EQ(r.type(), "InvalidInput");
  r = register_ip(a, "i-1", "10.0.0.1", {{"AWS_INIT_HEALTH_STATUS", "MAYBE"}});
  EXPECT_EQ(r.type(), "InvalidInput");
  r = call("RegisterInstance",
           {{"ServiceId", a}, {"InstanceId", "i-1"}, {"Attributes", {{"k", 1}}}});
  EXPECT_EQ(r.type(), "InvalidInput");
  EXPECT_EQ(register_ip("srv-nope", "i-1", "10.0.0.1").type(), "ServiceNotFound");
}

TEST_F(CloudMapTest, CustomHealthDrivesDnsAndDiscovery) {
  const auto ns = make_namespace("demo");
  const auto svc = make_service(ns, "web", kA, true);
  ASSERT_EQ(register_ip(svc, "i-1", "10.0.0.1").status, 200);
  ASSERT_EQ(register_ip(svc, "i-2", "10.0.0.2", {{"AWS_INIT_HEALTH_STATUS", "UNHEALTHY"}}).status,
            200);
  EXPECT_EQ(dns("demo", "web"),
            (std::map<std::string, bool>{{"10.0.0.1", true}, {"10.0.0.2", false}}));

  auto h = call("GetInstancesHealthStatus", {{"ServiceId", svc}});
  EXPECT_EQ(h.body["Status"], (json{{"i-1", "HEALTHY"}, {"i-2", "UNHEALTHY"}}));
  h = call("GetInstancesHealthStatus", {{"ServiceId", svc}, {"Instances", {"i-2"}}});
  EXPECT_EQ(h.body["Status"], (json{{"i-2", "UNHEALTHY"}}));
  EXPECT_EQ(call("GetInstancesHealthStatus", {{"ServiceId", svc}, {"Instances", {"i-9"}}}).type(),
            "InstanceNotFound");

  auto discover = [&](const char* status) {
    json body{{"NamespaceName", "demo"}, {"ServiceName", "web"}};
    if (status) body["HealthStatus"] = status;
    std::set<std::string> ids;
    const auto reply1 = call("DiscoverInstances", body);
    for (const auto& i : reply1.body["Instances"]) ids.insert(i["InstanceId"]);
    return ids;
  };
  EXPECT_EQ(discover(nullptr), (std::set<std::string>{"i-1"}));  // HEALTHY by default
  EXPECT_EQ(discover("UNHEALTHY"), (std::set<std::string>{"i-2"}));
  EXPECT_EQ(discover("ALL"), (std::set<std::string>{"i-1", "i-2"}));
  EXPECT_EQ(discover("HEALTHY_OR_ELSE_ALL"), (std::set<std::string>{"i-1"}));

  const auto rev =
      call("DiscoverInstancesRevision", {{"NamespaceName", "demo"}, {"ServiceName", "web"}})
          .body["InstancesRevision"];
  auto r = call("UpdateInstanceCustomHealthStatus",
                {{"ServiceId", svc}, {"InstanceId", "i-1"}, {"Status", "UNHEALTHY"}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(dns("demo", "web"),
            (std::map<std::string, bool>{{"10.0.0.1", false}, {"10.0.0.2", false}}));
  EXPECT_TRUE(discover(nullptr).empty());
  EXPECT_EQ(discover("HEALTHY_OR_ELSE_ALL"), (std::set<std::string>{"i-1", "i-2"}));  // fail open
  // a health change does not change the revision
  EXPECT_EQ(call("DiscoverInstancesRevision", {{"NamespaceName", "demo"}, {"ServiceName", "web"}})
                .body["InstancesRevision"],
            rev);
  ASSERT_EQ(call("UpdateInstanceCustomHealthStatus",
                 {{"ServiceId", svc}, {"InstanceId", "i-2"}, {"Status", "HEALTHY"}})
                .status,
            200);
  EXPECT_EQ(dns("demo", "web"),
            (std::map<std::string, bool>{{"10.0.0.1", false}, {"10.0.0.2", true}}));
  EXPECT_EQ(call("UpdateInstanceCustomHealthStatus",
                 {{"ServiceId", svc}, {"InstanceId", "i-2"}, {"Status", "SICK"}})
                .type(),
            "InvalidInput");
  EXPECT_EQ(call("UpdateInstanceCustomHealthStatus",
                 {{"ServiceId", svc}, {"InstanceId", "i-9"}, {"Status", "HEALTHY"}})
                .type(),
            "InstanceNotFound");
}

TEST_F(CloudMapTest, CustomHealthNotFoundWithoutHealthCheckCustomConfig) {
  const auto ns = make_namespace("demo");
  const auto svc = make_service(ns, "web", kA, false);
  ASSERT_EQ(register_ip(svc, "i-1", "10.0.0.1", {{"AWS_INIT_HEALTH_STATUS", "UNHEALTHY"}}).status,
            200);
  // without a health check the status is UNKNOWN and DNS answers the instance
  EXPECT_EQ(call("GetInstancesHealthStatus", {{"ServiceId", svc}}).body["Status"]["i-1"],
            "UNKNOWN");
  EXPECT_EQ(dns("demo", "web"), (std::map<std::string, bool>{{"10.0.0.1", true}}));
  const auto r = call("UpdateInstanceCustomHealthStatus",
                      {{"ServiceId", svc}, {"InstanceId", "i-1"}, {"Status", "UNHEALTHY"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), "CustomHealthNotFound");
  // the health filter is ignored: every instance is discovered, UNKNOWN
  const auto d = call("DiscoverInstances", {{"NamespaceName", "demo"}, {"ServiceName", "web"}});
  ASSERT_EQ(d.body["Instances"].size(), 1u);
  EXPECT_EQ(d.body["Instances"][0]["HealthStatus"], "UNKNOWN");
  EXPECT_EQ(d.body["Instances"][0]["NamespaceName"], "demo");
  EXPECT_EQ(d.body["Instances"][0]["ServiceName"], "web");
}

TEST_F(CloudMapTest, DiscoverInstancesFiltersAndRevision) {
  const auto ns = make_namespace("demo");
  const auto svc = make_service(ns, "web", kA, false);
  const auto rev0 =
      call("DiscoverInstancesRevision", {{"NamespaceName", "demo"}, {"ServiceName", "web"}})
          .body["InstancesRevision"]
          .get<std::int64_t>();
  ASSERT_EQ(register_ip(svc, "i-1", "10.0.0.1", {{"version", "v1"}, {"az", "a"}}).status, 200);
  ASSERT_EQ(register_ip(svc, "i-2", "10.0.0.2", {{"version", "v1"}, {"az", "b"}}).status, 200);
  ASSERT_EQ(register_ip(svc, "i-3", "10.0.0.3", {{"version", "v2"}, {"az", "a"}}).status, 200);
  const auto d = call("DiscoverInstances", {{"NamespaceName", "demo"}, {"ServiceName", "web"}});
  const auto rev1 = d.body["InstancesRevision"].get<std::int64_t>();
  EXPECT_GT(rev1, rev0);
  EXPECT_EQ(d.body["Instances"].size(), 3u);
  auto ids = [&](json body) {
    body["NamespaceName"] = "demo";
    body["ServiceName"] = "web";
    std::set<std::string> out;
    const auto reply2 = call("DiscoverInstances", body);
    for (const auto& i : reply2.body["Instances"]) out.insert(i["InstanceId"]);
    return out;
  };
  EXPECT_EQ(ids({{"QueryParameters", {{"version", "v1"}}}}), (std::set<std::string>{"i-1", "i-2"}));
  EXPECT_EQ(ids({{"QueryParameters", {{"version", "v1"}}}, {"OptionalParameters", {{"az", "b"}}}}),
            (std::set<std::string>{"i-2"}));
  // optional filters that match nothing are ignored
  EXPECT_EQ(ids({{"QueryParameters", {{"version", "v1"}}}, {"OptionalParameters", {{"az", "z"}}}}),
            (std::set<std::string>{"i-1", "i-2"}));
  EXPECT_EQ(ids({{"QueryParameters", {{"AWS_INSTANCE_IPV4", "10.0.0.3"}}}}),
            (std::set<std::string>{"i-3"}));
  EXPECT_EQ(ids({{"MaxResults", 2}}).size(), 2u);
  EXPECT_EQ(call("DiscoverInstances",
                 {{"NamespaceName", "demo"}, {"ServiceName", "web"}, {"MaxResults", 0}})
                .type(),
            "InvalidInput");
  EXPECT_EQ(call("DiscoverInstances",
                 {{"NamespaceName", "demo"}, {"ServiceName", "web"}, {"MaxResults", 1001}})
                .type(),
            "InvalidInput");
  EXPECT_EQ(call("DiscoverInstances",
                 {{"NamespaceName", "demo"}, {"ServiceName", "web"}, {"HealthStatus", "X"}})
                .type(),
            "InvalidInput");
  ASSERT_EQ(call("DeregisterInstance", {{"ServiceId", svc}, {"InstanceId", "i-3"}}).status, 200);
  EXPECT_GT(call("DiscoverInstancesRevision", {{"NamespaceName", "demo"}, {"ServiceName", "web"}})
                .body["InstancesRevision"]
                .get<std::int64_t>(),
            rev1);
}

// --------------------------------------------------------------------------- lists

TEST_F(CloudMapTest, ListNamespacesPagesAndFilters) {
  for (const char* n : {"a1", "a2", "a3", "b1", "b2"}) make_namespace(n);
  ASSERT_EQ(call("CreateHttpNamespace", {{"Name", "h1"}}).status, 200);
  std::vector<std::string> names;
  std::string token;
  int pages = 0;
  do {
    json body{{"MaxResults", 2}};
    if (!token.empty()) body["NextToken"] = token;
    const auto r = call("ListNamespaces", body);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    for (const auto& n : r.body["Namespaces"]) names.push_back(n["Name"]);
    token = r.body.value("NextToken", "");
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"a1", "a2", "a3", "b1", "b2", "h1"}));

  auto names_of = [&](json filters) {
    std::vector<std::string> out;
    const auto reply3 = call("ListNamespaces", {{"Filters", filters}});
    for (const auto& n : reply3.body["Namespaces"]) out.push_back(n["Name"]);
    return out;
  };
  EXPECT_EQ(names_of({{{"Name", "TYPE"}, {"Values", {"HTTP"}}}}), (std::vector<std::string>{"h1"}));
  EXPECT_EQ(names_of({{{"Name", "NAME"}, {"Values", {"b"}}, {"Condition", "BEGINS_WITH"}}}),
            (std::vector<std::string>{"b1", "b2"}));
  EXPECT_EQ(names_of({{{"Name", "NAME"}, {"Values", {"a2"}}, {"Condition", "EQ"}},
                      {{"Name", "TYPE"}, {"Values", {"DNS_PRIVATE"}}}}),
            (std::vector<std::string>{"a2"}));

  EXPECT_EQ(call("ListNamespaces", {{"MaxResults", 0}}).type(), "InvalidInput");
  EXPECT_EQ(call("ListNamespaces", {{"MaxResults", 101}}).type(), "InvalidInput");
  EXPECT_EQ(call("ListNamespaces", {{"NextToken", "garbage!"}}).type(), "InvalidInput");
  EXPECT_EQ(call("ListNamespaces",
                 {{"Filters", {{{"Name", "NAME"}, {"Values", {"a"}}, {"Condition", "BETWEEN"}}}}})
                .type(),
            "InvalidInput");
  EXPECT_EQ(call("ListNamespaces", {{"Filters", {{{"Name", "NAME"}}}}}).type(), "InvalidInput");
}

TEST_F(CloudMapTest, ListInstancesPagesAndOperationsFilter) {
  const auto ns = make_namespace("demo");
  const auto svc = make_service(ns, "web", kA, false);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(register_ip(svc, "i-" + std::to_string(i), "10.0.0." + std::to_string(i)).status,
              200);
  }
  auto first = call("ListInstances", {{"ServiceId", svc}, {"MaxResults", 3}});
  ASSERT_EQ(first.body["Instances"].size(), 3u);
  EXPECT_EQ(first.body["ResourceOwner"], "000000000000");
  auto second =
      call("ListInstances",
           {{"ServiceId", svc}, {"MaxResults", 3}, {"NextToken", first.body["NextToken"]}});
  ASSERT_EQ(second.body["Instances"].size(), 2u);
  EXPECT_FALSE(second.body.contains("NextToken"));
  // a token of another list is not accepted
  const auto ops = call("ListOperations", {{"MaxResults", 1}});
  EXPECT_EQ(
      call("ListInstances", {{"ServiceId", svc}, {"NextToken", ops.body["NextToken"]}}).type(),
      "InvalidInput");

  auto count = [&](json filters) {
    return call("ListOperations", {{"Filters", filters}}).body["Operations"].size();
  };
  EXPECT_EQ(count({{{"Name", "TYPE"}, {"Values", {"REGISTER_INSTANCE"}}}}), 5u);
  EXPECT_EQ(count({{{"Name", "TYPE"},
                    {"Values", {"REGISTER_INSTANCE", "CREATE_NAMESPACE"}},
                    {"Condition", "IN"}}}),
            6u);
  EXPECT_EQ(count({{{"Name", "SERVICE_ID"}, {"Values", {svc}}}}), 5u);
  EXPECT_EQ(count({{{"Name", "NAMESPACE_ID"}, {"Values", {ns}}}}), 1u);
  EXPECT_EQ(count({{{"Name", "STATUS"}, {"Values", {"FAIL"}}}}), 0u);
  EXPECT_EQ(
      count({{{"Name", "UPDATE_DATE"}, {"Values", {"0", "9999999999"}}, {"Condition", "BETWEEN"}}}),
      6u);
  EXPECT_EQ(
      call("ListOperations",
           {{"Filters", {{{"Name", "UPDATE_DATE"}, {"Values", {"0"}}, {"Condition", "BETWEEN"}}}}})
          .type(),
      "InvalidInput");
  const auto all = call("ListOperations", json::object()).body["Operations"];
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0]["Status"], "SUCCESS");
}

// --------------------------------------------------------------------------- tags and regions

TEST_F(CloudMapTest, TagsOnNamespacesAndServices) {
  const auto r =
      call("CreatePrivateDnsNamespace",
           {{"Name", "demo"}, {"Vpc", "v"}, {"Tags", {{{"Key", "team"}, {"Value", "a"}}}}});
  ASSERT_EQ(r.status, 200);
  const auto ns = call("GetOperation", {{"OperationId", r.body["OperationId"]}})
                      .body["Operation"]["Targets"]["NAMESPACE"]
                      .get<std::string>();
  const auto arn = call("GetNamespace", {{"Id", ns}}).body["Namespace"]["Arn"].get<std::string>();
  EXPECT_EQ(call("ListTagsForResource", {{"ResourceARN", arn}}).body["Tags"],
            (json::array({{{"Key", "team"}, {"Value", "a"}}})));
  ASSERT_EQ(
      call("TagResource", {{"ResourceARN", arn}, {"Tags", {{{"Key", "env"}, {"Value", "dev"}}}}})
          .status,
      200);
  EXPECT_EQ(call("ListTagsForResource", {{"ResourceARN", arn}}).body["Tags"].size(), 2u);
  ASSERT_EQ(call("UntagResource", {{"ResourceARN", arn}, {"TagKeys", {"team"}}}).status, 200);
  EXPECT_EQ(call("ListTagsForResource", {{"ResourceARN", arn}}).body["Tags"],
            (json::array({{{"Key", "env"}, {"Value", "dev"}}})));

  const auto svc = make_service(ns, "web", kA, false);
  const auto sarn = call("GetService", {{"Id", svc}}).body["Service"]["Arn"].get<std::string>();
  ASSERT_EQ(call("TagResource", {{"ResourceARN", sarn}, {"Tags", {{{"Key", "k"}, {"Value", ""}}}}})
                .status,
            200);
  EXPECT_EQ(call("ListTagsForResource", {{"ResourceARN", sarn}}).body["Tags"],
            (json::array({{{"Key", "k"}, {"Value", ""}}})));
  json many = json::array();
  for (int i = 0; i < 51; ++i) many.push_back({{"Key", "k" + std::to_string(i)}, {"Value", "v"}});
  EXPECT_EQ(call("TagResource", {{"ResourceARN", sarn}, {"Tags", many}}).type(),
            "TooManyTagsException");
  EXPECT_EQ(call("TagResource", {{"ResourceARN", sarn}, {"Tags", {{{"Value", "v"}}}}}).type(),
            "InvalidInput");
  EXPECT_EQ(call("UntagResource", {{"ResourceARN", sarn + "x"}, {"TagKeys", {"k"}}}).type(),
            "ResourceNotFoundException");
}

TEST_F(CloudMapTest, RegionsAreSeparate) {
  const auto west = make_namespace("west", "us-west-2");
  const auto east = make_namespace("east", "us-east-1");
  EXPECT_EQ(call("GetNamespace", {{"Id", west}}, "us-west-2").body["Namespace"]["Arn"],
            "arn:aws:servicediscovery:us-west-2:000000000000:namespace/" + west);
  EXPECT_EQ(call("GetNamespace", {{"Id", west}}, "us-east-1").type(), "NamespaceNotFound");
  EXPECT_EQ(call("GetNamespace", {{"Id", east}}, "us-west-2").type(), "NamespaceNotFound");
  auto names = [&](const std::string& region) {
    std::vector<std::string> out;
    const auto reply4 = call("ListNamespaces", json::object(), region);
    for (const auto& n : reply4.body["Namespaces"]) out.push_back(n["Name"]);
    return out;
  };
  EXPECT_EQ(names("us-west-2"), (std::vector<std::string>{"west"}));
  EXPECT_EQ(names("us-east-1"), (std::vector<std::string>{"east"}));
  const auto svc = make_service(west, "web", kA, false, "us-west-2");
  EXPECT_EQ(call("GetService", {{"Id", svc}}, "us-west-2").body["Service"]["Arn"],
            "arn:aws:servicediscovery:us-west-2:000000000000:service/" + svc);
  EXPECT_EQ(call("GetService", {{"Id", svc}}, "us-east-1").type(), "ServiceNotFound");
  EXPECT_TRUE(call("ListServices", json::object(), "us-east-1").body["Services"].empty());
  EXPECT_EQ(
      call("CreateService",
           {{"Name", "x"}, {"NamespaceId", west}, {"DnsConfig", {{"DnsRecords", kA}}}}, "us-east-1")
          .type(),
      "NamespaceNotFound");
  EXPECT_EQ(
      call("DiscoverInstances", {{"NamespaceName", "west"}, {"ServiceName", "web"}}, "us-east-1")
          .type(),
      "NamespaceNotFound");
  // operations are regional too
  const auto op = call("CreatePrivateDnsNamespace", {{"Name", "w2"}, {"Vpc", "v"}}, "us-west-2");
  EXPECT_EQ(call("GetOperation", {{"OperationId", op.body["OperationId"]}}, "us-east-1").type(),
            "OperationNotFound");
  // both regions' zones are served by the one DNS server
  EXPECT_TRUE(zone_exists("west"));
  EXPECT_TRUE(zone_exists("east"));
}

TEST_F(CloudMapTest, ResetForgetsOperations) {
  const auto r = call("CreatePrivateDnsNamespace", {{"Name", "demo"}, {"Vpc", "v"}});
  ASSERT_TRUE(registry_.reset().ok());
  EXPECT_EQ(call("GetOperation", {{"OperationId", r.body["OperationId"]}}).type(),
            "OperationNotFound");
  EXPECT_TRUE(call("ListNamespaces", json::object()).body["Namespaces"].empty());
}

}  // namespace
}  // namespace emu::api::aws

namespace emu::api::aws {
namespace {

// Every operation of the installed Cloud Map model, called with its required members only,
// answers something other than UnknownOperationException; one the emulator lacks answers
// UnsupportedOperation naming it.
TEST_F(CloudMapTest, EveryModelOperationIsKnown) {
  for (const auto& op : model::kCloudMapModel.operations) {
    const auto r = call(op.name, minimal_input(model::kCloudMapModel, op));
    ASSERT_TRUE(r.body.is_object()) << op.name;
    const auto type = r.body.value("__type", std::string());
    EXPECT_NE(type, "UnknownOperationException") << op.name;
    if (type == "UnsupportedOperation") {
      EXPECT_NE(r.body["message"].get<std::string>().find(std::string(op.name)), std::string::npos);
    }
  }
  EXPECT_EQ(call("NoSuchOperation", json::object()).body["__type"], "UnknownOperationException");
}

// Update*Namespace: the description and the SOA TTL (the zone's negative TTL) change, through an
// UPDATE_NAMESPACE operation; a namespace of another type is InvalidInput.
TEST_F(CloudMapTest, UpdateNamespaceChangesDescriptionAndSoaTtl) {
  const auto id = make_namespace("upd.local");
  auto r = call(
      "UpdatePrivateDnsNamespace",
      {{"Id", id},
       {"Namespace",
        {{"Description", "new"}, {"Properties", {{"DnsProperties", {{"SOA", {{"TTL", 42}}}}}}}}}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const auto op = call("GetOperation", {{"OperationId", r.body["OperationId"]}});
  EXPECT_EQ(op.body["Operation"]["Type"], "UPDATE_NAMESPACE");
  EXPECT_EQ(op.body["Operation"]["Status"], "SUCCESS");
  EXPECT_EQ(op.body["Operation"]["Targets"]["NAMESPACE"], id);
  const auto ns = call("GetNamespace", {{"Id", id}}).body["Namespace"];
  EXPECT_EQ(ns["Description"], "new");
  EXPECT_EQ(ns["Properties"]["DnsProperties"]["SOA"]["TTL"], 42);
  EXPECT_EQ(registry_.namespace_by_id(id)->negative_ttl, 42u);

  r = call("UpdateHttpNamespace", {{"Id", id}, {"Namespace", {{"Description", "x"}}}});
  EXPECT_EQ(r.type(), "InvalidInput");
  r = call("UpdatePublicDnsNamespace", {{"Id", "ns-nope"}, {"Namespace", json::object()}});
  EXPECT_EQ(r.type(), "NamespaceNotFound");
  // The model's check: HttpNamespaceChange requires Description.
  r = call("UpdateHttpNamespace", {{"Id", id}, {"Namespace", json::object()}});
  EXPECT_EQ(r.body["message"],
            "1 validation error detected: Value null at 'Namespace.Description' failed to satisfy "
            "constraint: Member must not be null");
}

TEST_F(CloudMapTest, ModelChecksAnswerAllViolations) {
  const auto r = call("CreateService", {{"Name", "svc"}, {"Type", "NOPE"}, {"Description", 5}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["__type"], "InvalidInput");
  EXPECT_EQ(r.body["message"],
            "2 validation errors detected: Value 5 at 'Description' failed to satisfy constraint: "
            "Member must be a string; Value 'NOPE' at 'Type' failed to satisfy constraint: Member "
            "must satisfy enum value set: [HTTP]");
}

}  // namespace
}  // namespace emu::api::aws

// Route 53 through the Router, over a real Registry: the hosted zone of a namespace made through
// Cloud Map (the id GetNamespace gives), its record sets following the tasks, paging, the error
// documents and statuses, the operations not implemented yet, and the RequestGuard on its paths.

#include "api/route53/route53_handlers.hpp"

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "api/aws/cloudmap_handlers.hpp"
#include "api/route53/route53_xml.hpp"
#include "tests/api/api_test_env.hpp"

namespace emu::api::route53 {
namespace {

using nlohmann::json;

class Route53Test : public test::ApiTest {
 protected:
  Route53Test() {
    install_route53(router, registry);
    aws::install_cloudmap(router, registry, sim.clock);
  }

  Response get(const std::string& target, const std::string& host = "localhost") {
    return send(http::verb::get, target, "", host);
  }

  Response send(http::verb verb, const std::string& target, const std::string& body,
                const std::string& host = "localhost") {
    Request req{verb, target, 11};
    req.set(http::field::host, host);
    req.set(http::field::authorization,
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/route53/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=00");
    req.body() = body;
    req.prepare_payload();
    std::optional<Response> out;
    router.handle(std::move(req), [&out](Response res) { out = std::move(res); });
    EXPECT_TRUE(out.has_value()) << target;
    return out ? std::move(*out) : Response{};
  }

  /// The response body read back with the codec, its root checked.
  static XmlElement xml(const Response& res, const std::string& root) {
    EXPECT_EQ(res[http::field::content_type], "text/xml");
    auto parsed = parse_request(res.body(), root);
    EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message) << "\n" << res.body();
    return parsed.ok() ? *parsed : XmlElement{};
  }

  static std::string text(const XmlElement& e, std::initializer_list<const char*> path) {
    const XmlElement* at = &e;
    for (const char* p : path) {
      at = at->child(p);
      if (!at) return "<missing " + std::string(p) + ">";
    }
    return at->text;
  }

  json cloudmap(const std::string& op, const json& body) {
    Request req{http::verb::post, "/", 11};
    req.set(http::field::host, "localhost");
    req.set("X-Amz-Target", std::string(aws::kCloudMapPrefix) + "." + op);
    req.body() = body.dump();
    req.prepare_payload();
    std::optional<Response> out;
    router.handle(std::move(req), [&out](Response res) { out = std::move(res); });
    EXPECT_EQ(out->result_int(), 200u) << out->body();
    return json::parse(out->body());
  }

  /// A private DNS namespace made through Cloud Map; returns its namespace JSON (GetNamespace).
  json cloudmap_namespace(const std::string& name) {
    const auto op = cloudmap("CreatePrivateDnsNamespace", {{"Name", name}, {"Vpc", "vpc-0abc"}});
    const auto got = cloudmap("GetOperation", {{"OperationId", op["OperationId"]}});
    const auto id = got["Operation"]["Targets"]["NAMESPACE"];
    return cloudmap("GetNamespace", {{"Id", id}})["Namespace"];
  }

  /// name/type/identifier of each listed record set.
  static std::vector<std::string> record_keys(const XmlElement& list) {
    std::vector<std::string> out;
    for (const auto* rs : list.child("ResourceRecordSets")->all("ResourceRecordSet")) {
      std::string k = text(*rs, {"Name"}) + " " + text(*rs, {"Type"});
      if (rs->child("SetIdentifier")) k += " " + text(*rs, {"SetIdentifier"});
      out.push_back(k);
    }
    return out;
  }

  static void expect_error(const Response& res, unsigned status, const std::string& code) {
    EXPECT_EQ(res.result_int(), status) << res.body();
    const auto e = xml(res, "ErrorResponse");
    EXPECT_EQ(text(e, {"Error", "Code"}), code);
    EXPECT_EQ(text(e, {"Error", "Type"}), status >= 500 ? "Receiver" : "Sender");
    EXPECT_FALSE(text(e, {"Error", "Message"}).empty());
    EXPECT_EQ(text(e, {"RequestId"}), std::string(res["x-amzn-RequestId"]));
  }
};

TEST_F(Route53Test, ACloudMapNamespaceIsFoundByNameWithTheIdGetNamespaceGave) {
  const json ns = cloudmap_namespace("demo.local");
  const std::string zone_id = ns["Properties"]["DnsProperties"]["HostedZoneId"];
  ASSERT_EQ(zone_id.size(), 22u);

  const auto list =
      xml(get("/2013-04-01/hostedzonesbyname?dnsname=demo.local"), "ListHostedZonesByNameResponse");
  const auto zones = list.child("HostedZones")->all("HostedZone");
  ASSERT_FALSE(zones.empty());
  const XmlElement& z = *zones.front();
  EXPECT_EQ(text(z, {"Id"}), "/hostedzone/" + zone_id);
  EXPECT_EQ(text(z, {"Name"}), "demo.local.");
  EXPECT_EQ(text(z, {"Config", "PrivateZone"}), "true");
  EXPECT_EQ(text(z, {"ResourceRecordSetCount"}), "2");  // SOA and NS
  EXPECT_EQ(text(z, {"LinkedService", "ServicePrincipal"}), "servicediscovery.amazonaws.com");
  EXPECT_EQ(text(z, {"LinkedService", "Description"}), ns["Arn"].get<std::string>());
  EXPECT_EQ(text(list, {"DNSName"}), "demo.local");
  EXPECT_EQ(text(list, {"IsTruncated"}), "false");
  EXPECT_EQ(text(list, {"MaxItems"}), "100");

  const auto got = xml(get("/2013-04-01/hostedzone/" + zone_id), "GetHostedZoneResponse");
  EXPECT_EQ(text(got, {"HostedZone", "Id"}), "/hostedzone/" + zone_id);
  EXPECT_EQ(text(got, {"VPCs", "VPC", "VPCId"}), "vpc-0abc");
  EXPECT_EQ(text(got, {"VPCs", "VPC", "VPCRegion"}), "us-east-1");
  EXPECT_EQ(got.child("DelegationSet"), nullptr);
  // "/hostedzone/Z..." is read too (raw callers; botocore strips the prefix itself).
  EXPECT_EQ(get("/2013-04-01/hostedzone/%2Fhostedzone%2F" + zone_id).result_int(), 200u);
}

TEST_F(Route53Test, APublicNamespaceHasADelegationSetAndNoVpc) {
  core::NamespaceSpec spec;
  spec.name = "example.com";
  spec.type = "DNS_PUBLIC";
  const auto ns = registry.put_namespace(spec);
  ASSERT_TRUE(ns.ok());
  const auto got =
      xml(get("/2013-04-01/hostedzone/" + ns->hosted_zone_id), "GetHostedZoneResponse");
  EXPECT_EQ(text(got, {"HostedZone", "Config", "PrivateZone"}), "false");
  EXPECT_EQ(got.child("VPCs"), nullptr);
  std::vector<std::string> servers;
  for (const auto* n : got.child("DelegationSet")->child("NameServers")->all("NameServer"))
    servers.push_back(n->text);
  EXPECT_EQ(servers, (std::vector<std::string>{"ns-1536.awsdns-00.co.uk", "ns-0.awsdns-00.com",
                                               "ns-1024.awsdns-00.org", "ns-512.awsdns-00.net"}));
}

TEST_F(Route53Test, RecordSetsFollowTheTasks) {
  const auto svc = call(http::verb::put, "/v1/services/web.local", json{{"ttl", 20}}.dump());
  ASSERT_EQ(svc.result_int(), 201u) << svc.body();
  const std::string t1 = add_task("web.local", "10.0.0.1", 80);
  const std::string t2 = add_task("web.local", "10.0.0.2", 80);
  const std::string zone_id = registry.namespace_by_name("local")->hosted_zone_id;
  const std::string path = "/2013-04-01/hostedzone/" + zone_id + "/rrset";

  auto list = xml(get(path), "ListResourceRecordSetsResponse");
  const auto [first, second] = std::minmax(t1, t2);
  EXPECT_EQ(record_keys(list),
            (std::vector<std::string>{"local. NS", "local. SOA", "web.local. A " + first,
                                      "web.local. A " + second}));
  const auto sets = list.child("ResourceRecordSets")->all("ResourceRecordSet");
  EXPECT_EQ(sets[0]->child("ResourceRecords")->all("ResourceRecord").size(), 4u);  // 4 NS
  EXPECT_EQ(text(*sets[1], {"TTL"}), "900");
  EXPECT_EQ(text(*sets[1], {"ResourceRecords", "ResourceRecord", "Value"})
                .rfind("ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 ", 0),
            0u);
  EXPECT_EQ(text(*sets[2], {"MultiValueAnswer"}), "true");
  EXPECT_EQ(text(*sets[2], {"TTL"}), "20");
  EXPECT_EQ(text(*sets[2], {"ResourceRecords", "ResourceRecord", "Value"}),
            first == t1 ? "10.0.0.1" : "10.0.0.2");
  EXPECT_EQ(text(xml(get("/2013-04-01/hostedzone/" + zone_id), "GetHostedZoneResponse"),
                 {"HostedZone", "ResourceRecordSetCount"}),
            "4");

  // A stopped task's record set is gone from the next listing.
  ASSERT_EQ(call(http::verb::delete_, "/v1/tasks/" + t1).result_int(), 200u);
  list = xml(get(path), "ListResourceRecordSetsResponse");
  EXPECT_EQ(record_keys(list),
            (std::vector<std::string>{"local. NS", "local. SOA", "web.local. A " + t2}));
  EXPECT_EQ(text(xml(get("/2013-04-01/hostedzone/" + zone_id), "GetHostedZoneResponse"),
                 {"HostedZone", "ResourceRecordSetCount"}),
            "3");
}

TEST_F(Route53Test, RecordSetsPageWithNextRecordNameTypeAndIdentifier) {
  ASSERT_EQ(call(http::verb::put, "/v1/services/web.local", "{}").result_int(), 201u);
  std::vector<std::string> ids;
  for (int i = 1; i <= 3; ++i)
    ids.push_back(add_task("web.local", "10.0.0." + std::to_string(i), 80));
  std::sort(ids.begin(), ids.end());
  const std::string base =
      "/2013-04-01/hostedzone/" + registry.namespace_by_name("local")->hosted_zone_id + "/rrset";

  std::vector<std::string> seen;
  std::string query = "?maxitems=2";
  for (int pages = 0; pages < 10; ++pages) {
    const auto page = xml(get(base + query), "ListResourceRecordSetsResponse");
    EXPECT_EQ(text(page, {"MaxItems"}), "2");
    for (const auto& k : record_keys(page)) seen.push_back(k);
    if (text(page, {"IsTruncated"}) != "true") break;
    query = "?maxitems=2&name=" + text(page, {"NextRecordName"}) +
            "&type=" + text(page, {"NextRecordType"});
    if (page.child("NextRecordIdentifier")) {
      query += "&identifier=" + text(page, {"NextRecordIdentifier"});
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"local. NS", "local. SOA", "web.local. A " + ids[0],
                                            "web.local. A " + ids[1], "web.local. A " + ids[2]}));
  // Starting by name alone.
  EXPECT_EQ(
      record_keys(xml(get(base + "?name=web.local&maxitems=1"), "ListResourceRecordSetsResponse")),
      (std::vector<std::string>{"web.local. A " + ids[0]}));
}

TEST_F(Route53Test, ListHostedZonesPagesByMarker) {
  for (const char* name : {"a.test", "b.test", "c.test"}) {
    core::NamespaceSpec spec;
    spec.name = name;
    ASSERT_TRUE(registry.put_namespace(spec).ok());
  }
  std::vector<std::string> ids;
  for (const auto* ns : registry.namespaces()) ids.push_back("/hostedzone/" + ns->hosted_zone_id);
  std::sort(ids.begin(), ids.end());

  std::vector<std::string> seen;
  std::string query = "?maxitems=2";
  for (int pages = 0; pages < 10; ++pages) {
    const auto page = xml(get("/2013-04-01/hostedzone" + query), "ListHostedZonesResponse");
    for (const auto* z : page.child("HostedZones")->all("HostedZone"))
      seen.push_back(z->child("Id")->text);
    if (text(page, {"IsTruncated"}) != "true") break;
    query = "?maxitems=2&marker=" + text(page, {"NextMarker"});
    EXPECT_EQ(
        text(xml(get("/2013-04-01/hostedzone" + query), "ListHostedZonesResponse"), {"Marker"}),
        text(page, {"NextMarker"}));
  }
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(text(xml(get("/2013-04-01/hostedzonecount"), "GetHostedZoneCountResponse"),
                 {"HostedZoneCount"}),
            std::to_string(ids.size()));
}

TEST_F(Route53Test, AnHttpNamespaceHasNoHostedZone) {
  cloudmap("CreateHttpNamespace", {{"Name", "apis"}});
  EXPECT_EQ(text(xml(get("/2013-04-01/hostedzonecount"), "GetHostedZoneCountResponse"),
                 {"HostedZoneCount"}),
            "0");
  EXPECT_TRUE(xml(get("/2013-04-01/hostedzone"), "ListHostedZonesResponse")
                  .child("HostedZones")
                  ->children.empty());
}

TEST_F(Route53Test, ErrorsAreRoute53Documents) {
  expect_error(get("/2013-04-01/hostedzone/ZNOSUCHZONE"), 404, "NoSuchHostedZone");
  expect_error(get("/2013-04-01/hostedzone/ZNOSUCHZONE/rrset"), 404, "NoSuchHostedZone");
  expect_error(get("/2013-04-01/hostedzone/Z" + std::string(40, 'A')), 400, "InvalidInput");
  expect_error(get("/2013-04-01/hostedzone?maxitems=0"), 400, "InvalidInput");
  expect_error(get("/2013-04-01/hostedzonesbyname?hostedzoneid=Z1"), 400, "InvalidInput");
  expect_error(get("/2013-04-01/hostedzonesbyname?dnsname=a..b"), 400, "InvalidDomainName");
  expect_error(get("/2013-04-01/hostedzone?delegationsetid=N1"), 400, "NoSuchDelegationSet");
  ASSERT_EQ(call(http::verb::put, "/v1/services/web.local", "{}").result_int(), 201u);
  const std::string rrset =
      "/2013-04-01/hostedzone/" + registry.namespace_by_name("local")->hosted_zone_id + "/rrset";
  expect_error(get(rrset + "?type=A"), 400, "InvalidInput");
  expect_error(get(rrset + "?name=web.local&type=BOGUS"), 400, "InvalidInput");
  expect_error(get(rrset + "?name=web.local&identifier=x"), 400, "InvalidInput");
}

TEST_F(Route53Test, OperationsNotImplementedYetReadTheirBodyFirst) {
  ASSERT_EQ(call(http::verb::put, "/v1/services/web.local", "{}").result_int(), 201u);
  const std::string rrset =
      "/2013-04-01/hostedzone/" + registry.namespace_by_name("local")->hosted_zone_id + "/rrset/";
  expect_error(send(http::verb::post, rrset, "<not xml"), 400, "InvalidInput");
  expect_error(send(http::verb::post, rrset, "<CreateHostedZoneRequest/>"), 400, "InvalidInput");
  expect_error(send(http::verb::post, "/2013-04-01/hostedzone",
                    "<CreateHostedZoneRequest xmlns=\"" + std::string(kXmlns) +
                        "\"><Name>corp.internal</Name></CreateHostedZoneRequest>"),
               400, "InvalidInput");  // no CallerReference
  // ChangeResourceRecordSets reads its batch, GetChange knows only changes it made.
  expect_error(send(http::verb::post, rrset,
                    "<ChangeResourceRecordSetsRequest xmlns=\"" + std::string(kXmlns) +
                        "\"><ChangeBatch/></ChangeResourceRecordSetsRequest>"),
               400, "InvalidInput");
  expect_error(get("/2013-04-01/change/C1"), 404, "NoSuchChange");
  expect_error(get("/2013-04-01/healthcheck"), 501, "NotImplemented");
  expect_error(get("/2013-04-01/nothing-here"), 404, "UnknownOperationException");
  expect_error(send(http::verb::put, "/2013-04-01/hostedzone", ""), 404,
               "UnknownOperationException");
  expect_error(get("/2013-04-01"), 404, "UnknownOperationException");
}

// ------------------------------------------------------------------------ zones of one's own

namespace {
std::string create_body(const std::string& name, const std::string& reference,
                        const std::string& extra = {}) {
  return "<CreateHostedZoneRequest xmlns=\"" + std::string(kXmlns) + "\"><Name>" + name +
         "</Name><CallerReference>" + reference + "</CallerReference>" + extra +
         "</CreateHostedZoneRequest>";
}
const std::string kPrivate =
    "<VPC><VPCRegion>eu-west-1</VPCRegion><VPCId>vpc-0abc1234</VPCId></VPC>"
    "<HostedZoneConfig><Comment>corp</Comment><PrivateZone>true</PrivateZone></HostedZoneConfig>";

std::string rrset_body(const std::string& action, const std::string& name) {
  return "<ChangeResourceRecordSetsRequest xmlns=\"" + std::string(kXmlns) +
         "\"><ChangeBatch><Changes><Change><Action>" + action +
         "</Action><ResourceRecordSet><Name>" + name +
         "</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>10.0.0.7"
         "</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes>"
         "</ChangeBatch></ChangeResourceRecordSetsRequest>";
}
}  // namespace

TEST_F(Route53Test, CreateHostedZoneMakesAPrivateZoneThatDnsServes) {
  const auto res = send(http::verb::post, "/2013-04-01/hostedzone",
                        create_body("Corp.Internal.", "ref-1", kPrivate));
  ASSERT_EQ(res.result_int(), 201u) << res.body();
  const auto created = xml(res, "CreateHostedZoneResponse");
  const std::string id = text(created, {"HostedZone", "Id"});
  ASSERT_TRUE(id.starts_with("/hostedzone/Z")) << id;
  EXPECT_EQ(std::string(res[http::field::location]),
            "https://route53.amazonaws.com/2013-04-01" + id);
  EXPECT_EQ(text(created, {"HostedZone", "Name"}), "corp.internal.");
  EXPECT_EQ(text(created, {"HostedZone", "CallerReference"}), "ref-1");
  EXPECT_EQ(text(created, {"HostedZone", "Config", "Comment"}), "corp");
  EXPECT_EQ(text(created, {"HostedZone", "Config", "PrivateZone"}), "true");
  EXPECT_EQ(created.child("HostedZone")->child("LinkedService"), nullptr);
  EXPECT_EQ(text(created, {"VPC", "VPCId"}), "vpc-0abc1234");
  EXPECT_EQ(text(created, {"VPC", "VPCRegion"}), "eu-west-1");
  EXPECT_EQ(text(created, {"ChangeInfo", "Status"}), "INSYNC");
  const std::string change = text(created, {"ChangeInfo", "Id"});
  EXPECT_EQ(text(xml(get("/2013-04-01" + change), "GetChangeResponse"), {"ChangeInfo", "Id"}),
            change);

  const auto got = xml(get("/2013-04-01" + id), "GetHostedZoneResponse");
  EXPECT_EQ(text(got, {"HostedZone", "ResourceRecordSetCount"}), "2");
  EXPECT_EQ(text(got, {"VPCs", "VPC", "VPCId"}), "vpc-0abc1234");
  EXPECT_EQ(record_keys(xml(get("/2013-04-01" + id + "/rrset"), "ListResourceRecordSetsResponse")),
            (std::vector<std::string>{"corp.internal. NS", "corp.internal. SOA"}));
  EXPECT_EQ(text(xml(get("/2013-04-01/hostedzonecount"), "GetHostedZoneCountResponse"),
                 {"HostedZoneCount"}),
            "1");
  // The DNS snapshot holds the zone, and a record written into it.
  const auto apex = core::ZoneSnapshot::to_wire("corp.internal");
  const auto span = [](const std::string& w) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(w.data()), w.size());
  };
  EXPECT_NE(registry.zones().load()->lookup(span(apex)).zone, nullptr);
  ASSERT_EQ(send(http::verb::post, "/2013-04-01" + id + "/rrset",
                 rrset_body("CREATE", "db.corp.internal"))
                .result_int(),
            200u);
  const auto db = core::ZoneSnapshot::to_wire("db.corp.internal");
  const auto* node = registry.zones().load()->lookup(span(db)).node;
  ASSERT_NE(node, nullptr);
  EXPECT_NE(node->user_set(1), nullptr);
}

TEST_F(Route53Test, APublicZoneHasADelegationSet) {
  const auto res =
      send(http::verb::post, "/2013-04-01/hostedzone", create_body("example.test", "pub"));
  ASSERT_EQ(res.result_int(), 201u) << res.body();
  const auto created = xml(res, "CreateHostedZoneResponse");
  EXPECT_EQ(text(created, {"HostedZone", "Config", "PrivateZone"}), "false");
  EXPECT_EQ(created.child("DelegationSet")->child("NameServers")->all("NameServer").size(), 4u);
  EXPECT_EQ(created.child("VPC"), nullptr);
}

TEST_F(Route53Test, CreateHostedZoneRefusals) {
  const std::string path = "/2013-04-01/hostedzone";
  ASSERT_EQ(send(http::verb::post, path, create_body("corp.internal", "r1", kPrivate)).result_int(),
            201u);
  // A CallerReference is taken once: the same request again, or another one.
  expect_error(send(http::verb::post, path, create_body("corp.internal", "r1", kPrivate)), 409,
               "HostedZoneAlreadyExists");
  expect_error(send(http::verb::post, path, create_body("other.internal", "r1")), 409,
               "HostedZoneAlreadyExists");
  // One zone per name, a namespace's included.
  expect_error(send(http::verb::post, path, create_body("corp.internal", "r2", kPrivate)), 400,
               "ConflictingDomainExists");
  cloudmap_namespace("demo.local");
  expect_error(send(http::verb::post, path, create_body("demo.local.", "r3")), 400,
               "ConflictingDomainExists");
  expect_error(send(http::verb::post, path,
                    create_body("v.internal", "r4", "<VPC><VPCId>vpc-NOPE</VPCId></VPC>")),
               400, "InvalidVPCId");
  expect_error(send(http::verb::post, path,
                    create_body("v.internal", "r5",
                                "<HostedZoneConfig><PrivateZone>true</PrivateZone>"
                                "</HostedZoneConfig>")),
               400, "InvalidInput");
  expect_error(send(http::verb::post, path, create_body("bad name.internal", "r6")), 400,
               "InvalidDomainName");
  expect_error(send(http::verb::post, path,
                    create_body("d.internal", "r7", "<DelegationSetId>N1</DelegationSetId>")),
               400, "NoSuchDelegationSet");
  // Cloud Map cannot take a name a zone of one's own has.
  EXPECT_EQ(registry.put_namespace(core::NamespaceSpec{"corp.internal"}).error().code,
            Code::Conflict);
}

TEST_F(Route53Test, DeleteHostedZoneWaitsUntilItIsEmptyAndForgetsNoReference) {
  const auto created =
      xml(send(http::verb::post, "/2013-04-01/hostedzone", create_body("corp.internal", "d1")),
          "CreateHostedZoneResponse");
  const std::string id = text(created, {"HostedZone", "Id"});
  ASSERT_EQ(send(http::verb::post, "/2013-04-01" + id + "/rrset",
                 rrset_body("CREATE", "db.corp.internal"))
                .result_int(),
            200u);
  expect_error(send(http::verb::delete_, "/2013-04-01" + id, ""), 400, "HostedZoneNotEmpty");
  ASSERT_EQ(send(http::verb::post, "/2013-04-01" + id + "/rrset",
                 rrset_body("DELETE", "db.corp.internal"))
                .result_int(),
            200u);
  const auto del = send(http::verb::delete_, "/2013-04-01" + id, "");
  ASSERT_EQ(del.result_int(), 200u) << del.body();
  EXPECT_EQ(text(xml(del, "DeleteHostedZoneResponse"), {"ChangeInfo", "Status"}), "INSYNC");
  expect_error(get("/2013-04-01" + id), 404, "NoSuchHostedZone");
  const auto apex = core::ZoneSnapshot::to_wire("corp.internal");
  EXPECT_EQ(registry.zones()
                .load()
                ->lookup({reinterpret_cast<const std::uint8_t*>(apex.data()), apex.size()})
                .zone,
            nullptr);
  // The reference stays used; the name is free again.
  expect_error(send(http::verb::post, "/2013-04-01/hostedzone", create_body("corp.internal", "d1")),
               409, "HostedZoneAlreadyExists");
  EXPECT_EQ(send(http::verb::post, "/2013-04-01/hostedzone", create_body("corp.internal", "d2"))
                .result_int(),
            201u);
}

TEST_F(Route53Test, ANamespacesZoneIsCloudMapsToDeleteOrComment) {
  const auto ns = cloudmap_namespace("demo.local");
  const std::string zone_id = ns["Properties"]["DnsProperties"]["HostedZoneId"];
  const auto del = send(http::verb::delete_, "/2013-04-01/hostedzone/" + zone_id, "");
  expect_error(del, 403, "AccessDenied");
  EXPECT_NE(text(xml(del, "ErrorResponse"), {"Error", "Message"})
                .find("can only be managed through servicediscovery.amazonaws.com"),
            std::string::npos);
  expect_error(send(http::verb::post, "/2013-04-01/hostedzone/" + zone_id,
                    "<UpdateHostedZoneCommentRequest xmlns=\"" + std::string(kXmlns) +
                        "\"><Comment>x</Comment></UpdateHostedZoneCommentRequest>"),
               403, "AccessDenied");
  EXPECT_NE(registry.namespace_by_name("demo.local"), nullptr);
  expect_error(send(http::verb::delete_, "/2013-04-01/hostedzone/ZNOSUCH", ""), 404,
               "NoSuchHostedZone");
}

TEST_F(Route53Test, UpdateHostedZoneCommentAndARestartKeepTheZone) {
  const auto created =
      xml(send(http::verb::post, "/2013-04-01/hostedzone", create_body("corp.internal", "u1")),
          "CreateHostedZoneResponse");
  const std::string id = text(created, {"HostedZone", "Id"});
  const auto res = send(http::verb::post, "/2013-04-01" + id,
                        "<UpdateHostedZoneCommentRequest xmlns=\"" + std::string(kXmlns) +
                            "\"><Comment>new words</Comment></UpdateHostedZoneCommentRequest>");
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(text(xml(res, "UpdateHostedZoneCommentResponse"), {"HostedZone", "Config", "Comment"}),
            "new words");
  ASSERT_EQ(send(http::verb::post, "/2013-04-01" + id + "/rrset",
                 rrset_body("CREATE", "db.corp.internal"))
                .result_int(),
            200u);
  // A registry reading the same store (a restart) has the zone, its records and the reference.
  ASSERT_TRUE(registry.load().ok());
  const auto got = xml(get("/2013-04-01" + id), "GetHostedZoneResponse");
  EXPECT_EQ(text(got, {"HostedZone", "Config", "Comment"}), "new words");
  EXPECT_EQ(text(got, {"HostedZone", "ResourceRecordSetCount"}), "3");
  expect_error(send(http::verb::post, "/2013-04-01/hostedzone", create_body("x.internal", "u1")),
               409, "HostedZoneAlreadyExists");
}

TEST_F(Route53Test, TheRequestGuardRefusesWithAnXmlError) {
  expect_error(get("/2013-04-01/hostedzone", "rebound.example"), 403, "AccessDenied");
  // The refusal is counted as refused, an answer as the Route 53 operation.
  EXPECT_EQ(get("/2013-04-01/hostedzone").result_int(), 200u);
  EXPECT_EQ(router.metrics().count_operation("route53:ListHostedZones", 200), 1u);
}

TEST_F(Route53Test, AnXAmzTargetRequestIsStillAwsJson) {
  // The JSON 1.1 dispatch wins, whatever the path.
  Request req{http::verb::post, "/2013-04-01/hostedzone", 11};
  req.set(http::field::host, "localhost");
  req.set("X-Amz-Target", "Nope.ListHostedZones");
  std::optional<Response> out;
  router.handle(std::move(req), [&out](Response res) { out = std::move(res); });
  EXPECT_EQ((*out)[http::field::content_type], "application/x-amz-json-1.1");
}

}  // namespace
}  // namespace emu::api::route53

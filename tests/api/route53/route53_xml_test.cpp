// The Route 53 XML codec, table-driven: request documents it reads (and the ones it refuses, with
// Route 53's InvalidInput), text it cleans before writing, and the exact documents it writes.

#include "api/route53/route53_xml.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace emu::api::route53 {
namespace {

constexpr const char* kNs = "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"";

std::string doc(const std::string& inner,
                const std::string& root = "ChangeResourceRecordSetsRequest",
                const std::string& attrs = kNs) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><" + root + " " + attrs + ">" + inner + "</" +
         root + ">";
}

struct ParseCase {
  const char* name;
  std::string body;
  bool ok;
  const char* error;  ///< a part of the message when !ok
};

std::ostream& operator<<(std::ostream& os, const ParseCase& c) { return os << c.name; }

const std::string kDeep = [] {
  std::string open, close;
  for (int i = 0; i < 40; ++i) open += "<a>", close = "</a>" + close;
  return doc(open + close);
}();

const ParseCase kParseCases[] = {
    {"ChangeBatch",
     doc("<ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>db.local"
         "</Name><Type>CNAME</Type><TTL>60</TTL></ResourceRecordSet></Change></Changes>"
         "</ChangeBatch>"),
     true, ""},
    {"NoNamespaceIsRead", doc("<ChangeBatch/>", "ChangeResourceRecordSetsRequest", ""), true, ""},
    {"PrefixedNames",
     doc("<r:ChangeBatch/>", "r:ChangeResourceRecordSetsRequest",
         "xmlns:r=\"https://route53.amazonaws.com/doc/2013-04-01/\""),
     true, ""},
    {"CommentsAndPisSkipped", doc("<!-- note --><?pi x?><ChangeBatch/>"), true, ""},
    {"CdataIsText", doc("<Comment><![CDATA[a<b]]></Comment>"), true, ""},
    {"WrongRoot", doc("", "CreateHostedZoneRequest"), false,
     "expected <ChangeResourceRecordSetsRequest>"},
    {"WrongNamespace", doc("", "ChangeResourceRecordSetsRequest", "xmlns=\"urn:other\""), false,
     "namespace 'urn:other'"},
    {"Empty", "", false, "Invalid XML ; "},
    {"NotXml", "{\"json\": true}", false, "Invalid XML ; "},
    {"Unclosed", "<ChangeResourceRecordSetsRequest><ChangeBatch>", false, "Invalid XML ; "},
    {"Mismatched", doc("<A></B>"), false, "Invalid XML ; "},
    {"Doctype", "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" + doc("<C>&x;</C>"),
     false, "DOCTYPE is not allowed"},
    {"TwoRoots", doc("") + "<Other/>", false, "Invalid XML ; "},
    {"TextOutsideRoot", doc("") + "trailing", false, "Invalid XML ; "},
    {"MixedContent", doc("<C>text<D/></C>"), false, "mixes text and elements"},
    {"TooDeep", kDeep, false, "nested deeper than 32"},
    {"InvalidUtf8", doc("<C>\xC3\x28</C>"), false, "invalid UTF-8 at byte"},
    {"OverlongUtf8", doc("<C>\xC0\xAF</C>"), false, "invalid UTF-8"},
    {"ControlCharacter", doc("<C>\x01</C>"), false, "character not allowed in XML"},
    {"NulByte", doc(std::string("<C>") + '\0' + "</C>"), false, "character not allowed in XML"},
};

class ParseRequestTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseRequestTest, ReadsOrRefusesWithInvalidInput) {
  const ParseCase& c = GetParam();
  const auto r = parse_request(c.body, "ChangeResourceRecordSetsRequest");
  ASSERT_EQ(r.ok(), c.ok) << (r.ok() ? "" : r.error().message);
  if (!c.ok) {
    EXPECT_EQ(r.error().aws_type, "InvalidInput");
    EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.rfind("Invalid XML ; ", 0), 0u) << r.error().message;
  }
  EXPECT_EQ(well_formed(c.body),
            c.ok || std::string(c.name) == "WrongRoot" || std::string(c.name) == "WrongNamespace" ||
                std::string(c.name) == "MixedContent" || std::string(c.name) == "TooDeep");
}

INSTANTIATE_TEST_SUITE_P(Table, ParseRequestTest, ::testing::ValuesIn(kParseCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ParseRequestTest, BuildsTheTreeWithLocalNamesTextAndOrder) {
  const auto r = parse_request(
      doc("<ChangeBatch><Comment> a &amp; b </Comment><Changes><Change><Action>CREATE</Action>"
          "</Change><Change><Action>DELETE</Action></Change></Changes></ChangeBatch>"),
      "ChangeResourceRecordSetsRequest");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "ChangeResourceRecordSetsRequest");
  const XmlElement* batch = r->child("ChangeBatch");
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->child("Comment")->text, " a & b ");  // entities decoded, whitespace kept
  const auto changes = batch->child("Changes")->all("Change");
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0]->child("Action")->text, "CREATE");
  EXPECT_EQ(changes[1]->child("Action")->text, "DELETE");
  EXPECT_EQ(batch->child("Missing"), nullptr);
}

TEST(ParseRequestTest, AnUndeclaredEntityIsNotExpanded) {
  // pugixml knows the five predefined entities and character references only: no DTD, no XXE.
  const auto r = parse_request(doc("<C>&x;&#65;</C>"), "ChangeResourceRecordSetsRequest");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->child("C")->text, "&x;A");
}

struct CleanCase {
  const char* name;
  std::string in;
  std::string out;
};

std::ostream& operator<<(std::ostream& os, const CleanCase& c) { return os << c.name; }

const CleanCase kCleanCases[] = {
    {"Ascii", "web.local.", "web.local."},
    {"TabNewlineReturnKept", "a\tb\nc\r", "a\tb\nc\r"},
    {"Utf8Kept", "caf\xC3\xA9 \xF0\x9F\x98\x80", "caf\xC3\xA9 \xF0\x9F\x98\x80"},
    {"ControlReplaced", "a\x01z", "a\xEF\xBF\xBDz"},
    {"NulReplaced", std::string("a\0z", 3), "a\xEF\xBF\xBDz"},
    {"LoneContinuationReplaced", "a\x80z", "a\xEF\xBF\xBDz"},
    {"TruncatedSequenceReplaced", "a\xE2\x82", "a\xEF\xBF\xBD\xEF\xBF\xBD"},
    {"SurrogateReplaced", "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
    {"NonCharacterFFFEReplaced", "\xEF\xBF\xBE", "\xEF\xBF\xBD"},
};

class CleanTextTest : public ::testing::TestWithParam<CleanCase> {};

TEST_P(CleanTextTest, MakesValidXmlText) {
  EXPECT_EQ(clean_text(GetParam().in), GetParam().out);
  XmlWriter w("R");
  w.root().text("T", GetParam().in);
  EXPECT_TRUE(well_formed(w.str())) << w.str();
}

INSTANTIATE_TEST_SUITE_P(Table, CleanTextTest, ::testing::ValuesIn(kCleanCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(XmlWriterTest, WritesTheDocumentInTheRoute53Namespace) {
  XmlWriter w("GetHostedZoneCountResponse");
  auto root = w.root();
  root.number("HostedZoneCount", 3);
  root.add("Config").flag("PrivateZone", true).text("Comment", "a<b & \"c\"");
  EXPECT_EQ(w.str(),
            "<?xml version=\"1.0\"?><GetHostedZoneCountResponse "
            "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><HostedZoneCount>3"
            "</HostedZoneCount><Config><PrivateZone>true</PrivateZone><Comment>a&lt;b &amp; "
            "\"c\"</Comment></Config></GetHostedZoneCountResponse>");
}

TEST(XmlWriterTest, ErrorDocumentIsRoute53s) {
  EXPECT_EQ(error_document("Sender", "NoSuchHostedZone", "No hosted zone found with ID: Z1", "r-1"),
            "<?xml version=\"1.0\"?><ErrorResponse "
            "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type>"
            "<Code>NoSuchHostedZone</Code><Message>No hosted zone found with ID: Z1</Message>"
            "</Error><RequestId>r-1</RequestId></ErrorResponse>");
}

TEST(XmlWriterTest, WhatItWritesReadsBack) {
  XmlWriter w("ChangeResourceRecordSetsRequest");
  w.root().add("ChangeBatch").text("Comment", "x\x02y");
  const auto r = parse_request(w.str(), "ChangeResourceRecordSetsRequest");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->child("ChangeBatch")->child("Comment")->text, "x\xEF\xBF\xBDy");
}

}  // namespace
}  // namespace emu::api::route53

#pragma once
// The XML of Route 53's REST-XML protocol (API version 2013-04-01), read and written with pugixml
// and nothing else: a request body becomes a small tree of XmlElement values (checked for
// well-formedness, size and depth, no DTD), and a response is built with XmlWriter and serialised
// with the Route 53 namespace. Text written is made valid XML 1.0 in UTF-8 first, whatever a
// caller echoes back (an id from the path, say). pugixml stays inside route53_xml.cpp.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/core/result.hpp"

namespace pugi {
struct xml_node_struct;
class xml_document;
}  // namespace pugi

namespace emu::api::route53 {

/// The XML namespace of every Route 53 2013-04-01 document.
inline constexpr std::string_view kXmlns = "https://route53.amazonaws.com/doc/2013-04-01/";
/// Content type of Route 53's answers.
inline constexpr std::string_view kXmlContentType = "text/xml";

/// Limits of a request document (a ChangeBatch of 1,000 changes stays well inside them).
inline constexpr std::size_t kMaxXmlDepth = 32;
inline constexpr std::size_t kMaxXmlElements = 100000;

/// One element of a request: its local name (any prefix dropped), its text (character data and
/// CDATA joined, surrounding whitespace kept) and its child elements in document order.
struct XmlElement {
  std::string name;
  std::string text;
  std::vector<XmlElement> children;

  /// The first child called `name`, or null.
  const XmlElement* child(std::string_view name) const;
  /// Every child called `name`, in order.
  std::vector<const XmlElement*> all(std::string_view name) const;
  bool operator==(const XmlElement&) const = default;
};

/// Parses a request body whose root element must be `root` (e.g. "ChangeResourceRecordSetsRequest")
/// in the Route 53 namespace (or in none). Errors are InvalidInput ("Invalid XML ; ..."), as
/// Route 53 answers a body it cannot read.
Result<XmlElement> parse_request(std::string_view body, std::string_view root);

/// True when `text` is one well-formed XML document (the fuzzer checks every XML answer with it).
bool well_formed(std::string_view text);

/// `text` as valid XML 1.0 character data in UTF-8: invalid UTF-8 and characters XML forbids
/// (C0 controls other than tab, newline and carriage return; U+FFFE, U+FFFF) become U+FFFD.
std::string clean_text(std::string_view text);

/// An element being written (a handle into its XmlWriter's document; valid while it lives).
class XmlOut {
 public:
  /// Appends a child element and returns it.
  XmlOut add(std::string_view name);
  /// Appends `<name>value</name>`; returns this element (for chaining).
  XmlOut& text(std::string_view name, std::string_view value);
  /// Appends `<name>true|false</name>`.
  XmlOut& flag(std::string_view name, bool value);
  /// Appends `<name>N</name>`.
  XmlOut& number(std::string_view name, long long value);

 private:
  friend class XmlWriter;
  explicit XmlOut(pugi::xml_node_struct* node) : node_(node) {}
  pugi::xml_node_struct* node_;
};

/// A response document: `<?xml version="1.0"?>` and a root element in the Route 53 namespace.
class XmlWriter {
 public:
  explicit XmlWriter(std::string_view root);
  ~XmlWriter();
  XmlWriter(const XmlWriter&) = delete;
  XmlWriter& operator=(const XmlWriter&) = delete;

  /// The root element.
  XmlOut root();
  /// The document as text (UTF-8, no indentation).
  std::string str() const;

 private:
  pugi::xml_document* doc_;
};

/// Route 53's error document: ErrorResponse / Error {Type, Code, Message} / RequestId. `type` is
/// "Sender" for the caller's errors and "Receiver" for the service's own.
std::string error_document(std::string_view type, std::string_view code, std::string_view message,
                           std::string_view request_id);

}  // namespace emu::api::route53

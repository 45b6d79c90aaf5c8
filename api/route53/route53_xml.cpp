#include "api/route53/route53_xml.hpp"

#include <cstdint>
#include <optional>
#include <pugixml.hpp>

#include "api/aws/aws_error.hpp"

namespace emu::api::route53 {

namespace {

/// Decodes one UTF-8 sequence at `at` (advancing it); nullopt for an invalid one (overlong,
/// surrogate, past U+10FFFF, truncated), after which `at` has moved past its first byte.
std::optional<char32_t> next_code_point(std::string_view s, std::size_t& at) {
  const auto b0 = static_cast<unsigned char>(s[at++]);
  if (b0 < 0x80) return b0;
  int extra = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    extra = 1, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3, cp = b0 & 0x07, min = 0x10000;
  } else {
    return std::nullopt;
  }
  for (int i = 0; i < extra; ++i) {
    if (at >= s.size()) return std::nullopt;
    const auto b = static_cast<unsigned char>(s[at]);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
    ++at;
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  return cp;
}

// XML 1.0 section 2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-].
bool xml_char(char32_t c) {
  if (c < 0x20) return c == 0x9 || c == 0xA || c == 0xD;
  return c != 0xFFFE && c != 0xFFFF;
}

/// Why `text` is not valid XML character data in UTF-8, or nullopt.
std::optional<std::string> text_error(std::string_view text) {
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t start = at;
    const auto cp = next_code_point(text, at);
    if (!cp) return "invalid UTF-8 at byte " + std::to_string(start);
    if (!xml_char(*cp)) return "character not allowed in XML at byte " + std::to_string(start);
  }
  return std::nullopt;
}

std::string_view local_name(std::string_view name) {
  const auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

Error invalid_xml(std::string_view why) {
  return aws::aws_error("InvalidInput", "Invalid XML ; " + std::string(why));
}

/// Copies a pugixml element into an XmlElement; fails past the depth or element limits.
Result<void> convert(const pugi::xml_node& node, XmlElement& out, std::size_t depth,
                     std::size_t& elements) {
  if (depth > kMaxXmlDepth) {
    return invalid_xml("elements nested deeper than " + std::to_string(kMaxXmlDepth));
  }
  if (++elements > kMaxXmlElements) {
    return invalid_xml("more than " + std::to_string(kMaxXmlElements) + " elements");
  }
  out.name = std::string(local_name(node.name()));
  for (const pugi::xml_node& c : node.children()) {
    switch (c.type()) {
      case pugi::node_element: {
        XmlElement child;
        if (auto r = convert(c, child, depth + 1, elements); !r) return r;
        out.children.push_back(std::move(child));
        break;
      }
      case pugi::node_pcdata:
      case pugi::node_cdata:
        out.text += c.value();
        break;
      default:
        break;  // comments and processing instructions carry nothing
    }
  }
  if (!out.children.empty() && !out.text.empty()) {
    return invalid_xml("element <" + out.name + "> mixes text and elements");
  }
  return {};
}

/// The one document element of a parsed document, or why there is none.
Result<pugi::xml_node> document_element(const pugi::xml_document& doc) {
  pugi::xml_node root;
  for (const pugi::xml_node& c : doc.children()) {
    switch (c.type()) {
      case pugi::node_element:
        if (root) return invalid_xml("more than one document element");
        root = c;
        break;
      case pugi::node_doctype:
        return invalid_xml("a DOCTYPE is not allowed");
      case pugi::node_pcdata:
      case pugi::node_cdata:
        return invalid_xml("text outside the document element");
      default:
        break;
    }
  }
  if (!root) return invalid_xml("no document element");
  return root;
}

Result<pugi::xml_node> load(pugi::xml_document& doc, std::string_view body) {
  if (auto why = text_error(body)) return invalid_xml(*why);
  // parse_fragment keeps text outside the document element, so that it can be refused below
  // (pugixml drops it otherwise); parse_doctype keeps the DOCTYPE for the same reason.
  const auto parsed = doc.load_buffer(
      body.data(), body.size(), pugi::parse_default | pugi::parse_doctype | pugi::parse_fragment,
      pugi::encoding_utf8);
  if (!parsed) {
    return invalid_xml(std::string(parsed.description()) + " at byte " +
                       std::to_string(parsed.offset));
  }
  return document_element(doc);
}

pugi::xml_node node_of(pugi::xml_node_struct* n) { return pugi::xml_node(n); }

/// Collects pugixml's output into a string.
struct StringSink : pugi::xml_writer {
  std::string out;
  void write(const void* data, std::size_t size) override {
    out.append(static_cast<const char*>(data), size);
  }
};

}  // namespace

const XmlElement* XmlElement::child(std::string_view n) const {
  for (const auto& c : children) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::all(std::string_view n) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children) {
    if (c.name == n) out.push_back(&c);
  }
  return out;
}

Result<XmlElement> parse_request(std::string_view body, std::string_view root) {
  pugi::xml_document doc;
  auto element = load(doc, body);
  if (!element) return element.error();
  const std::string_view name = local_name(element->name());
  if (name != root) {
    return invalid_xml("the document element is <" + std::string(element->name()) +
                       ">, expected <" + std::string(root) + ">");
  }
  const std::string_view xmlns = element->attribute("xmlns").value();
  if (!xmlns.empty() && xmlns != kXmlns) {
    return invalid_xml("namespace '" + std::string(xmlns) + "', expected '" + std::string(kXmlns) +
                       "'");
  }
  XmlElement out;
  std::size_t elements = 0;
  if (auto r = convert(*element, out, 1, elements); !r) return r.error();
  return out;
}

bool well_formed(std::string_view text) {
  pugi::xml_document doc;
  return load(doc, text).ok();
}

std::string clean_text(std::string_view text) {
  if (!text_error(text)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t start = at;
    const auto cp = next_code_point(text, at);
    if (cp && xml_char(*cp)) {
      out.append(text.substr(start, at - start));
    } else {
      out += "\xEF\xBF\xBD";    // U+FFFD REPLACEMENT CHARACTER
      if (!cp) at = start + 1;  // resynchronise on the next byte
    }
  }
  return out;
}

XmlOut XmlOut::add(std::string_view name) {
  return XmlOut(node_of(node_).append_child(std::string(name).c_str()).internal_object());
}

XmlOut& XmlOut::text(std::string_view name, std::string_view value) {
  auto child = node_of(node_).append_child(std::string(name).c_str());
  child.append_child(pugi::node_pcdata).set_value(clean_text(value).c_str());
  return *this;
}

XmlOut& XmlOut::flag(std::string_view name, bool value) {
  return text(name, value ? "true" : "false");
}

XmlOut& XmlOut::number(std::string_view name, long long value) {
  return text(name, std::to_string(value));
}

XmlWriter::XmlWriter(std::string_view root) : doc_(new pugi::xml_document) {
  auto r = doc_->append_child(std::string(root).c_str());
  r.append_attribute("xmlns").set_value(std::string(kXmlns).c_str());
}

XmlWriter::~XmlWriter() { delete doc_; }

XmlOut XmlWriter::root() { return XmlOut(doc_->document_element().internal_object()); }

std::string XmlWriter::str() const {
  StringSink sink;
  // format_raw: no indentation; pugixml writes the `<?xml version="1.0"?>` declaration itself.
  doc_->save(sink, "", pugi::format_raw, pugi::encoding_utf8);
  return std::move(sink.out);
}

std::string error_document(std::string_view type, std::string_view code, std::string_view message,
                           std::string_view request_id) {
  XmlWriter w("ErrorResponse");
  auto root = w.root();
  root.add("Error").text("Type", type).text("Code", code).text("Message", message);
  root.text("RequestId", request_id);
  return w.str();
}

}  // namespace emu::api::route53

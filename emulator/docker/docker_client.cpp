#include "emulator/docker/docker_client.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>

namespace emu::docker {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local_stream = beast::basic_stream<net::local::stream_protocol>;

namespace {

// Docker's replies are small JSON documents, except a container list on a busy host and the
// progress stream of a pull; both stay far below these.
constexpr std::uint64_t kBodyLimit = 16 * 1024 * 1024;
constexpr std::uint64_t kPullBodyLimit = 64 * 1024 * 1024;

/// Starts one async operation with `initiate(handler)` and runs the request's private
/// io_context until it completes. Returns the operation's error code, or operation_aborted when
/// the loop ran out of work without completing it.
template <typename Initiate>
boost::system::error_code run_step(net::io_context& io, Initiate&& initiate) {
  std::optional<boost::system::error_code> result;
  initiate([&result](const boost::system::error_code& ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result.value_or(net::error::operation_aborted);
}

std::string string_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

const nlohmann::json* object_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

Result<nlohmann::json> parse_json(const std::string& body, std::string_view what) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return Error{Code::Unavailable, "docker: " + std::string(what) + ": reply is not JSON"};
  return j;
}

std::string labels_filter(const std::vector<std::string>& labels) {
  nlohmann::json filters = nlohmann::json::object();
  if (!labels.empty()) filters["label"] = labels;
  return url_encode(filters.dump());
}

}  // namespace

// One request in flight: its own io_context and stream, so cancel() can close exactly it.
struct DockerClient::Inflight {
  net::io_context io;
  local_stream stream{io};
  bool cancelled = false;  // written and read on the request's thread only (posted closure)
};

DockerClient::DockerClient(Options options) : options_(std::move(options)) {}

DockerClient::DockerClient(std::string socket_path)
    : DockerClient(Options{.socket_path = std::move(socket_path)}) {}

Result<std::string> DockerClient::socket_path_from(std::string_view url) {
  constexpr std::string_view kScheme = "unix://";
  std::string_view path = url;
  if (path.substr(0, kScheme.size()) == kScheme) path.remove_prefix(kScheme.size());
  if (path.empty() || path.front() != '/') {
    return invalid("docker: '" + std::string(url) +
                   "' is not a unix socket (expected unix:///path or /path)");
  }
  return std::string(path);
}

Result<HttpReply> DockerClient::request(std::string_view method, const std::string& target,
                                        const std::string& body, Duration timeout) const {
  const std::string full_target = std::string(kApiPrefix) + target;
  const std::string what = "docker: " + std::string(method) + " " + full_target;
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) return Error{Code::Internal, what + ": unknown method"};

  Inflight inflight;
  {
    std::lock_guard lock(mutex_);
    if (cancelled_) return Error{Code::Unavailable, what + ": cancelled"};
    inflight_.insert(&inflight);
  }
  struct Unregister {
    const DockerClient& client;
    Inflight* inflight;
    ~Unregister() {
      std::lock_guard lock(client.mutex_);
      client.inflight_.erase(inflight);
    }
  } unregister{*this, &inflight};

  auto fail = [&](const char* step, const boost::system::error_code& ec) -> Error {
    if (inflight.cancelled) return {Code::Unavailable, what + ": cancelled"};
    if (ec == beast::error::timeout) {
      return {Code::Unavailable,
              what + ": timed out after " + std::to_string(timeout.count()) + " ms"};
    }
    return {Code::Unavailable,
            what + ": " + step + " " + options_.socket_path + ": " + ec.message()};
  };

  auto& stream = inflight.stream;
  // One deadline for the whole exchange: basic_stream cancels whatever is pending at expiry.
  stream.expires_after(timeout);
  const net::local::stream_protocol::endpoint endpoint(options_.socket_path);
  auto ec = run_step(inflight.io, [&](auto handler) { stream.async_connect(endpoint, handler); });
  if (ec) return fail("connect", ec);

  http::request<http::string_body> req{verb, full_target, 11};
  req.set(http::field::host, "docker");
  req.set(http::field::user_agent, "ecs-emulator");
  req.set(http::field::connection, "close");
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  ec = run_step(inflight.io, [&](auto handler) { http::async_write(stream, req, handler); });
  if (ec) return fail("write", ec);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(full_target.starts_with("/v1.41/images/create") ? kPullBodyLimit : kBodyLimit);
  ec = run_step(inflight.io,
                [&](auto handler) { http::async_read(stream, buffer, parser, handler); });
  if (ec) return fail("read", ec);

  beast::error_code ignored;
  stream.socket().shutdown(net::local::stream_protocol::socket::shutdown_both, ignored);
  return HttpReply{parser.get().result_int(), std::move(parser.get().body())};
}

void DockerClient::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  // Posted, not done here: the stream belongs to the request's thread. A posted closure also
  // survives the io.restart() between two steps, so no cancellation is lost.
  for (Inflight* inflight : inflight_) {
    net::post(inflight->io, [inflight] {
      inflight->cancelled = true;
      inflight->stream.close();
    });
  }
}

Result<nlohmann::json> DockerClient::version() const {
  auto reply = request("GET", "/version", {}, options_.request_timeout);
  if (!reply) return reply.error();
  if (reply->status != 200) return error_from_response(reply->status, reply->body);
  auto j = parse_json(reply->body, "version");
  if (!j) return j.error();
  if (!j->is_object()) return Error{Code::Unavailable, "docker: version: not an object"};
  return j;
}

Result<std::string> DockerClient::create_container(const std::string& name,
                                                   const nlohmann::json& body) const {
  // replace: a label with invalid UTF-8 must not throw out of here; Docker then says what is wrong.
  const std::string payload = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto reply = request("POST", "/containers/create?name=" + url_encode(name), payload,
                       options_.request_timeout);
  if (!reply) return reply.error();
  if (reply->status != 201 && reply->status != 200) {
    return error_from_response(reply->status, reply->body);
  }
  auto j = parse_json(reply->body, "create");
  if (!j) return j.error();
  std::string id = string_at(*j, "Id");
  if (id.empty()) return Error{Code::Unavailable, "docker: create " + name + ": reply has no Id"};
  return id;
}

Result<void> DockerClient::start_container(const std::string& id) const {
  auto reply = request("POST", "/containers/" + id + "/start", {}, options_.request_timeout);
  if (!reply) return reply.error();
  // Docker: 304 Not Modified = the container is already started.
  if (reply->status == 204 || reply->status == 304) return {};
  return error_from_response(reply->status, reply->body);
}

Result<void> DockerClient::stop_container(const std::string& id, int timeout_s) const {
  const int grace = std::max(timeout_s, 0);
  auto reply = request("POST", "/containers/" + id + "/stop?t=" + std::to_string(grace), {},
                       options_.request_timeout + std::chrono::seconds(grace));
  if (!reply) return reply.error();
  // Docker: 304 Not Modified = the container is already stopped.
  if (reply->status == 204 || reply->status == 304) return {};
  return error_from_response(reply->status, reply->body);
}

Result<void> DockerClient::kill_container(const std::string& id, const std::string& signal) const {
  auto reply = request("POST", "/containers/" + id + "/kill?signal=" + url_encode(signal), {},
                       options_.request_timeout);
  if (!reply) return reply.error();
  if (reply->status == 204) return {};
  return error_from_response(reply->status, reply->body);
}

Result<void> DockerClient::remove_container(const std::string& id, bool force) const {
  auto reply = request("DELETE", "/containers/" + id + (force ? "?force=1" : "?force=0"), {},
                       options_.request_timeout);
  if (!reply) return reply.error();
  if (reply->status == 204 || reply->status == 404) return {};
  return error_from_response(reply->status, reply->body);
}

Result<core::ObservedContainer> DockerClient::inspect_container(const std::string& id) const {
  auto reply = request("GET", "/containers/" + id + "/json", {}, options_.request_timeout);
  if (!reply) return reply.error();
  if (reply->status != 200) return error_from_response(reply->status, reply->body);
  auto j = parse_json(reply->body, "inspect " + id);
  if (!j) return j.error();
  return observed_from_inspect(*j);
}

Result<std::vector<core::ObservedContainer>> DockerClient::list_containers(
    const std::vector<std::string>& labels, bool all) const {
  auto reply = request("GET",
                       std::string("/containers/json?all=") + (all ? "1" : "0") +
                           "&filters=" + labels_filter(labels),
                       {}, options_.request_timeout);
  if (!reply) return reply.error();
  if (reply->status != 200) return error_from_response(reply->status, reply->body);
  auto j = parse_json(reply->body, "list containers");
  if (!j) return j.error();
  if (!j->is_array()) return Error{Code::Unavailable, "docker: list containers: not an array"};
  std::vector<core::ObservedContainer> out;
  out.reserve(j->size());
  for (const auto& item : *j) {
    const std::string id = string_at(item, "Id");
    if (id.empty()) continue;
    auto observed = inspect_container(id);
    if (!observed) {
      if (observed.error().code == Code::NotFound) continue;  // removed since the list
      return observed.error();
    }
    out.push_back(std::move(*observed));
  }
  return out;
}

Result<NetworkInfo> DockerClient::inspect_network(const std::string& name) const {
  auto reply = request("GET", "/networks/" + url_encode(name), {}, options_.request_timeout);
  if (!reply) return reply.error();
  if (reply->status != 200) return error_from_response(reply->status, reply->body);
  auto j = parse_json(reply->body, "inspect network " + name);
  if (!j) return j.error();
  NetworkInfo out{string_at(*j, "Id"), string_at(*j, "Name"), string_at(*j, "Driver"), {}, false};
  if (const auto ipv6 = j->find("EnableIPv6"); ipv6 != j->end() && ipv6->is_boolean()) {
    out.ipv6 = ipv6->get<bool>();
  }
  if (const auto* ipam = object_at(*j, "IPAM")) {
    if (const auto config = ipam->find("Config"); config != ipam->end() && config->is_array()) {
      for (const auto& c : *config) {
        if (auto subnet = string_at(c, "Subnet"); !subnet.empty()) out.subnets.push_back(subnet);
      }
    }
  }
  return out;
}

Result<bool> DockerClient::image_exists(const std::string& ref) const {
  auto reply = request("GET", "/images/" + ref + "/json", {}, options_.request_timeout);
  if (!reply) return reply.error();
  if (reply->status == 200) return true;
  if (reply->status == 404) return false;
  return error_from_response(reply->status, reply->body);
}

Result<void> DockerClient::pull_image(const std::string& ref) const {
  const auto [image, tag] = split_image_ref(ref);
  auto reply =
      request("POST", "/images/create?fromImage=" + url_encode(image) + "&tag=" + url_encode(tag),
              {}, options_.pull_timeout);
  if (!reply) return reply.error();
  if (reply->status != 200) return error_from_response(reply->status, reply->body);
  // 200 only says the pull started; failures arrive in the progress stream as {"error": ...}.
  std::string_view rest = reply->body;
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    const std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    if (line.find("\"error") == std::string_view::npos) continue;  // progress, cheap skip
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    std::string message = string_at(j, "error");
    if (message.empty()) {
      if (const auto* detail = object_at(j, "errorDetail")) message = string_at(*detail, "message");
    }
    if (!message.empty()) return Error{Code::Unavailable, message};
  }
  return {};
}

Error error_from_response(unsigned status, std::string_view body) {
  const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string message = string_at(j, "message");
  if (message.empty()) {
    std::string_view text = body.substr(0, 200);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    message = "HTTP " + std::to_string(status) + (text.empty() ? "" : ": " + std::string(text));
  }
  switch (status) {
    case 400:
      return {Code::InvalidArgument, std::move(message)};
    case 404:
      return {Code::NotFound, std::move(message)};
    case 409:
      return {Code::Conflict, std::move(message)};
    default:
      return {Code::Unavailable, std::move(message)};
  }
}

Result<core::ObservedContainer> observed_from_inspect(const nlohmann::json& inspect) {
  core::ObservedContainer out;
  out.id = string_at(inspect, "Id");
  if (out.id.empty()) return invalid("docker inspect: no Id");
  out.name = string_at(inspect, "Name");
  if (!out.name.empty() && out.name.front() == '/') out.name.erase(0, 1);
  if (const auto* config = object_at(inspect, "Config")) {
    out.image = string_at(*config, "Image");
    if (const auto* labels = object_at(*config, "Labels")) {
      for (const auto& [key, value] : labels->items()) {
        if (value.is_string()) out.labels[key] = value.get<std::string>();
      }
    }
  }
  if (const auto* state = object_at(inspect, "State")) {
    out.state = string_at(*state, "Status");
    out.error = string_at(*state, "Error");
    if (const auto* health = object_at(*state, "Health")) out.health = string_at(*health, "Status");
    const auto code = state->find("ExitCode");
    if ((out.state == "exited" || out.state == "dead") && code != state->end() &&
        code->is_number_integer()) {
      out.exit_code = code->get<int>();
    }
  }
  if (const auto* settings = object_at(inspect, "NetworkSettings")) {
    if (const auto* networks = object_at(*settings, "Networks")) {
      for (const auto& [name, network] : networks->items()) {
        out.networks[name] = string_at(network, "IPAddress");
        std::string ipv6 = string_at(network, "GlobalIPv6Address");
        if (!ipv6.empty()) out.networks6[name] = std::move(ipv6);
      }
    }
  }
  return out;
}

std::pair<std::string, std::string> split_image_ref(std::string_view ref) {
  if (const auto at = ref.find('@'); at != std::string_view::npos) {
    return {std::string(ref.substr(0, at)), std::string(ref.substr(at + 1))};
  }
  // A ':' after the last '/' is the tag; one before it is a registry port.
  const auto slash = ref.rfind('/');
  const auto colon = ref.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    return {std::string(ref.substr(0, colon)), std::string(ref.substr(colon + 1))};
  }
  return {std::string(ref), "latest"};
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (const unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

}  // namespace emu::docker

#include "api/router.hpp"

#include <exception>
#include <utility>

#include "api/api_error.hpp"
#include "api/query_params.hpp"
#include "api/request_guard.hpp"
#include "api/request_target.hpp"
#include "emulator/log/log.hpp"

namespace emu::api {

namespace {

/// What a request is counted under in /metrics: the route, and the AWS operation of AWS calls.
struct MetricsLabel {
  MetricsLabel(const char* r) : route(r) {}             // NOLINT: a bare route is the common case
  MetricsLabel(std::string r) : route(std::move(r)) {}  // NOLINT
  MetricsLabel(std::string r, std::string op) : route(std::move(r)), operation(std::move(op)) {}
  std::string route;
  std::string operation;
};

std::string allow_header(const std::vector<http::verb>& verbs) {
  std::string out;
  for (auto v : verbs) {
    if (!out.empty()) out += ", ";
    out += std::string(http::to_string(v));
  }
  return out;
}

std::vector<std::string> split_pattern(const std::string& pattern) {
  std::vector<std::string> parts;
  std::size_t pos = 1;
  while (pos < pattern.size()) {
    auto end = pattern.find('/', pos);
    if (end == std::string::npos) end = pattern.size();
    parts.push_back(pattern.substr(pos, end - pos));
    pos = end + 1;
  }
  return parts;
}

std::optional<std::string_view> header(const Request& req, http::field field) {
  const auto it = req.find(field);
  if (it == req.end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

// What a page of an allowed origin may do across origins (the page of a dev server on another
// localhost port, say): the API's methods and whatever headers the SDKs send.
void set_cors(Response& res, const std::string& origin) {
  res.set(http::field::access_control_allow_origin, origin);
  res.set(http::field::vary, "Origin");
  res.set(http::field::access_control_expose_headers, "x-amzn-RequestId, x-amz-request-id");
}

Response preflight(const Request& req, const std::string& origin) {
  Response res{http::status::no_content, req.version()};
  set_cors(res, origin);
  res.set(http::field::access_control_allow_methods, "GET, PUT, POST, DELETE, OPTIONS");
  if (auto h = header(req, http::field::access_control_request_headers)) {
    res.set(http::field::access_control_allow_headers, *h);
  }
  // Chromium's Private Network Access preflight: only an allowed origin gets the opt-in.
  if (req.find("Access-Control-Request-Private-Network") != req.end()) {
    res.set("Access-Control-Allow-Private-Network", "true");
  }
  res.set(http::field::access_control_max_age, "600");
  res.prepare_payload();
  return res;
}

}  // namespace

void Router::log_refusal(GuardVerdict verdict, const Request& req, const std::string& message) {
  // A page can send refused requests in a loop: one line per reason every 10 s, with a count.
  auto& state = verdict == GuardVerdict::ForeignOrigin ? refused_origin_ : refused_host_;
  const auto now = std::chrono::steady_clock::now();
  ++state.suppressed;
  if (state.logged && now - *state.logged < std::chrono::seconds(10)) return;
  log::warn("api", "request refused",
            {{"reason", message},
             {"method", std::string(req.method_string())},
             {"target", std::string(req.target())},
             {"refused", std::to_string(state.suppressed)}});
  state.logged = now;
  state.suppressed = 0;
}

Router::Router(ApiContext& ctx, boost::asio::io_context& io)
    : ctx_(ctx),
      native_(ctx),
      web_(ctx),
      polls_(std::make_shared<LongPoll>(ctx, io)),
      streams_(std::make_shared<EventStream>(ctx, io)),
      metrics_(std::make_shared<ApiMetrics>()) {
  polls_->attach();
  streams_->attach();
  using V = http::verb;
  using N = NativeHandlers;
  add_native("/healthz", V::get, &N::healthz);
  add_native("/v1/namespaces", V::get, &N::list_namespaces);
  add_native("/v1/namespaces/{name}", V::get, &N::get_namespace);
  add_native("/v1/namespaces/{name}", V::put, &N::put_namespace);
  add_native("/v1/namespaces/{name}", V::delete_, &N::delete_namespace);
  add_native("/v1/services", V::get, &N::list_services);
  add_native("/v1/services/{name}", V::get, &N::get_service);
  add_native("/v1/services/{name}", V::put, &N::put_service);
  add_native("/v1/services/{name}", V::delete_, &N::delete_service);
  add_native("/v1/services/{name}/tasks", V::post, &N::register_task);
  add_native("/v1/tasks", V::get, &N::list_tasks);
  add_native("/v1/tasks/{id}", V::get, &N::get_task);
  add_native("/v1/tasks/{id}", V::delete_, &N::stop_task);
  add_native("/v1/tasks/{id}/health", V::put, &N::put_task_health);
  add_native("/v1/dns/{name}", V::get, &N::dns);
  add_native("/v1/zones/{name}", V::get, &N::zone);
  add_native("/v1/reset", V::post, &N::reset);
  add_native("/moto-api/reset", V::post, &N::reset);
  add("/v1/wait", V::get, [this](Call& call) { wait(call); });
  add("/v1/events", V::get, [this](Call& call) { events(call); });
  add("/metrics", V::get, [this](Call& call) { metrics_text(call); });
  add("/v1/events/stream", V::get, [this](Call& call) { event_stream(call); });
  add("/v1/overview", V::get, [this](Call& call) { call.respond(web_.overview(call)); });
  add("/", V::get, [this](Call& call) { call.respond(web_.redirect(call)); });
  add("/ui", V::get, [this](Call& call) { call.respond(web_.redirect(call)); });
  add("/ui/{file}", V::get, [this](Call& call) { call.respond(web_.asset(call)); });
}

void Router::add(std::string pattern, http::verb verb, Handler handler) {
  for (auto& route : routes_) {
    if (route.pattern == pattern) {
      route.methods.push_back({verb, std::move(handler)});
      return;
    }
  }
  auto parts = split_pattern(pattern);
  routes_.push_back({std::move(pattern), std::move(parts), {{verb, std::move(handler)}}});
}

void Router::add_native(std::string pattern, http::verb verb,
                        Response (NativeHandlers::*fn)(const Call&)) {
  add(std::move(pattern), verb, [this, fn](Call& call) { call.respond((native_.*fn)(call)); });
}

const Router::Route* Router::match(const std::vector<std::string>& segments,
                                   std::vector<std::string>& params) const {
  for (const auto& route : routes_) {
    if (route.parts.size() != segments.size()) continue;
    std::vector<std::string> found;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      const auto& part = route.parts[i];
      if (!part.empty() && part.front() == '{') {
        found.push_back(segments[i]);
      } else {
        ok = part == segments[i];
      }
    }
    if (ok) {
      params = std::move(found);
      return &route;
    }
  }
  return nullptr;
}

void Router::set_aws_handler(std::string prefix, AwsHandler handler) {
  aws_.set_handler(std::move(prefix), std::move(handler));
}

void Router::set_rest_service(std::string first_segment, RestService service) {
  rest_[std::move(first_segment)] = std::move(service);
}

void Router::handle(Request req, Respond respond) {
  handle(std::move(req), std::move(respond), ConnectionToken{});
}

void Router::handle(Request req, Respond respond, ConnectionToken connection) {
  handle(std::move(req), std::move(respond), std::move(connection), OpenStream{});
}

void Router::handle(Request req, Respond respond, ConnectionToken connection,
                    OpenStream open_stream) {
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  const std::string method(req.method_string());
  std::string label = "unmatched";

  // Every answer passes here: HTTP version, keep-alive and the request counter. The answer to a
  // HEAD request keeps its headers (Content-Length says what GET would send) and never carries a
  // body (RFC 9110 9.3.2): the bytes would be read as the next response on the connection.
  const bool head = req.method() == http::verb::head;
  std::function<void(MetricsLabel, Response)> finish =
      [metrics = metrics_, respond = std::move(respond), version, keep_alive, method, head](
          MetricsLabel label, Response res) {
        res.version(version);
        res.keep_alive(keep_alive);
        if (head) res.body().clear();
        metrics->record(label.route, label.operation, method, res.result_int());
        respond(std::move(res));
      };

  // Before anything is routed: a page of a foreign origin, or a rebound name, gets 403 (SPEC 12).
  const bool aws = req.find("X-Amz-Target") != req.end();
  // A REST service (Route 53) is known by its path's first segment; parsing the target is pure,
  // and its errors are answered after the guard like any other request's.
  auto target = parse_target(req.target());
  const RestService* rest = nullptr;
  if (!aws && target && !target->segments.empty()) {
    if (const auto it = rest_.find(target->segments.front()); it != rest_.end()) {
      rest = &it->second;
    }
  }
  auto guard =
      check_request(header(req, http::field::host), header(req, http::field::origin), ctx_.guard);
  if (guard.verdict != GuardVerdict::Allow) {
    log_refusal(guard.verdict, req, guard.message);
    const bool origin = guard.verdict == GuardVerdict::ForeignOrigin;
    if (rest) return finish("refused", rest->fail(http::status::forbidden, guard.message));
    return finish("refused", aws ? AwsDispatch::aws_error(http::status::forbidden,
                                                          "AccessDeniedException", guard.message)
                                 : error_response(http::status::forbidden,
                                                  origin ? "ForbiddenOrigin" : "ForbiddenHost",
                                                  guard.message));
  }
  if (!guard.cors_origin.empty()) {
    if (req.method() == http::verb::options &&
        req.find(http::field::access_control_request_method) != req.end()) {
      return finish("preflight", preflight(req, guard.cors_origin));
    }
    finish = [inner = std::move(finish), origin = guard.cors_origin](MetricsLabel label,
                                                                     Response res) mutable {
      set_cors(res, origin);
      inner(std::move(label), std::move(res));
    };
  }

  // AWS JSON 1.1 is routed by X-Amz-Target alone, whatever the path or Host.
  if (aws) {
    if (req.method() != http::verb::post) {
      auto res = AwsDispatch::aws_error(http::status::method_not_allowed,
                                        "UnknownOperationException", "AWS JSON 1.1 requires POST");
      res.set(http::field::allow, "POST");
      std::string operation = aws_.operation_label(req, res);
      return finish({"aws", std::move(operation)}, std::move(res));
    }
    Response res;
    try {
      res = aws_.dispatch(req);
    } catch (const std::exception& e) {
      res =
          AwsDispatch::aws_error(http::status::internal_server_error, "ServerException", e.what());
    }
    std::string operation = aws_.operation_label(req, res);
    return finish({"aws", std::move(operation)}, std::move(res));
  }

  if (!target) return finish(label, error_response(target.error()));
  if (rest) {
    RestReply reply;
    try {
      reply = rest->handle(req, *target);
    } catch (const std::exception& e) {
      // A bug, never bad input: the service answers its errors itself.
      reply = {rest->fail(http::status::internal_server_error, e.what()), "unknown"};
    }
    return finish({"aws", rest->service + ":" + reply.operation}, std::move(reply.response));
  }
  if (target->path == "/" && req.method() == http::verb::post) {
    return finish("aws",
                  AwsDispatch::aws_error(http::status::bad_request, "UnknownOperationException",
                                         "POST / needs an X-Amz-Target header"));
  }

  std::vector<std::string> params;
  const Route* route = match(target->segments, params);
  if (!route) {
    return finish(label, error_response(not_found("no route for " + target->path)));
  }
  label = route->pattern;
  const Method* chosen = nullptr;
  std::vector<http::verb> allowed;
  for (const auto& m : route->methods) {
    allowed.push_back(m.verb);
    if (m.verb == req.method()) chosen = &m;
  }
  if (!chosen) {
    auto res = error_response(http::status::method_not_allowed, "MethodNotAllowed",
                              method + " is not allowed on " + route->pattern);
    res.set(http::field::allow, allow_header(allowed));
    return finish(label, std::move(res));
  }

  // The Respond given to handlers may run later (long polls); it shares `finish` by pointer.
  auto shared_finish = std::make_shared<decltype(finish)>(std::move(finish));
  // A streamed answer gets the same version, CORS and request count as any other.
  OpenStream stream;
  if (open_stream) {
    stream = [open = std::move(open_stream), metrics = metrics_, label, method, version,
              origin = guard.cors_origin](Response head, std::shared_ptr<StreamBody> body) {
      head.version(version);
      if (!origin.empty()) set_cors(head, origin);
      metrics->record(label, "", method, head.result_int());
      open(std::move(head), std::move(body));
    };
  }
  Call call{req,
            *target,
            std::move(params),
            [shared_finish, label](Response res) { (*shared_finish)(label, std::move(res)); },
            std::move(connection),
            std::move(stream)};
  try {
    chosen->handler(call);
  } catch (const std::exception& e) {
    // A bug, never bad input: the codec validates without exceptions.
    if (call.respond) {
      call.respond(
          error_response(Error{Code::Internal, std::string("internal error: ") + e.what()}));
    }
  }
}

void Router::wait(Call& call) {
  auto name = call.target.param("name");
  if (!name) return call.respond(error_response(invalid_field("name", "required")));
  if (auto why = lookup_name_error(*name)) {
    return call.respond(error_response(invalid_field("name", *why)));
  }
  auto type = dns_type_param(call.target, "type", "A");
  if (!type) return call.respond(error_response(type.error()));
  auto count = uint_param(call.target, "count", std::nullopt, 1000);
  if (!count) return call.respond(error_response(count.error()));
  auto timeout = duration_param(call.target, "timeout", kDefaultWaitTimeout, kMaxPoll);
  if (!timeout) return call.respond(error_response(timeout.error()));
  if (!ctx_.dns_lookup) {
    return call.respond(error_response(Error{Code::Unavailable, "DNS lookups are not wired"}));
  }
  polls_->wait_dns(*name, *type, static_cast<std::size_t>(*count), *timeout,
                   std::move(call.respond), call.connection);
}

void Router::events(Call& call) {
  auto after = uint_param(call.target, "after", 0, UINT64_MAX);
  if (!after) return call.respond(error_response(after.error()));
  auto wait = duration_param(call.target, "wait", Duration{0}, kMaxPoll);
  if (!wait) return call.respond(error_response(wait.error()));
  polls_->wait_events(*after, *wait, std::move(call.respond), call.connection);
}

void Router::event_stream(Call& call) {
  std::optional<std::string_view> last_id;
  if (auto it = call.req.find("Last-Event-ID"); it != call.req.end()) {
    last_id = std::string_view(it->value().data(), it->value().size());
  }
  auto after = resume_index(last_id, call.target);
  if (!after) return call.respond(error_response(after.error()));
  // All of the request is read before the transport is asked (the HTTP fuzzer has no stream).
  auto filter = stream_filter(call.target);
  if (!filter) return call.respond(error_response(filter.error()));
  if (!call.open_stream) {
    return call.respond(
        error_response(Error{Code::Unavailable, "this transport cannot stream; use /v1/events"}));
  }
  streams_->open(*after, std::move(*filter), call.open_stream);
}

void Router::metrics_text(Call& call) {
  metrics::TextWriter writer;
  metrics_->render(writer, polls_->pending());
  std::string text = writer.take();
  if (ctx_.metrics) text += ctx_.metrics();
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = std::move(text);
  res.prepare_payload();
  call.respond(std::move(res));
}

void Router::shutdown() {
  polls_->flush();
  streams_->flush();
}

void Router::drop_closed() { polls_->drop_closed(); }

}  // namespace emu::api

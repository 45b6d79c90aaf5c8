#pragma once
// Router: the API's entry point for one request. AWS JSON 1.1 (`X-Amz-Target`) goes to the
// AwsDispatch table whatever the path; native routes are matched by path pattern and method
// (404 unknown path, 405 with Allow for a wrong method). Most handlers answer at once; the long
// polls (/v1/wait, /v1/events) keep the callback and answer later. No sockets here.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/api_context.hpp"
#include "api/api_metrics.hpp"
#include "api/aws_dispatch.hpp"
#include "api/call.hpp"
#include "api/event_stream.hpp"
#include "api/http_types.hpp"
#include "api/long_poll.hpp"
#include "api/native_handlers.hpp"
#include "api/request_guard.hpp"
#include "api/rest_service.hpp"
#include "api/web_ui.hpp"

namespace emu::api {

class Router {
 public:
  /// Most /v1/wait and /v1/events may block (SPEC: wait default 30 s, max 5 min).
  static constexpr Duration kMaxPoll{300000};
  static constexpr Duration kDefaultWaitTimeout{30000};

  /// Routes over the daemon's context; long polls use timers on `io`. Both outlive the router.
  Router(ApiContext& ctx, boost::asio::io_context& io);
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  /// Handles one request; `respond` is called exactly once, maybe later (long polls).
  void handle(Request req, Respond respond);
  /// As above; a long poll is dropped once `connection` has expired (the client went away).
  void handle(Request req, Respond respond, ConnectionToken connection);
  /// As above, from a session that can stream a body (GET /v1/events/stream).
  void handle(Request req, Respond respond, ConnectionToken connection, OpenStream open_stream);

  /// Plugs in the AWS JSON 1.1 handler of a target prefix ("AmazonEC2ContainerServiceV20141113",
  /// "Route53AutoNaming_v20170314"); until then those targets get UnknownOperationException.
  void set_aws_handler(std::string prefix, AwsHandler handler);
  /// Plugs in a REST service under the first path segment `first_segment` ("2013-04-01" for
  /// Route 53); its requests pass the same RequestGuard and are counted as AWS calls.
  void set_rest_service(std::string first_segment, RestService service);
  /// The AWS dispatch table.
  AwsDispatch& aws() { return aws_; }

  /// Answers every pending long poll now (graceful shutdown).
  void shutdown();
  /// Drops long polls whose connection has closed.
  void drop_closed();
  /// Number of open event streams.
  std::size_t open_streams() const { return streams_->clients(); }
  /// Number of pending long polls.
  std::size_t pending_polls() const { return polls_->pending(); }
  /// The request counters.
  const ApiMetrics& metrics() const { return *metrics_; }

 private:
  using Handler = std::function<void(Call&)>;
  struct Method {
    http::verb verb;
    Handler handler;
  };
  struct Route {
    std::string pattern;             ///< "/v1/tasks/{id}" (also the metrics label)
    std::vector<std::string> parts;  ///< "v1", "tasks", "{id}"
    std::vector<Method> methods;
  };

  void add(std::string pattern, http::verb verb, Handler handler);
  void add_native(std::string pattern, http::verb verb,
                  Response (NativeHandlers::*fn)(const Call&));
  void wait(Call& call);
  void events(Call& call);
  void event_stream(Call& call);
  void metrics_text(Call& call);
  /// Logs a refused request, at most once per reason every 10 s (with how many were refused).
  void log_refusal(GuardVerdict verdict, const Request& req, const std::string& message);
  /// A route whose pattern matches the segments; fills the parameters.
  const Route* match(const std::vector<std::string>& segments,
                     std::vector<std::string>& params) const;

  ApiContext& ctx_;
  NativeHandlers native_;
  WebUi web_;
  std::shared_ptr<LongPoll> polls_;
  std::shared_ptr<EventStream> streams_;
  std::shared_ptr<ApiMetrics> metrics_;
  AwsDispatch aws_;
  std::map<std::string, RestService, std::less<>> rest_;  // by first path segment
  std::vector<Route> routes_;
  struct RefusalLog {
    std::optional<std::chrono::steady_clock::time_point> logged;
    std::uint64_t suppressed = 0;
  };
  RefusalLog refused_origin_;
  RefusalLog refused_host_;
};

}  // namespace emu::api

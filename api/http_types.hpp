#pragma once
// The HTTP message types the API layer speaks: Beast messages with string bodies. Handlers see
// these values only; sockets live in http_session / http_listener (emu_api_net).

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <memory>

namespace emu::api {

namespace http = boost::beast::http;

/// A parsed request.
using Request = http::request<http::string_body>;
/// A complete response.
using Response = http::response<http::string_body>;
/// Delivers the response to a request; called exactly once (maybe later, for long polls).
using Respond = std::function<void(Response)>;
/// Alive while the connection that sent a request is open; long polls drop expired ones.
using ConnectionToken = std::weak_ptr<const void>;

class StreamBody;
/// Answers a request with `head` and then a body written over time (server-sent events). Given
/// to handlers by sessions that can stream; called at most once and instead of Respond.
using OpenStream = std::function<void(Response head, std::shared_ptr<StreamBody> body)>;

}  // namespace emu::api

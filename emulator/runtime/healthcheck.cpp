#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "emulator/runtime/daemon.hpp"

namespace emu::runtime {

int healthcheck(const DaemonConfig& config) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using boost::asio::ip::tcp;
  std::string host = config.api_listen, port = "9080";
  if (const auto colon = host.rfind(':'); colon != std::string::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(3));
    stream.connect(resolver.resolve(host, port));
    http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
    req.set(http::field::host, host);
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    if (res.result() == http::status::ok) return 0;
    std::fprintf(stderr, "ecs-emulator healthcheck: %u %s\n", res.result_int(), res.body().c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecs-emulator healthcheck: %s:%s: %s\n", host.c_str(), port.c_str(),
                 e.what());
    return 1;
  }
}

}  // namespace emu::runtime

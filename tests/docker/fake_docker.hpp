#pragma once
// FakeDocker: a scripted Docker Engine for tests. A Beast synchronous HTTP/1.1 server on a unix
// socket in a fresh temporary directory: one thread accepts, one thread per connection answers.
// Replies are scripted per (method, target prefix); every request is recorded. Replies can be
// chunked (the event stream, a pull's progress), held open until close_streams(), or stalled
// (never answered) to exercise timeouts and cancellation.

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace emu::docker::testing {

class FakeDocker {
 public:
  /// One request as received.
  struct Request {
    std::string method;
    std::string target;  ///< with the /v1.41 prefix and the query
    std::string body;
  };

  /// One scripted reply.
  struct Reply {
    unsigned status = 200;
    std::string body;                 ///< sent with Content-Length when `chunks` is empty
    std::vector<std::string> chunks;  ///< else sent chunked, one write per chunk
    bool hold_open = false;           ///< after the chunks: wait for close_streams()
    bool stall = false;               ///< answer nothing until close_streams()
  };

  /// `{"message": message}` with `status`, as Docker reports errors.
  static Reply error(unsigned status, const std::string& message);
  /// A JSON body with `status`.
  static Reply json(unsigned status, const nlohmann::json& body);
  /// No body (204, 304).
  static Reply empty(unsigned status);

  FakeDocker();
  ~FakeDocker();
  FakeDocker(const FakeDocker&) = delete;
  FakeDocker& operator=(const FakeDocker&) = delete;

  const std::string& socket_path() const { return socket_path_; }

  /// Answers `method` requests whose target starts with `prefix` (the longest matching prefix
  /// wins). Several replies are used in order, the last one repeats. Unmatched: 404.
  void on(const std::string& method, const std::string& prefix, std::vector<Reply> replies);
  void on(const std::string& method, const std::string& prefix, Reply reply) {
    on(method, prefix, std::vector<Reply>{std::move(reply)});
  }

  /// Every request so far, in arrival order.
  std::vector<Request> requests() const;
  /// Waits until `pred(requests())` holds; false after `timeout`.
  bool wait_for(const std::function<bool(const std::vector<Request>&)>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  /// Waits until `n` requests whose target starts with `prefix` have arrived.
  bool wait_for_count(const std::string& prefix, std::size_t n,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  /// Waits until clients have closed `n` connections before the server did (an EOF where the
  /// next request would be).
  bool wait_for_client_closes(std::size_t n,
                              std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  /// Ends the held-open and stalled replies (as if the engine restarted); later ones hold again.
  void close_streams();

 private:
  void accept_loop();
  void serve(int fd);
  Reply next_reply(const std::string& method, const std::string& target);

  std::string dir_;
  std::string socket_path_;
  boost::asio::io_context io_;  // never run: the server only uses synchronous calls
  boost::asio::local::stream_protocol::acceptor listener_{io_};

  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::map<std::pair<std::string, std::string>, std::vector<Reply>> rules_;
  std::vector<Request> requests_;
  std::vector<int> open_fds_;
  std::vector<std::thread> connections_;
  std::size_t client_closes_ = 0;
  unsigned generation_ = 0;
  bool stopping_ = false;
  std::thread accept_thread_;
};

}  // namespace emu::docker::testing

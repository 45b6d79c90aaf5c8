#include "tests/docker/fake_docker.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace emu::docker::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = net::local::stream_protocol;

FakeDocker::Reply FakeDocker::error(unsigned status, const std::string& message) {
  return json(status, nlohmann::json{{"message", message}});
}

FakeDocker::Reply FakeDocker::json(unsigned status, const nlohmann::json& body) {
  Reply reply;
  reply.status = status;
  reply.body = body.dump();
  return reply;
}

FakeDocker::Reply FakeDocker::empty(unsigned status) {
  Reply reply;
  reply.status = status;
  return reply;
}

FakeDocker::FakeDocker() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "fake-docker-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  socket_path_ = dir_ + "/docker.sock";
  local::endpoint endpoint(socket_path_);
  listener_.open(endpoint.protocol());
  listener_.bind(endpoint);
  listener_.listen();
  accept_thread_ = std::thread([this] { accept_loop(); });
}

FakeDocker::~FakeDocker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    // Unblocks connection threads sitting in a read.
    for (const int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  // Wake the blocking accept with one last connection.
  {
    boost::system::error_code ignored;
    local::socket waker(io_);
    waker.connect(local::endpoint(socket_path_), ignored);
  }
  accept_thread_.join();
  for (auto& t : connections_) t.join();
  boost::system::error_code ignored;
  listener_.close(ignored);
  std::error_code fs_ignored;
  std::filesystem::remove_all(dir_, fs_ignored);
}

void FakeDocker::on(const std::string& method, const std::string& prefix,
                    std::vector<Reply> replies) {
  std::lock_guard lock(mutex_);
  rules_[{method, prefix}] = std::move(replies);
}

std::vector<FakeDocker::Request> FakeDocker::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool FakeDocker::wait_for(const std::function<bool(const std::vector<Request>&)>& pred,
                          std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return pred(requests_); });
}

bool FakeDocker::wait_for_count(const std::string& prefix, std::size_t n,
                                std::chrono::milliseconds timeout) const {
  return wait_for(
      [&](const std::vector<Request>& requests) {
        std::size_t count = 0;
        for (const auto& r : requests) count += r.target.starts_with(prefix) ? 1 : 0;
        return count >= n;
      },
      timeout);
}

bool FakeDocker::wait_for_client_closes(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return client_closes_ >= n; });
}

void FakeDocker::close_streams() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  cv_.notify_all();
}

void FakeDocker::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    local::socket socket(io_);
    listener_.accept(socket, ec);
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (ec) continue;
    const int fd = socket.release(ec);
    if (ec) continue;
    open_fds_.push_back(fd);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

FakeDocker::Reply FakeDocker::next_reply(const std::string& method, const std::string& target) {
  // Called with mutex_ held.
  std::vector<Reply>* best = nullptr;
  std::size_t best_len = 0;
  for (auto& [key, replies] : rules_) {
    if (key.first != method || !target.starts_with(key.second) || replies.empty()) continue;
    if (best == nullptr || key.second.size() > best_len) {
      best = &replies;
      best_len = key.second.size();
    }
  }
  if (best == nullptr) return error(404, "fake docker: no rule for " + method + " " + target);
  Reply reply = best->front();
  if (best->size() > 1) best->erase(best->begin());
  return reply;
}

void FakeDocker::serve(int fd) {
  local::socket socket(io_);
  boost::system::error_code ec;
  socket.assign(local(), fd, ec);
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec == http::error::end_of_stream) {
      std::lock_guard lock(mutex_);
      ++client_closes_;
      cv_.notify_all();
    }
    if (ec) break;
    Reply reply;
    unsigned generation = 0;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(
          {std::string(req.method_string()), std::string(req.target()), req.body()});
      reply = next_reply(std::string(req.method_string()), std::string(req.target()));
      generation = generation_;
    }
    cv_.notify_all();
    auto wait_for_close = [&] {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || generation_ != generation; });
    };

    if (reply.stall) {
      wait_for_close();
      break;
    }
    if (reply.chunks.empty()) {
      http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
      res.set(http::field::server, "fake-docker");
      if (!reply.body.empty()) res.set(http::field::content_type, "application/json");
      res.body() = reply.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || !req.keep_alive()) break;
      continue;
    }
    http::response<http::empty_body> res{static_cast<http::status>(reply.status), 11};
    res.set(http::field::server, "fake-docker");
    res.set(http::field::content_type, "application/json");
    res.chunked(true);
    http::response_serializer<http::empty_body> serializer{res};
    http::write_header(socket, serializer, ec);
    for (const auto& chunk : reply.chunks) {
      if (ec || chunk.empty()) continue;
      net::write(socket, http::make_chunk(net::buffer(chunk)), ec);
    }
    if (reply.hold_open) {
      wait_for_close();  // then drop the connection without a last chunk, as a dying engine
      break;
    }
    if (!ec) net::write(socket, http::make_chunk_last(), ec);
    break;
  }
  {
    std::lock_guard lock(mutex_);
    std::erase(open_fds_, fd);
  }
  socket.close(ec);
}

}  // namespace emu::docker::testing

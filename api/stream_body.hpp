#pragma once
// StreamBody: the body of a response written over time (GET /v1/events/stream). The handler
// keeps it and push()es chunks; the HTTP session writes the header, then each chunk in order as
// it comes, and closes the connection after finish() or when the client leaves (closed() then
// turns true and later pushes are dropped). Everything runs on the io_context thread.

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace emu::api {

class StreamBody {
 public:
  /// Appends a chunk and wakes the writer.
  void push(std::string chunk) {
    if (closed_ || finished_) return;
    backlog_ += chunk.size();
    chunks_.push_back(std::move(chunk));
    if (wake_) wake_();
  }
  /// No more chunks: the connection ends once the queued ones are written.
  void finish() {
    if (finished_) return;
    finished_ = true;
    if (wake_) wake_();
  }
  /// The client went away or the session ended.
  bool closed() const { return closed_; }
  bool finished() const { return finished_; }
  /// Bytes queued and not yet written (a slow reader's backlog).
  std::size_t backlog() const { return backlog_; }

  // --- the session's side ---
  /// Called on each push() and on finish().
  void on_wake(std::function<void()> wake) { wake_ = std::move(wake); }
  bool empty() const { return chunks_.empty(); }
  /// Takes the next queued chunk (callers check empty() first).
  std::string take() {
    std::string out = std::move(chunks_.front());
    chunks_.pop_front();
    backlog_ -= out.size();
    return out;
  }
  /// Marks the stream dead and drops what is queued.
  void close() {
    closed_ = true;
    chunks_.clear();
    backlog_ = 0;
    wake_ = nullptr;
  }

 private:
  std::deque<std::string> chunks_;
  std::size_t backlog_ = 0;
  bool finished_ = false;
  bool closed_ = false;
  std::function<void()> wake_;
};

}  // namespace emu::api

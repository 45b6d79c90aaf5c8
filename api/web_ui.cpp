#include "api/web_ui.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "api/api_error.hpp"
#include "api/web_assets.hpp"
#include "emulator/core/native_codec.hpp"

namespace emu::api {

using nlohmann::json;

Response WebUi::redirect(const Call& call) {
  if (call.target.path == "/ui/") return asset(call);
  Response res{http::status::found, 11};
  res.set(http::field::location, "/ui/");
  res.set(http::field::cache_control, "no-cache");
  res.prepare_payload();
  return res;
}

Response WebUi::asset(const Call& call) {
  const std::string file = call.params.empty() ? "index.html" : call.params.at(0);
  const WebAsset* a = find_web_asset(file);
  if (!a) return error_response(not_found("no page file " + file));
  Response res{http::status::ok, 11};
  res.set(http::field::etag, a->etag);
  // Revalidate every load (a new binary serves new files); a match costs a 304 only.
  res.set(http::field::cache_control, "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  if (auto it = call.req.find(http::field::if_none_match);
      it != call.req.end() && it->value() == a->etag) {
    res.result(http::status::not_modified);
    return res;
  }
  res.set(http::field::content_type, a->content_type);
  res.body() = std::string(a->body);
  res.prepare_payload();
  return res;
}

Response WebUi::overview(const Call&) {
  struct Counts {
    std::size_t running = 0, healthy = 0, unhealthy = 0, unknown = 0, stopped = 0;
  };
  std::map<std::string, Counts> by_service;
  std::size_t total = 0, running = 0;
  for (const auto* t : ctx_.registry.tasks(core::TaskFilter{})) {
    ++total;
    auto& c = by_service[t->service_id];
    if (t->last_status == core::TaskStatus::Stopped) {
      ++c.stopped;
      continue;
    }
    if (!t->registered()) continue;
    ++running;
    ++c.running;
    if (t->health() == core::Health::Healthy) ++c.healthy;
    if (t->health() == core::Health::Unhealthy) ++c.unhealthy;
    if (t->health() == core::Health::Unknown) ++c.unknown;
  }
  json list = json::array();
  for (const auto* s : ctx_.registry.services()) {
    auto j = core::native::to_json(*s, ctx_.registry);
    const auto& c = by_service[s->id];
    j["counts"] = {{"running", c.running},
                   {"healthy", c.healthy},
                   {"unhealthy", c.unhealthy},
                   {"unknown", c.unknown},
                   {"stopped", c.stopped}};
    list.push_back(std::move(j));
  }
  return json_response(http::status::ok, {{"services", std::move(list)},
                                          {"tasks", {{"total", total}, {"running", running}}},
                                          {"eventIndex", ctx_.registry.events().last_index()}});
}

}  // namespace emu::api

#pragma once
// What DNS answers now for (name, type), as JSON: the real responder runs on the current snapshot
// and its wire answer is decoded back with ldns, so GET /v1/dns and /v1/wait report exactly what a
// query would get.

#include <nlohmann/json.hpp>
#include <string>

#include "emulator/core/snapshot_holder.hpp"

namespace emu::runtime {

/// {"name","type","rcode","answers":[{"value","ttl"}],"authority":[{"name","type","value","ttl"}],
///  "additional":[...]}; an unknown type gives {"error": ...}.
nlohmann::json dns_lookup(const core::SnapshotHolder& zones, const std::string& name,
                          const std::string& type);

}  // namespace emu::runtime

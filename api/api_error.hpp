#pragma once
// The one place where errors become HTTP responses: emu::Code -> status and the JSON error body
// {"error": "<Code>", "message": "...", "field"?: "..."} (SPEC section 7), from the Error's
// members: no message is read back.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/http_types.hpp"
#include "emulator/core/result.hpp"

namespace emu::api {

/// HTTP status for an error code (400, 404, 409, 413, 503; 500 only for bugs).
http::status status_of(Code code);
/// The name used in the "error" field ("InvalidArgument", "NotFound", ...).
const char* code_name(Code code);
/// A JSON response with the given status and body.
Response json_response(http::status status, const nlohmann::json& body);
/// The error response for an Error; "field" is the Error's field, when it names one.
Response error_response(const Error& error);
/// An error response with an explicit status and error name (405, 408, 413, 431 ...); `field`
/// names the part of the request at fault ("body", "headers"), when one is.
Response error_response(http::status status, std::string_view error, std::string_view message,
                        std::string_view field = {});

}  // namespace emu::api

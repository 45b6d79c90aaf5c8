// The hand-written protobuf of grpc.health.v1, checked against known bytes.

#include "emulator/health/grpc_health_codec.hpp"

#include <gtest/gtest.h>

#include <string>

namespace emu::health::grpc_health {
namespace {

using namespace std::string_literals;

TEST(GrpcHealthCodecTest, EmptyServiceIsAnEmptyMessage) {
  EXPECT_EQ(encode_request(""), "\0\0\0\0\0"s);
}

TEST(GrpcHealthCodecTest, ServiceNameIsFieldOne) {
  EXPECT_EQ(encode_request("game"), "\0\0\0\0\x06\x0a\x04game"s);
  EXPECT_EQ(decode_request("\x0a\x04game"s), "game");
  const std::string long_name(200, 'x');  // a two-byte varint length
  const std::string framed = encode_request(long_name);
  EXPECT_EQ(framed.substr(5, 3), "\x0a\xc8\x01"s);
  EXPECT_EQ(decode_request(std::string_view(framed).substr(5)), long_name);
}

TEST(GrpcHealthCodecTest, DecodesServingStatus) {
  EXPECT_EQ(decode_response(frame(encode_response(ServingStatus::Serving))), 1);
  EXPECT_EQ(decode_response("\0\0\0\0\x02\x08\x02"s), 2);
  EXPECT_EQ(decode_response("\0\0\0\0\0"s), 0);  // proto3 default: UNKNOWN
}

TEST(GrpcHealthCodecTest, SkipsUnknownFields) {
  // field 2 (varint 7), field 3 (string "ab"), then status = SERVING
  EXPECT_EQ(decode_response(frame("\x10\x07\x1a\x02"
                                  "ab\x08\x01"s)),
            1);
}

TEST(GrpcHealthCodecTest, RejectsMalformedInput) {
  EXPECT_EQ(decode_response(""), std::nullopt);
  EXPECT_EQ(decode_response("\0\0\0\0\x05\x08"s), std::nullopt);        // truncated frame
  EXPECT_EQ(decode_response("\x01\0\0\0\x02\x08\x01"s), std::nullopt);  // compressed
  EXPECT_EQ(decode_response("\0\0\0\0\x01\x08"s), std::nullopt);        // truncated varint
  EXPECT_EQ(decode_response("\0\0\0\0\x01\x0b"s), std::nullopt);        // group wire type
}

TEST(GrpcHealthCodecTest, Names) {
  EXPECT_EQ(serving_status_name(2), "NOT_SERVING");
  EXPECT_EQ(serving_status_name(9), "9");
  EXPECT_STREQ(status_code_name(12), "UNIMPLEMENTED");
  EXPECT_STREQ(status_code_name(5), "NOT_FOUND");
  EXPECT_STREQ(status_code_name(99), "?");
}

}  // namespace
}  // namespace emu::health::grpc_health

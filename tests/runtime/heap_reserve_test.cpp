// reserve_heap: the main heap grows once by the reserve, later small allocations (a state load)
// fit in it without growing the heap again, and freeing them does not hand the reserve back.
// The real calls run on this test process (each test is its own process under CTest).

#include "emulator/runtime/heap_reserve.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace emu::runtime {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

TEST(HeapReserveTest, ZeroReservesNothing) {
  const auto r = reserve_heap(0);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->bytes, 0u);
  EXPECT_FALSE(r->huge_advised());
}

TEST(HeapReserveTest, LoadFitsInTheReserveAndItIsKept) {
  const auto r = reserve_heap(32 * kMiB);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GE(r->bytes, 32 * kMiB);
  EXPECT_LE(r->huge, r->bytes);
  EXPECT_EQ(r->huge % (2 * kMiB), 0u);
  void* const top = ::sbrk(0);
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < 16 * kMiB / 256; ++i) blocks.push_back(std::malloc(256));
  EXPECT_EQ(::sbrk(0), top) << "16 MiB of small blocks grew the heap past the reserve";
  for (void* b : blocks) std::free(b);
  EXPECT_EQ(::sbrk(0), top) << "freeing them trimmed the reserve";
}

}  // namespace
}  // namespace emu::runtime

#include "emulator/runtime/heap_reserve.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace emu::runtime {

Result<HeapReserve> reserve_heap(std::size_t bytes) {
  HeapReserve out;
  if (bytes == 0) return out;
  // Blocks up to the reserve come from the heap, not from mmap, and a free at the top keeps
  // the reserve (the heap is not trimmed below it).
  if (::mallopt(M_MMAP_THRESHOLD, static_cast<int>(std::min<std::size_t>(bytes, 32u << 20))) != 1 ||
      ::mallopt(M_TOP_PAD, static_cast<int>(bytes)) != 1 ||
      ::mallopt(M_TRIM_THRESHOLD, static_cast<int>(2 * bytes)) != 1) {
    return Error{Code::Unavailable, "mallopt: the heap reserve is not supported"};
  }
  // One block larger than the free space at the top makes malloc grow the heap, by the block
  // plus the pad; freed, it joins the top, which is then the reserve.
  const std::size_t probe = ::mallinfo2().keepcost + 4096;
  void* block = std::malloc(probe);
  if (block == nullptr) return Error{Code::Unavailable, "malloc of the heap reserve failed"};
  const auto from = reinterpret_cast<std::uintptr_t>(block);
  const auto top = reinterpret_cast<std::uintptr_t>(::sbrk(0));
  std::free(block);
  out.bytes = top > from ? top - from : 0;
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const std::uintptr_t begin = (from + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t end = top & ~(kHuge - 1);
  if (top <= from || end <= begin) return out;  // the block came from elsewhere, or too little
  if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) != 0) {
    return Error{Code::Unavailable, std::string("madvise(MADV_HUGEPAGE): ") + std::strerror(errno)};
  }
  out.huge = end - begin;
  return out;
}

}  // namespace emu::runtime

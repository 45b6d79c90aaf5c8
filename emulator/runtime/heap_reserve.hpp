#pragma once
// reserve_heap: at startup, before the state is loaded, grows the main heap once by `bytes` and
// asks for transparent huge pages on it. Loading 10,000 tasks allocates ~50 MiB in small blocks;
// with 4 KiB pages that is ~13,000 page faults (a quarter of a restart's time in the profile),
// with 2 MiB pages a few dozen. malloc keeps the reserve instead of trimming it back to the
// system, so a steady daemon holds up to `bytes` of heap it may not use (virtual until touched:
// RSS grows only as pages are used, but in 2 MiB steps). Best effort: where THP is off or glibc
// refuses, the daemon runs as before.

#include <cstddef>

#include "emulator/core/result.hpp"

namespace emu::runtime {

/// What reserve_heap did.
struct HeapReserve {
  std::size_t bytes = 0;  ///< heap the reserve made room for (0: none)
  std::size_t huge = 0;   ///< of it, bytes advised as huge pages (2 MiB aligned)
  bool huge_advised() const { return huge > 0; }
};

/// The default reserve: enough for a 10,000-task state (tasks, indexes, zones, SQLite's cache).
inline constexpr std::size_t kDefaultHeapReserve = std::size_t{96} << 20;

/// Grows the main heap by `bytes` (glibc: M_TOP_PAD / M_TRIM_THRESHOLD / M_MMAP_THRESHOLD so
/// the growth stays in the heap and is not handed back), then madvise(MADV_HUGEPAGE) on it.
/// Call once, early, on the main thread. An error names the call that failed; the daemon logs it
/// and goes on.
Result<HeapReserve> reserve_heap(std::size_t bytes = kDefaultHeapReserve);

}  // namespace emu::runtime

#ifndef GAUNTLET_CSHAREDMEMORY_H
#define GAUNTLET_CSHAREDMEMORY_H

// What the shared-memory transport of the environment protocol (python/PROTOCOL.md) needs and
// Swift's standard library cannot express: ordered access to words in memory shared with another
// process, Linux futexes on them (shared, not process-private), an anonymous memory file, the
// CPU affinity count and the spin-wait hint.

#include <stdint.h>

/// A word of the shared memory, read sequentially consistently (so also with acquire ordering:
/// the frame written before a counter is visible once the counter is).
uint32_t gauntlet_load(const uint32_t *word);

/// Stores a word sequentially consistently: what was written before becomes visible first, and
/// a load after it cannot be answered before the store is visible to the other process.
void gauntlet_store(uint32_t *word, uint32_t value);

/// Sleeps while `*counter == expected`, at most `timeout_ns` nanoseconds. Returns 0 when woken
/// (or when the value already differed), else -1 with errno (ETIMEDOUT, EINTR).
int gauntlet_futex_wait(uint32_t *counter, uint32_t expected, int64_t timeout_ns);

/// Wakes every process sleeping on `counter`; returns how many were woken, or -1.
int gauntlet_futex_wake(uint32_t *counter);

/// An anonymous memory file (closed on exec), or -1 with errno.
int gauntlet_memory_file(const char *name);

/// How many CPUs this process may run on (its affinity mask, which `taskset` narrows).
int gauntlet_allowed_cpus(void);

/// The CPU's hint that this is a spin-wait loop (x86 `pause`; nothing elsewhere).
void gauntlet_spin_pause(void);

#endif

#define _GNU_SOURCE
#include "CSharedMemory.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

uint32_t gauntlet_load(const uint32_t *word) { return __atomic_load_n(word, __ATOMIC_SEQ_CST); }

void gauntlet_store(uint32_t *word, uint32_t value) { __atomic_store_n(word, value, __ATOMIC_SEQ_CST); }

int gauntlet_futex_wait(uint32_t *counter, uint32_t expected, int64_t timeout_ns) {
    struct timespec timeout = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
    long result = syscall(SYS_futex, counter, FUTEX_WAIT, expected, &timeout, NULL, 0);
    // EAGAIN: the counter had already moved on, which is what the caller waits for.
    return result == 0 || errno == EAGAIN ? 0 : -1;
}

int gauntlet_futex_wake(uint32_t *counter) { return (int)syscall(SYS_futex, counter, FUTEX_WAKE, INT_MAX, NULL, NULL, 0); }

int gauntlet_memory_file(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

int gauntlet_allowed_cpus(void) {
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

void gauntlet_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

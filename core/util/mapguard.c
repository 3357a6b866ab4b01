/*
 * mapguard.c - the SIGBUS handler behind mapguard.h.
 *
 * The table is a fixed array read by the handler without locks: a slot is
 * claimed with a compare-and-swap on its state, filled, then published;
 * removal unpublishes it before the caller unmaps.  The handler only
 * reads the table, calls mmap (a system call) and stores flags.
 */
#include "util/mapguard.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 4096

enum { FREE = 0, CLAIMED, LIVE };

typedef struct slot {
    int state;                /* FREE, CLAIMED or LIVE (atomic) */
    uintptr_t base;           /* first byte */
    size_t len;               /* bytes */
    volatile int *damaged;    /* set on a fault */
} slot;

static slot table[SLOTS];
static int high;              /* slots ever used (atomic) */
static unsigned long faults;  /* atomic */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int installed;

static void
restore_default(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

static void
on_sigbus(int sig, siginfo_t *si, void *uctx)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    int n = __atomic_load_n(&high, __ATOMIC_ACQUIRE), i;
    long page = sysconf(_SC_PAGESIZE);

    (void)sig;
    (void)uctx;
    for (i = 0; i < n; i++) {
        slot *s = &table[i];

        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != LIVE)
            continue;
        if (a < s->base || a - s->base >= s->len)
            continue;
        if (page <= 0 ||
            mmap((void *)(a & ~((uintptr_t)page - 1)), (size_t)page,
                 PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
                 0) == MAP_FAILED)
            break;
        *s->damaged = 1;
        __atomic_add_fetch(&faults, 1, __ATOMIC_RELAXED);
        return;
    }
    /* Not ours (or no zero page to be had): the faulting read runs again
     * under the default action, as if this handler did not exist. */
    restore_default();
}

static void
install(void)
{
    struct sigaction old, sa;

    if (sigaction(SIGBUS, NULL, &old) != 0 ||
        (!(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL))
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) == 0)
        installed = 1;
}

int
ndx_mapguard_add(const void *base, size_t len, volatile int *damaged)
{
    int i;

    pthread_once(&once, install);
    if (!installed || !base || !len)
        return -1;
    for (i = 0; i < SLOTS; i++) {
        int expect = FREE;

        if (!__atomic_compare_exchange_n(&table[i].state, &expect, CLAIMED,
                                         0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        table[i].base = (uintptr_t)base;
        table[i].len = len;
        table[i].damaged = damaged;
        __atomic_store_n(&table[i].state, LIVE, __ATOMIC_RELEASE);
        /* Raise the high-water mark to cover this slot. */
        {
            int h = __atomic_load_n(&high, __ATOMIC_ACQUIRE);

            while (h < i + 1 &&
                   !__atomic_compare_exchange_n(&high, &h, i + 1, 0,
                                                __ATOMIC_ACQ_REL,
                                                __ATOMIC_ACQUIRE))
                ;
        }
        return i;
    }
    return -1;
}

void
ndx_mapguard_remove(int i)
{
    if (i < 0 || i >= SLOTS)
        return;
    __atomic_store_n(&table[i].state, CLAIMED, __ATOMIC_RELEASE);
    table[i].base = 0;
    table[i].len = 0;
    table[i].damaged = NULL;
    __atomic_store_n(&table[i].state, FREE, __ATOMIC_RELEASE);
}

unsigned long
ndx_mapguard_faults(void)
{
    return __atomic_load_n(&faults, __ATOMIC_RELAXED);
}

// A small pool of persistent worker threads that spin briefly between jobs, for the library's parallel
// loops (matrix products, elementwise loops, convolutions).
//
// Why not Grand Central Dispatch: on the machines we measure, `DispatchQueue.concurrentPerform` woke its
// worker about 48 µs after the call, whatever the gap between calls, so a product split in two halves of
// 150 µs took 200 µs, and a Hessian-vector product of ~25 split operations lost a millisecond to waking.
// Workers here spin for a while after each job (as OpenMP's and Eigen's pools do), so a job that follows
// within that time starts on every core at once; after it they sleep on a condition variable.
//
// One job runs at a time. A call made while another job runs (from a job's own body, or from a second
// application thread) runs its parts on the calling thread, one after another: always correct, never
// deadlocked.
#if defined(__linux__)
#define _GNU_SOURCE  // sched_getaffinity, CPU_COUNT
#else
#define _POSIX_C_SOURCE 200112L
#endif
#include "CBackpropKernels.h"
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/// How long an idle worker spins before it sleeps, in nanoseconds.
#define BP_POOL_SPIN_NANOSECONDS 200000L

/// One job: `parts` calls of `body`, claimed one at a time by whichever thread comes first.
typedef struct {
    bp_parallel_body body;
    void *context;
    long parts;
    atomic_long next;
} bp_job;

/// The process's pool. Workers are started on the first job that can use them.
static struct {
    pthread_mutex_t start_lock;
    int started;          // workers started so far (guarded by start_lock)
    atomic_int busy;      // 1 while a job is being dispatched (try-locked by callers)
    _Atomic(bp_job *) job;
    atomic_ulong generation;  // bumped for each job; workers wait for it to change
    atomic_int inside;    // workers that may be reading `job`
    atomic_int sleepers;  // workers waiting on `wake`
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;
} pool = {
    .start_lock = PTHREAD_MUTEX_INITIALIZER,
    .sleep_lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

/// Whether the calling thread is one of the pool's workers.
static _Thread_local int is_pool_worker = 0;

/// Tells the core this is a spin-wait loop.
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Monotonic time in nanoseconds.
static long now_nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

/// Claims and runs parts of `job` until none is left.
static void run_parts(bp_job *job) {
    long part;
    while ((part = atomic_fetch_add(&job->next, 1)) < job->parts) {
        job->body(job->context, part);
    }
}

/// A worker: wait for the generation to change (spinning, then sleeping), help with the job, repeat.
static void *worker_main(void *unused) {
    (void)unused;
    is_pool_worker = 1;
    unsigned long seen = atomic_load(&pool.generation);
    for (;;) {
        long spin_start = now_nanoseconds();
        unsigned spins = 0;
        while (atomic_load(&pool.generation) == seen) {
            cpu_relax();
            if ((++spins & 255) != 0) continue;
            long spun = now_nanoseconds() - spin_start;
            // After the first stretch (where most next jobs arrive), offer the core to other threads every
            // few microseconds: when more threads run than there are cores (several processes on one
            // machine), spinning would otherwise take the core from a thread with work. Yielding from the
            // start cost 4-7% on the benchmarks, the wake-up of a job that follows closely.
            if (spun > BP_POOL_SPIN_NANOSECONDS / 4) sched_yield();
            if (spun < BP_POOL_SPIN_NANOSECONDS) continue;
            // Sleep. `sleepers` is raised before the generation is read again under the lock, and a caller
            // raises the generation before it reads `sleepers`, so one of the two always sees the other.
            pthread_mutex_lock(&pool.sleep_lock);
            atomic_fetch_add(&pool.sleepers, 1);
            while (atomic_load(&pool.generation) == seen) pthread_cond_wait(&pool.wake, &pool.sleep_lock);
            atomic_fetch_sub(&pool.sleepers, 1);
            pthread_mutex_unlock(&pool.sleep_lock);
        }
        seen = atomic_load(&pool.generation);
        // Announce before reading the job, so the caller waits for us before its job goes out of scope.
        atomic_fetch_add(&pool.inside, 1);
        bp_job *job = atomic_load(&pool.job);
        if (job != NULL) run_parts(job);
        atomic_fetch_sub(&pool.inside, 1);
    }
    return NULL;
}

/// Starts workers until there are `wanted` (or as many as the system allows); returns how many run.
static int ensure_workers(int wanted) {
    pthread_mutex_lock(&pool.start_lock);
    while (pool.started < wanted) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, worker_main, NULL);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        pool.started++;
    }
    int started = pool.started;
    pthread_mutex_unlock(&pool.start_lock);
    return started;
}

void bp_parallel_run(long parts, int threads, bp_parallel_body body, void *context) {
    if (parts <= 0) return;
    int expected = 0;
    if (parts == 1 || threads < 2 || is_pool_worker ||
        !atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
        // Nothing to share, or the pool is busy (a nested call, or another thread's job): run here.
        for (long part = 0; part < parts; part++) body(context, part);
        return;
    }
    if (ensure_workers(threads - 1) == 0) {
        atomic_store(&pool.busy, 0);
        for (long part = 0; part < parts; part++) body(context, part);
        return;
    }
    bp_job job = {.body = body, .context = context, .parts = parts};
    atomic_init(&job.next, 0);
    atomic_store(&pool.job, &job);
    atomic_fetch_add(&pool.generation, 1);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.sleep_lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.sleep_lock);
    }
    run_parts(&job);
    // Every part is claimed now. Withdraw the job, then wait for the workers that joined it: they leave
    // once their last part is done and they no longer hold the job's address.
    atomic_store(&pool.job, NULL);
    while (atomic_load(&pool.inside) > 0) cpu_relax();
    atomic_store(&pool.busy, 0);
}

int bp_usable_processors(void) {
#if defined(__linux__)
    // The processors this process may run on: fewer than are online when it is bound to some cores (an
    // MPI rank started with --bind-to core, taskset, a container's cpuset).
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
#endif
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

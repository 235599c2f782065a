/* A fixed set of worker threads for splitting one linear's output among them (qp_model.h).
 * A decoded token runs a few hundred small linears; sleeping on a condition variable between
 * them cost more than the work they split (a futex wake and a reschedule each), so workers and
 * the caller first spin on atomics for a short while and sleep only when no job comes. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "qp_model.h"

/* Polls before a worker sleeps (a few hundred microseconds: the gap between two linears of a
 * decoding step is far shorter) and before a waiting caller yields its core. */
#define QP_POOL_SPINS 20000
#define QP_POOL_WAIT_SPINS 4000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

struct qp_pool {
    size_t threads;
    pthread_t *workers;
    pthread_mutex_t run_lock; /* one job at a time, whoever calls */
    pthread_mutex_t lock; /* with `start`: sleeping workers */
    pthread_cond_t start;
    /* The job: written by the caller before it publishes a new generation (release), read by
     * the workers after they see it (acquire). */
    void (*job)(void *, size_t);
    void *arg;
    size_t parts;
    _Atomic unsigned long generation;
    _Atomic size_t pending; /* workers yet to answer the current generation */
    _Atomic int stop;
};

typedef struct worker_start {
    qp_pool *pool;
    size_t index;
} worker_start;

/* The next generation after `seen`, spinning first, then sleeping; `seen` again means stop. */
static unsigned long next_generation(qp_pool *pool, unsigned long seen) {
    for (int i = 0; i < QP_POOL_SPINS; i++) {
        const unsigned long g = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (g != seen) return g;
        if (atomic_load_explicit(&pool->stop, memory_order_relaxed)) return seen;
        cpu_relax();
    }
    pthread_mutex_lock(&pool->lock);
    unsigned long g;
    while ((g = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
           !atomic_load_explicit(&pool->stop, memory_order_relaxed))
        pthread_cond_wait(&pool->start, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    return g;
}

static void *work(void *p) {
    worker_start *w = p;
    qp_pool *pool = w->pool;
    const size_t index = w->index;
    free(w);
    unsigned long seen = 0;
    for (;;) {
        const unsigned long g = next_generation(pool, seen);
        if (g == seen) break; /* stop */
        seen = g;
        if (index < pool->parts) pool->job(pool->arg, index);
        /* Every worker answers every job, so none can still be reading this one's fields when
         * the caller writes the next. */
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
    return NULL;
}

qp_pool *qp_pool_create(size_t threads) {
    if (threads < 2) return NULL;
    if (threads > QP_MAX_THREADS) threads = QP_MAX_THREADS;
    qp_pool *pool = calloc(1, sizeof *pool);
    if (!pool || !(pool->workers = calloc(threads, sizeof(pthread_t)))) {
        free(pool);
        return NULL;
    }
    pool->threads = 1;
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->stop, 0);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_mutex_init(&pool->run_lock, NULL);
    pthread_cond_init(&pool->start, NULL);
    for (size_t i = 1; i < threads; i++) { /* the caller is part 0 */
        worker_start *w = malloc(sizeof *w);
        if (!w) break;
        *w = (worker_start){pool, i};
        if (pthread_create(&pool->workers[i], NULL, work, w) != 0) {
            free(w);
            break;
        }
        pool->threads = i + 1;
    }
    if (pool->threads < 2) {
        qp_pool_free(pool);
        return NULL;
    }
    return pool;
}

size_t qp_pool_threads(const qp_pool *pool) { return pool ? pool->threads : 1; }

void qp_pool_run(qp_pool *pool, size_t parts, void (*job)(void *, size_t), void *arg) {
    if (!pool || parts < 2) {
        for (size_t i = 0; i < parts; i++) job(arg, i);
        return;
    }
    if (parts > pool->threads) parts = pool->threads;
    pthread_mutex_lock(&pool->run_lock);
    pool->job = job;
    pool->arg = arg;
    pool->parts = parts;
    atomic_store_explicit(&pool->pending, pool->threads - 1, memory_order_relaxed);
    /* Under the lock, so a worker between its check and its wait cannot miss the broadcast. */
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->lock);
    job(arg, 0);
    for (int spins = 0; atomic_load_explicit(&pool->pending, memory_order_acquire) != 0;) {
        if (spins < QP_POOL_WAIT_SPINS) {
            spins++;
            cpu_relax();
        } else {
            sched_yield(); /* a worker was descheduled: give it the core */
        }
    }
    pthread_mutex_unlock(&pool->run_lock);
}

void qp_pool_free(qp_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    atomic_store_explicit(&pool->stop, 1, memory_order_relaxed);
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->lock);
    for (size_t i = 1; i < pool->threads; i++) pthread_join(pool->workers[i], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_mutex_destroy(&pool->run_lock);
    pthread_cond_destroy(&pool->start);
    free(pool->workers);
    free(pool);
}

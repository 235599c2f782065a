/* A fixed set of worker threads for splitting one linear's output among them (qp_model.h). */
#include <pthread.h>
#include <stdlib.h>

#include "qp_model.h"

struct qp_pool {
    size_t threads;
    pthread_t *workers;
    pthread_mutex_t lock, run_lock; /* run_lock: one job at a time, whoever calls */
    pthread_cond_t start, done;
    void (*job)(void *, size_t);
    void *arg;
    size_t parts, pending;
    unsigned long generation;
    int stop;
};

typedef struct worker_start {
    qp_pool *pool;
    size_t index;
} worker_start;

static void *work(void *p) {
    worker_start *w = p;
    qp_pool *pool = w->pool;
    const size_t index = w->index;
    free(w);
    unsigned long seen = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stop && pool->generation == seen) pthread_cond_wait(&pool->start, &pool->lock);
        if (pool->stop) break;
        seen = pool->generation;
        if (index >= pool->parts) continue;
        void (*job)(void *, size_t) = pool->job;
        void *arg = pool->arg;
        pthread_mutex_unlock(&pool->lock);
        job(arg, index);
        pthread_mutex_lock(&pool->lock);
        if (--pool->pending == 0) pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
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
    pthread_mutex_init(&pool->lock, NULL);
    pthread_mutex_init(&pool->run_lock, NULL);
    pthread_cond_init(&pool->start, NULL);
    pthread_cond_init(&pool->done, NULL);
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
    pthread_mutex_lock(&pool->lock);
    pool->job = job;
    pool->arg = arg;
    pool->parts = parts;
    pool->pending = parts - 1;
    pool->generation++;
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->lock);
    job(arg, 0);
    pthread_mutex_lock(&pool->lock);
    while (pool->pending) pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    pthread_mutex_unlock(&pool->run_lock);
}

void qp_pool_free(qp_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->lock);
    for (size_t i = 1; i < pool->threads; i++) pthread_join(pool->workers[i], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_mutex_destroy(&pool->run_lock);
    pthread_cond_destroy(&pool->start);
    pthread_cond_destroy(&pool->done);
    free(pool->workers);
    free(pool);
}

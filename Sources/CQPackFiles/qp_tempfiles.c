#include "qp_tempfiles.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

enum { SLOTS = 32, PATH_BYTES = 4096 };

/* A slot's name is written while the slot is reserved (state 1) and read by the handler only in
 * state 2, so the handler never sees a half-copied name. */
static char names[SLOTS][PATH_BYTES];
static atomic_int states[SLOTS];
static pthread_once_t installed = PTHREAD_ONCE_INIT;
static const int caught[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void on_signal(int sig) {
    for (int i = 0; i < SLOTS; i++) {
        int expected = 2;
        if (atomic_compare_exchange_strong(&states[i], &expected, 3)) unlink(names[i]);
    }
    /* Blocked until this handler returns; then the default action ends the process. */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_once(void) {
    for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++) {
        struct sigaction old;
        if (sigaction(caught[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN) continue;
        /* A handler someone else installed (a test harness, an embedding app) is left alone. */
        if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        for (size_t j = 0; j < sizeof caught / sizeof caught[0]; j++) sigaddset(&sa.sa_mask, caught[j]);
        sigaction(caught[i], &sa, NULL);
    }
}

void qp_tempfiles_install(void) { pthread_once(&installed, install_once); }

int qp_tempfiles_remember(const char *path) {
    size_t n = strlen(path);
    if (n >= PATH_BYTES) return -1;
    for (int i = 0; i < SLOTS; i++) {
        int expected = 0;
        if (!atomic_compare_exchange_strong(&states[i], &expected, 1)) continue;
        memcpy(names[i], path, n + 1);
        atomic_store(&states[i], 2);
        return i;
    }
    return -1;
}

void qp_tempfiles_forget(int slot) {
    if (slot < 0 || slot >= SLOTS) return;
    atomic_store(&states[slot], 0);
}

int qp_tempfiles_count(void) {
    int count = 0;
    for (int i = 0; i < SLOTS; i++) count += atomic_load(&states[i]) == 2;
    return count;
}

// posix_memalign is POSIX, not ISO C: ask for it explicitly under strict language modes.
#define _POSIX_C_SOURCE 200112L
#include "internal.h"
#include <pthread.h>
#include <stdlib.h>

/// One thread's scratch buffer.
typedef struct {
    void *pointer;
    size_t bytes;
} bp_workspace;

static pthread_key_t workspace_key;
static pthread_once_t workspace_once = PTHREAD_ONCE_INIT;

/// Frees a thread's workspace when the thread exits.
static void workspace_destroy(void *value) {
    bp_workspace *workspace = value;
    free(workspace->pointer);
    free(workspace);
}

/// Creates the thread-specific key once per process.
static void workspace_make_key(void) { pthread_key_create(&workspace_key, workspace_destroy); }

void *bp_thread_workspace(size_t bytes) {
    pthread_once(&workspace_once, workspace_make_key);
    bp_workspace *workspace = pthread_getspecific(workspace_key);
    if (workspace == NULL) {
        workspace = calloc(1, sizeof *workspace);
        if (workspace == NULL) return NULL;
        if (pthread_setspecific(workspace_key, workspace) != 0) {
            free(workspace);
            return NULL;
        }
    }
    if (workspace->bytes < bytes) {
        free(workspace->pointer);
        workspace->pointer = NULL;
        workspace->bytes = 0;
        size_t rounded = (bytes + 63) & ~(size_t)63;
        void *pointer = NULL;
        if (posix_memalign(&pointer, 64, rounded) != 0) return NULL;
        workspace->pointer = pointer;
        workspace->bytes = rounded;
    }
    return workspace->pointer;
}

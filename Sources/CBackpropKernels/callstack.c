// The caller's stack as text, for anomaly-detection messages (execinfo is not exposed to Swift by Glibc).
#include "CBackpropKernels.h"
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__) || defined(__APPLE__)
#include <execinfo.h>
#endif

char *bp_call_stack_symbols(int depth) {
#if defined(__GLIBC__) || defined(__APPLE__)
    void *frames[64];
    if (depth > 64) depth = 64;
    int count = backtrace(frames, depth);
    if (count <= 0) return NULL;
    char **symbols = backtrace_symbols(frames, count);
    if (!symbols) return NULL;
    size_t total = 1;
    for (int i = 0; i < count; i++) total += strlen(symbols[i]) + 1;
    char *text = malloc(total);
    if (text) {
        text[0] = 0;
        for (int i = 0; i < count; i++) {
            strcat(text, symbols[i]);
            strcat(text, "\n");
        }
    }
    free(symbols);
    return text;
#else
    (void)depth;
    return NULL;
#endif
}

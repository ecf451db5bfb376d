/* check.h: the tiny harness of the C tests. Every check prints one line
 * (with kcp_last_error() on failure) and is counted; report() prints the
 * closing "N passed, M failed" line and returns the exit status. */
#ifndef KCP_TEST_CHECK_H
#define KCP_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>

#include "kcp.h"

static int passed, failed;

static void check(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s - ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    if (!ok) printf(" (last error: %s)", kcp_last_error());
    printf("\n");
    va_end(ap);
    if (ok) passed++;
    else failed++;
}

static int report(void) {
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}

#endif

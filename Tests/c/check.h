/* check.h: the bookkeeping the C test programs share: CHECK counts one
 * check and prints what failed (with the case and group being checked);
 * status_name spells a status. Each program prints `N passed, N failed`
 * from g_passed and g_failed. */
#ifndef RECUR_TESTS_CHECK_H
#define RECUR_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include "recur.h"

static int g_passed = 0;
static int g_failed = 0;
static const char *g_case = "-";  /* the reference case, model or file being checked */
static const char *g_group = "-"; /* the group of checks being run */

static inline int check_impl(int ok, int line, const char *fmt, ...)
{
    va_list ap;
    if (ok) {
        g_passed++;
        return 1;
    }
    g_failed++;
    printf("FAIL [%s] %s (line %d): ", g_case, g_group, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return 0;
}

/* CHECK(cond, fmt, ...): counts one check; prints the message if cond is false.
   Evaluates to cond, so a caller can skip what depends on it. */
#define CHECK(cond, ...) check_impl((cond) ? 1 : 0, __LINE__, __VA_ARGS__)

static inline const char *status_name(recur_status s)
{
    switch (s) {
    case RECUR_OK: return "RECUR_OK";
    case RECUR_ERROR_INVALID_ARGUMENT: return "RECUR_ERROR_INVALID_ARGUMENT";
    case RECUR_ERROR_PARSE: return "RECUR_ERROR_PARSE";
    case RECUR_ERROR_MODEL: return "RECUR_ERROR_MODEL";
    case RECUR_ERROR_IO: return "RECUR_ERROR_IO";
    case RECUR_ERROR_SHAPE: return "RECUR_ERROR_SHAPE";
    case RECUR_ERROR_NUMERIC: return "RECUR_ERROR_NUMERIC";
    case RECUR_ERROR_OUT_OF_MEMORY: return "RECUR_ERROR_OUT_OF_MEMORY";
    case RECUR_ERROR_INTERNAL: return "RECUR_ERROR_INTERNAL";
    default: break; /* statuses are append-only: newer ones may exist */
    }
    return "(unknown status)";
}

#endif

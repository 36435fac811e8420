/*
 * A very small table-friendly unit-test harness.  Each tests/unit/test_*.c is
 * its own program: it calls RUN(fn) for each test case and returns
 * UNIT_DONE(), which prints "N passed, N failed" (the line tests/run.sh sums).
 *
 * A case fails when any CHECK inside it fails; every failing CHECK prints
 * file:line and the expression so a failure says what was expected.
 */
#ifndef SENDBENCH_UNIT_H
#define SENDBENCH_UNIT_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int unit_passed;
static int unit_failed;
static int unit_case_failures;
static const char *unit_case_name;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            unit_case_failures++;                                           \
            fprintf(stderr, "%s:%d: [%s] CHECK failed: %s\n", __FILE__,     \
                    __LINE__, unit_case_name, #cond);                       \
        }                                                                   \
    } while (0)

/* Relative tolerance for large values, absolute near zero. */
#define CHECK_NEAR(got, want, tol)                                          \
    do {                                                                    \
        double g_ = (double)(got), w_ = (double)(want), t_ = (double)(tol); \
        double s_ = fabs(w_) > 1.0 ? fabs(w_) : 1.0;                        \
        if (!(fabs(g_ - w_) <= t_ * s_)) {                                  \
            unit_case_failures++;                                           \
            fprintf(stderr, "%s:%d: [%s] %s = %.15g, want %.15g (tol %g)\n",\
                    __FILE__, __LINE__, unit_case_name, #got, g_, w_, t_);  \
        }                                                                   \
    } while (0)

#define CHECK_STR(got, want)                                                \
    do {                                                                    \
        const char *g_ = (got), *w_ = (want);                               \
        if (!g_ || !w_ || strcmp(g_, w_) != 0) {                            \
            unit_case_failures++;                                           \
            fprintf(stderr, "%s:%d: [%s] %s = \"%s\", want \"%s\"\n",       \
                    __FILE__, __LINE__, unit_case_name, #got,               \
                    g_ ? g_ : "(null)", w_ ? w_ : "(null)");                \
        }                                                                   \
    } while (0)

#define RUN(fn)                                                             \
    do {                                                                    \
        unit_case_failures = 0;                                             \
        unit_case_name = #fn;                                               \
        fn();                                                               \
        if (unit_case_failures) {                                           \
            unit_failed++;                                                  \
            fprintf(stderr, "FAIL %s\n", #fn);                              \
        } else {                                                            \
            unit_passed++;                                                  \
        }                                                                   \
    } while (0)

#define UNIT_DONE()                                                         \
    (printf("%d passed, %d failed\n", unit_passed, unit_failed),            \
     unit_failed ? 1 : 0)

#endif

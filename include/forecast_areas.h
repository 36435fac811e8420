/*
 * Internals shared by server/forecast_run.c (documents), forecast_panel.c
 * (loading) and forecast_areas.c (England and the regions); not an API.
 */
#ifndef SENDBENCH_FORECAST_AREAS_H
#define SENDBENCH_FORECAST_AREAS_H

#include <jansson.h>

#include "forecast_run.h"

/* The automatic choice with calibrated intervals for every current
 * authority of p (all of them when all_series), horizon h: res[i] filled
 * and have[i] = 1 where a forecast was made.  cal is the caller's (zeroed
 * or reused; free with fc_calibration_free).  0 or -1 with err. */
int fr_fit_series(const struct fr_panel *p, int h, int all_series, struct fc_calibration *cal,
                  struct fc_result *res, int *have, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The document of one series (history y on p's axis, fitted result r). */
json_t *fr_doc_new(const struct fr_panel *p, const char *scope, const char *code,
                   const char *name, const double *y, const struct fc_result *r, int horizon,
                   long long data_version);

/* England and the regions from the authorities' results; each document to
 * emit (only: one area code, or NULL).  Returns documents emitted or -1. */
int fr_fit_areas(const struct fr_panel *p, const struct fc_result *res, const int *have,
                 int horizon, long long data_version, const char *only, fr_emit_fn emit,
                 void *arg, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif

/*
 * Boundary changes: a successor authority's history before it existed,
 * apportioned from its predecessors' (see fc_backcast in forecast.h).
 *
 * Why a share rule: a successor made in 2019, 2021 or 2023 has one to six
 * points of its own, too few for any model (North Northamptonshire was once
 * forecast from a single year).  Its predecessors' history describes the
 * same children and the same services; the only unknown is how the
 * predecessors' figures would have split.  The split observed in the first
 * year every successor reports is the best evidence of that, and it keeps
 * the successors adding up to the predecessors in every apportioned year.
 */
#include <math.h>
#include <string.h>

#include "fc_internal.h"

int fc_backcast(double *y, int n_series, int n, enum fc_kind kind,
                const int *pred, int n_pred, const int *succ, int n_succ,
                struct fc_backcast *out)
{
    int t0 = -1;
    double total = 0;

    if (!y || n < 1 || n_series < 1 || !pred || !succ || n_pred < 1
        || n_succ < 1 || n_succ > FC_MAX_SUCC || !out)
        return FC_ERR_ARG;
    memset(out, 0, sizeof *out);
    for (int k = 0; k < n_succ; k++) {
        out->first_filled[k] = out->last_filled[k] = -1;
        if (succ[k] < 0 || succ[k] >= n_series)
            return FC_ERR_ARG;
    }
    for (int k = 0; k < n_pred; k++)
        if (pred[k] < 0 || pred[k] >= n_series)
            return FC_ERR_ARG;
    /* the first time point where every successor is observed */
    for (int t = 0; t < n && t0 < 0; t++) {
        int all = 1;
        for (int k = 0; k < n_succ; k++)
            all &= isfinite(y[(size_t)succ[k] * n + t]);
        if (all)
            t0 = t;
    }
    if (t0 < 0)
        return FC_ERR_NO_DATA;
    for (int k = 0; k < n_succ; k++)
        total += y[(size_t)succ[k] * n + t0];
    for (int k = 0; k < n_succ; k++) {
        double v = y[(size_t)succ[k] * n + t0];
        out->share[k] = (kind == FC_KIND_PROPORTION) ? 1.0
                        : (total != 0 ? v / total : 1.0 / n_succ);
    }
    out->t0 = t0;
    for (int t = 0; t < t0; t++) {
        double sum = 0;
        int all = 1;
        for (int k = 0; k < n_pred; k++) {
            double v = y[(size_t)pred[k] * n + t];
            all &= isfinite(v);
            sum += isfinite(v) ? v : 0;
        }
        if (!all)
            continue;
        for (int k = 0; k < n_succ; k++) {
            double *cell = &y[(size_t)succ[k] * n + t];
            if (isfinite(*cell))
                continue;  /* the successor's own figure wins */
            /* a rate is not additive: the predecessors' mean rate */
            *cell = (kind == FC_KIND_PROPORTION) ? sum / n_pred
                                                 : out->share[k] * sum;
            if (out->first_filled[k] < 0)
                out->first_filled[k] = t;
            out->last_filled[k] = t;
            out->n_filled[k]++;
        }
    }
    return FC_OK;
}

/* The cross-section store (server/tables_xsec.c): held until a change of
 * its metric in its period, never kept when changed while it was read, and
 * a profile's runs outlive the store's entries. */
#include "tables_xsec.h"

#include <libpq-fe.h>
#include <string.h>

#include "cache.h"
#include "unit.h"

/* TABLES_XSEC_SQL's 13 columns; rows (metric, period, authority, value). */
static PGresult *rows_of(const char *const (*rows)[4], int n)
{
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc att[13];
    static char names[13][4];
    memset(att, 0, sizeof att);
    for (int i = 0; i < 13; i++) {
        names[i][0] = (char)('a' + i);
        att[i].name = names[i];
        att[i].format = 0;
        att[i].typid = 25;
        att[i].typlen = -1;
        att[i].atttypmod = -1;
    }
    if (!res || !PQsetResultAttrs(res, 13, att))
        return NULL;
    for (int j = 0; j < n; j++) {
        const char *v[13] = {"x", rows[j][0], rows[j][1], rows[j][2], "E12", NULL, rows[j][3],
                             NULL, "true", NULL, "", "false", NULL};
        for (int c = 0; c < 13; c++)
            if (!PQsetvalue(res, j, c, (char *)(v[c] ? v[c] : ""), v[c] ? (int)strlen(v[c]) : -1))
                return NULL;
    }
    return res;
}

static void test_held_until_its_change(void)
{
    struct cache *c = cache_new(16);
    struct xsec_store *s = xsec_store_new(100);
    CHECK(c && s);
    static const char *const rows[][4] = {
        {"ehcp_caseload", "2025", "E1", "10"}, {"ehcp_caseload", "2025", "E2", "20"},
        {"new_plans_issued", "2024", "E1", "3"}};
    PGresult *res = rows_of(rows, 3);
    CHECK(res != NULL);
    const char *metrics[] = {"ehcp_caseload", "new_plans_issued", "requests_received"};
    const char *periods[] = {"2025", "2024", "2024"};
    struct xsec_run runs[3];
    memset(runs, 0, sizeof runs);
    CHECK(xsec_store_put(s, c, res, metrics, periods, 3, cache_generation(c), runs) == 0);
    PQclear(res);   /* the store copied it */
    CHECK(runs[0].j1 - runs[0].j0 == 2);
    CHECK(runs[1].j1 - runs[1].j0 == 1);
    CHECK(runs[2].j1 == runs[2].j0);            /* no rows: kept as empty */
    CHECK(strcmp(PQgetvalue(runs[0].res, runs[0].j0 + 1, 6), "20") == 0);
    struct xsec_run r;
    CHECK(xsec_store_get(s, c, "ehcp_caseload", "2025", &r) == 1);
    CHECK(r.j1 - r.j0 == 2);
    xsec_run_release(&r);
    CHECK(xsec_store_get(s, c, "requests_received", "2024", &r) == 1);
    xsec_run_release(&r);
    CHECK(xsec_store_get(s, c, "ehcp_caseload", "2024", &r) == 0);
    /* A change of the caseload in 2025 (any authority): that one is read again. */
    const char *m[] = {"ehcp_caseload"};
    struct cache_change ch = {.flags = CACHE_DEP_ANY_DATA, .authority = "E9", .period = "2025",
                              .metrics = m, .nmetrics = 1, .hidden = 1};
    cache_change(c, &ch);
    CHECK(xsec_store_get(s, c, "ehcp_caseload", "2025", &r) == 0);
    CHECK(xsec_store_get(s, c, "new_plans_issued", "2024", &r) == 1);
    xsec_run_release(&r);
    /* The profile's runs still hold their rows. */
    CHECK(strcmp(PQgetvalue(runs[0].res, runs[0].j0, 3), "E1") == 0);
    /* Many changes of other figures: judged one by one, it stays. */
    for (int i = 0; i < 3 * CACHE_CHANGE_LOG; i++) {
        ch.period = "2019";
        cache_change(c, &ch);
        CHECK(xsec_store_get(s, c, "new_plans_issued", "2024", &r) == 1);
        xsec_run_release(&r);
    }
    /* A full invalidation: nothing is held. */
    cache_invalidate(c);
    CHECK(xsec_store_get(s, c, "new_plans_issued", "2024", &r) == 0);
    for (int i = 0; i < 3; i++)
        xsec_run_release(&runs[i]);
    xsec_store_free(s);
    cache_free(c);
}

static void test_changed_while_read_is_not_kept(void)
{
    struct cache *c = cache_new(16);
    struct xsec_store *s = xsec_store_new(2);
    static const char *const rows[][4] = {{"ehcp_caseload", "2025", "E1", "10"},
                                          {"new_plans_issued", "2025", "E1", "4"}};
    PGresult *res = rows_of(rows, 2);
    CHECK(c && s && res);
    uint64_t sent = cache_generation(c);
    const char *m[] = {"ehcp_caseload"};
    struct cache_change ch = {.authority = "E1", .period = "2025", .metrics = m, .nmetrics = 1};
    cache_change(c, &ch);   /* arrives while the query runs */
    const char *metrics[] = {"ehcp_caseload", "new_plans_issued"};
    const char *periods[] = {"2025", "2025"};
    struct xsec_run runs[2];
    memset(runs, 0, sizeof runs);
    CHECK(xsec_store_put(s, c, res, metrics, periods, 2, sent, runs) == 0);
    CHECK(runs[0].res != NULL && runs[0].j1 - runs[0].j0 == 1);   /* served */
    struct xsec_run r;
    CHECK(xsec_store_get(s, c, "ehcp_caseload", "2025", &r) == 0);     /* not kept */
    CHECK(xsec_store_get(s, c, "new_plans_issued", "2025", &r) == 1);  /* untouched: kept */
    xsec_run_release(&r);
    /* Bounded: a put beyond max empties the store first. */
    for (int i = 0; i < 2; i++)
        xsec_run_release(&runs[i]);
    CHECK(xsec_store_put(s, c, res, metrics, periods, 2, cache_generation(c), runs) == 0);
    size_t n;
    uint64_t hits, misses;
    xsec_store_stats(s, &n, &hits, &misses);
    CHECK(n == 2);
    PQclear(res);
    for (int i = 0; i < 2; i++)
        xsec_run_release(&runs[i]);
    xsec_store_free(s);
    cache_free(c);
}

int main(void)
{
    RUN(test_held_until_its_change);
    RUN(test_changed_while_read_is_not_kept);
    return UNIT_DONE();
}

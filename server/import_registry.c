/*
 * The authority register of an import run: see include/import_registry.h.
 */
#include "import_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_parse.h"

void registry_free(struct registry *r)
{
    free(r->auth);
    free(r->alias);
    free(r->ref);
    PQclear(r->metrics);
    free(r->src);
    memset(r, 0, sizeof *r);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Records a release (source, its publication date or "") in r. */
int registry_add_source(struct registry *r, const char *source, const char *published)
{
    for (size_t i = 0; i < r->nsrc; i++)
        if (strcmp(r->src[i].source, source) == 0)
            return 0;
    if (r->nsrc == r->capsrc) {
        size_t cap = r->capsrc ? r->capsrc * 2 : 16;
        struct reg_source *g = realloc(r->src, cap * sizeof *g);
        if (!g)
            return -1;
        r->src = g;
        r->capsrc = cap;
    }
    copy_str(r->src[r->nsrc].source, sizeof r->src[r->nsrc].source, source);
    copy_str(r->src[r->nsrc].published, sizeof r->src[r->nsrc].published, published);
    r->nsrc++;
    return 0;
}

static struct reg_authority *registry_add(struct registry *r)
{
    if (r->nauth == r->capauth) {
        size_t cap = r->capauth ? r->capauth * 2 : 256;
        struct reg_authority *n = realloc(r->auth, cap * sizeof *n);
        if (!n)
            return NULL;
        r->auth = n;
        r->capauth = cap;
    }
    struct reg_authority *a = &r->auth[r->nauth++];
    memset(a, 0, sizeof *a);
    return a;
}


/* Fills r from REGISTRY_SQL's results: authorities, aliases, references,
 * the releases, and keeps the catalogue's result (r owns it after). */
int registry_fill(struct registry *r, PGresult *res[REGISTRY_NRES], char *err, size_t errlen)
{
    r->metrics = res[3];
    res[3] = NULL;
    for (int i = 0; i < PQntuples(res[4]); i++)
        if (registry_add_source(r, PQgetvalue(res[4], i, 0),
                                PQgetisnull(res[4], i, 1) ? "" : PQgetvalue(res[4], i, 1)) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    for (int i = 0; i < PQntuples(res[0]); i++) {
        struct reg_authority *a = registry_add(r);
        if (!a) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        copy_str(a->old_code, sizeof a->old_code, PQgetvalue(res[0], i, 0));
        copy_str(a->code, sizeof a->code, PQgetvalue(res[0], i, 1));
        copy_str(a->name, sizeof a->name, PQgetvalue(res[0], i, 2));
        copy_str(a->valid_from, sizeof a->valid_from, PQgetvalue(res[0], i, 3));
        copy_str(a->valid_to, sizeof a->valid_to, PQgetvalue(res[0], i, 4));
        copy_str(a->region_code, sizeof a->region_code, PQgetvalue(res[0], i, 5));
        copy_str(a->region_name, sizeof a->region_name, PQgetvalue(res[0], i, 6));
    }
    r->nalias = (size_t)PQntuples(res[1]);
    r->alias = calloc(r->nalias ? r->nalias : 1, sizeof *r->alias);
    r->nref = (size_t)PQntuples(res[2]);
    r->ref = calloc(r->nref ? r->nref : 1, sizeof *r->ref);
    if (!r->alias || !r->ref) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < r->nalias; i++) {
        copy_str(r->alias[i].code, sizeof r->alias[i].code, PQgetvalue(res[1], (int)i, 0));
        copy_str(r->alias[i].current, sizeof r->alias[i].current, PQgetvalue(res[1], (int)i, 1));
        copy_str(r->alias[i].old_code, sizeof r->alias[i].old_code, PQgetvalue(res[1], (int)i, 2));
    }
    for (size_t i = 0; i < r->nref; i++) {
        copy_str(r->ref[i].old_code, sizeof r->ref[i].old_code, PQgetvalue(res[2], (int)i, 0));
        copy_str(r->ref[i].code, sizeof r->ref[i].code, PQgetvalue(res[2], (int)i, 1));
    }
    return 0;
}

struct reg_authority *registry_by_old(struct registry *r, const char *old_code)
{
    for (size_t i = 0; i < r->nauth; i++)
        if (strcmp(r->auth[i].old_code, old_code) == 0)
            return &r->auth[i];
    return NULL;
}

struct reg_authority *registry_by_code(struct registry *r, const char *code)
{
    for (size_t i = 0; i < r->nauth; i++)
        if (strcmp(r->auth[i].code, code) == 0)
            return &r->auth[i];
    return NULL;
}

/* Resolves a SEN2 row's (old code, ONS code) to the authority's current ONS
 * code, adding the authority when the register does not know either code.
 * *aliased is set when the row used a superseded code.  Returns the current
 * code (borrowed from the register) or NULL with the reason in err. */
const char *registry_resolve(struct registry *r, const char *old_code, const char *code,
                             const char *name, const char *region_code, const char *region_name,
                             bool *aliased, char *err, size_t errlen)
{
    *aliased = false;
    if (!import_is_old_la_code(old_code)) {
        snprintf(err, errlen, "unknown authority code: old_la_code \"%.20s\" is not 3 digits",
                 old_code);
        return NULL;
    }
    if (!import_is_new_la_code(code)) {
        snprintf(err, errlen,
                 "unknown authority code: new_la_code \"%.20s\" is not an English local authority "
                 "code (E06, E08, E09, E10 or E11 and 6 digits)",
                 code);
        return NULL;
    }
    for (size_t i = 0; i < r->nalias; i++)
        if (strcmp(r->alias[i].code, code) == 0) {
            if (strcmp(r->alias[i].old_code, old_code) != 0) {
                snprintf(err, errlen,
                         "unknown authority code: %s is a superseded code of authority %s, not %s",
                         code, r->alias[i].old_code, old_code);
                return NULL;
            }
            code = r->alias[i].current;
            *aliased = true;
            break;
        }
    for (size_t i = 0; i < r->nref; i++)
        if ((strcmp(r->ref[i].old_code, old_code) == 0) != (strcmp(r->ref[i].code, code) == 0)) {
            snprintf(err, errlen,
                     "unknown authority code: %s / %s contradicts the boundary-change register "
                     "(%s is %s)",
                     old_code, code, r->ref[i].old_code, r->ref[i].code);
            return NULL;
        }
    struct reg_authority *a = registry_by_old(r, old_code);
    if (a) {
        if (strcmp(a->code, code) != 0) {
            snprintf(err, errlen,
                     "unknown authority code: authority %s is %s in the database, the file says %s",
                     old_code, a->code, code);
            return NULL;
        }
        return a->code;
    }
    a = registry_by_code(r, code);
    if (a) {
        snprintf(err, errlen,
                 "unknown authority code: %s is authority %s in the database, the file says %s",
                 code, a->old_code, old_code);
        return NULL;
    }
    if (!name[0] || strlen(name) > 200) {
        snprintf(err, errlen, "authority %s has no usable la_name", old_code);
        return NULL;
    }
    if (!import_is_region_code(region_code) || !region_name[0] || strlen(region_name) > 100) {
        snprintf(err, errlen, "authority %s has no usable region_code / region_name (\"%.20s\")",
                 old_code, region_code);
        return NULL;
    }
    a = registry_add(r);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    copy_str(a->old_code, sizeof a->old_code, old_code);
    copy_str(a->code, sizeof a->code, code);
    copy_str(a->name, sizeof a->name, name);
    copy_str(a->region_code, sizeof a->region_code, region_code);
    copy_str(a->region_name, sizeof a->region_name, region_name);
    a->from_file = true;
    return a->code;
}

/* The DSG file names authorities, so the name is matched exactly among the
 * authorities that existed on the first day of the financial year (this
 * tells Dorset 835, gone 2019-04-01, from Dorset 838). */
struct reg_authority *registry_by_name_on(struct registry *r, const char *name, const char *day,
                                          int *matches)
{
    struct reg_authority *found = NULL;
    *matches = 0;
    for (size_t i = 0; i < r->nauth; i++) {
        struct reg_authority *a = &r->auth[i];
        if (strcmp(a->name, name) != 0)
            continue;
        if (a->valid_from[0] && strcmp(day, a->valid_from) < 0)
            continue;
        if (a->valid_to[0] && strcmp(day, a->valid_to) >= 0)
            continue;
        found = a;
        (*matches)++;
    }
    return found;
}

/* Whether source (an observation's) is an imported release published after
 * date (YYYY-MM-DD; ISO dates compare as text).  Submitted figures have no
 * import source: never. */
bool registry_source_published_after(const struct registry *reg, const char *source,
                                     const char *date)
{
    for (size_t k = 0; k < reg->nsrc; k++)
        if (strcmp(reg->src[k].source, source) == 0)
            return reg->src[k].published[0] && strcmp(date, reg->src[k].published) < 0;
    return false;
}


static const char *metric_field(const struct registry *r, const char *metric, int col)
{
    if (!r->metrics)
        return NULL;
    for (int k = 0; k < PQntuples(r->metrics); k++)
        if (strcmp(PQgetvalue(r->metrics, k, 0), metric) == 0)
            return PQgetisnull(r->metrics, k, col) ? NULL : PQgetvalue(r->metrics, k, col);
    return NULL;
}

const char *registry_metric_period(const struct registry *r, const char *metric)
{
    return metric_field(r, metric, 1);
}

const char *registry_metric_unit(const struct registry *r, const char *metric)
{
    return metric_field(r, metric, 2);
}

/*
 * The authority register of one import run (server/import_registry.c): the
 * authorities, superseded codes, boundary-change reference codes, metric
 * catalogue and imported releases as the database knows them when a file's
 * transaction starts, plus what the file adds.  Codes are resolved in C so
 * that an error can name the line.  CLI only (libpq results, no I/O of its
 * own).
 */
#ifndef SENDBENCH_IMPORT_REGISTRY_H
#define SENDBENCH_IMPORT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>

struct reg_authority {
    char old_code[4];
    char code[10];
    char name[201];
    char valid_from[11];    /* "" when open */
    char valid_to[11];
    bool from_file;         /* added by the file being imported */
    char region_code[10];
    char region_name[101];
};

struct reg_alias {
    char code[10], current[10], old_code[4];
};

struct reg_reference {
    char old_code[4], code[10];
};

struct reg_source {
    char source[201];
    char published[11];     /* "" when unknown */
};

/* What one import run knows of the database: read with the first file's
 * BEGIN, and again after a file that changed the authorities.  The run
 * holds the import lock for its whole session, so nothing else changes
 * these tables between its files. */
struct registry {
    struct reg_authority *auth;
    size_t nauth, capauth;
    struct reg_alias *alias;
    size_t nalias;
    struct reg_reference *ref;
    size_t nref;
    PGresult *metrics;      /* id, annual_period, unit: the metric catalogue */
    struct reg_source *src; /* the releases imported before */
    size_t nsrc, capsrc;
    bool loaded;            /* holds the database's state (import_file.c) */
};

/* The registry's queries, sent with a file's BEGIN in one round trip. */
#define REGISTRY_SQL                                                                 \
    "SELECT old_la_code, new_la_code, name, coalesce(valid_from::text, ''),"          \
    " coalesce(valid_to::text, ''), region_code, region_name"                         \
    " FROM authorities ORDER BY old_la_code;"                                         \
    " SELECT code, current_code, old_la_code FROM authority_code_aliases;"            \
    " SELECT old_la_code, new_la_code FROM authority_reference;"                      \
    " SELECT id, annual_period, unit FROM metrics;"                                   \
    " SELECT source, to_char(published, 'YYYY-MM-DD') FROM import_sources"
#define REGISTRY_NRES 5

void registry_free(struct registry *r);

/* Fills r from REGISTRY_SQL's results (r takes the catalogue's result and
 * sets res[3] to NULL).  0, or -1 with the reason in err. */
int registry_fill(struct registry *r, PGresult *res[REGISTRY_NRES], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Records a release (source, its publication date or "").  0, -1 out of memory. */
int registry_add_source(struct registry *r, const char *source, const char *published)
    __attribute__((warn_unused_result));

/* Whether source (an observation's) is an imported release published after
 * date (YYYY-MM-DD).  Submitted figures have no import source: never. */
bool registry_source_published_after(const struct registry *r, const char *source,
                                     const char *date);

struct reg_authority *registry_by_old(struct registry *r, const char *old_code);
struct reg_authority *registry_by_code(struct registry *r, const char *code);

/* The authority named name that existed on day (YYYY-MM-DD); *matches
 * counts them (0: none, >1: ambiguous, the last is returned). */
struct reg_authority *registry_by_name_on(struct registry *r, const char *name, const char *day,
                                          int *matches);

/* Resolves a SEN2 row's (old code, ONS code) to the authority's current ONS
 * code, adding the authority (from_file) when the register knows neither
 * code.  *aliased is set when the row used a superseded code.  Returns the
 * current code (borrowed from the register) or NULL with the reason in err. */
const char *registry_resolve(struct registry *r, const char *old_code, const char *code,
                             const char *name, const char *region_code, const char *region_name,
                             bool *aliased, char *err, size_t errlen);

/* The catalogue's annual period kind and unit of metric, or NULL. */
const char *registry_metric_period(const struct registry *r, const char *metric);
const char *registry_metric_unit(const struct registry *r, const char *metric);

#endif

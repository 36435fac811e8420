/*
 * The High Needs trajectory for the server: the one query that gathers an
 * authority's inputs, the conversion of its answer into the projection's
 * struct hn_inputs (forecasts/hn_projection.c does the arithmetic) and
 * the renderers (JSON, CSV) every caller uses: the API, the web page, the
 * evidence pack and the bench, in server/high_needs.c; the scenario levers
 * read from JSON or a form, in server/high_needs_levers.c.
 *
 * No libevent here except the evbuffer the CSV is written into.
 */
#ifndef SENDBENCH_HIGH_NEEDS_H
#define SENDBENCH_HIGH_NEEDS_H

#include <event2/buffer.h>
#include <jansson.h>
#include <stddef.h>

#include "hn_projection.h"

/* The last financial year of every trajectory: 2029-30, the end year the
 * DfE's DSG deficit management plans are asked about. */
#define HIGH_NEEDS_END_YEAR 2029

/* The query: $1 authority (ONS code or DfE number), $2 who asks: "*" for
 * an admin, a council's ONS code, "" for anyone else (the authority's own
 * unpublished figures are used only for itself and admins), $3 a scenario
 * id or NULL.  One row, one column: a JSON document (NULL: no authority)
 * with, besides the inputs, "scenario" (the one asked for, whoever may see
 * it: the caller decides) and "scenarios" (the latest version of each the
 * caller may see, newest first). */
extern const char HIGH_NEEDS_INPUTS_SQL[];

/* That query's one document out of its result (new reference), NULL when
 * there is no such authority (or the answer cannot be read). */
struct pg_result;
json_t *high_needs_reply_doc(const struct pg_result *res);

/* Whether the caller may see the document's scenario: it is the
 * authority's own (the query's "code"), and the caller is its council or an
 * admin ("own") unless the council shared it.  0 when there is none. */
int high_needs_scenario_visible(const json_t *doc);

struct high_needs_view {
    char code[12], old_code[4], name[128];
    int own;                        /* the authority's unpublished figures used */
    int has_placements;
    char caseload_model[64];        /* the forecasting engine's model name */
    int caseload_from_hnbt;         /* no SEN2 caseload at the HNBT year */
    int lever_years_clamped;
    /* the scenario, when one was asked for */
    int has_scenario;
    long long scenario_id;
    int scenario_version, scenario_shared;
    char scenario_name[128], scenario_authority[12], scenario_created[40];
    /* costs: the HNBT's (own or neighbours') each setting would have, and
     * the period of the council's submitted cost used instead ("" none) */
    double hnbt_cost[HN_N_SETTINGS];
    int hnbt_cost_source[HN_N_SETTINGS];
    char cost_period[HN_N_SETTINGS][16];
};

/* The SEN2 series setting s's placements grow with ("plans_mainstream"...). */
const char *high_needs_setting_metric(int s);
/* A cost source (enum hn_cost_source) in words for pages. */
const char *high_needs_cost_source_words(int source);

enum high_needs_status {
    HIGH_NEEDS_OK = 0,
    HIGH_NEEDS_NO_AUTHORITY,     /* 404 */
    HIGH_NEEDS_NO_HNBT,          /* 404: no placements for this authority */
    HIGH_NEEDS_NO_FORECAST,      /* 503: the caseload forecast is not fitted yet */
    HIGH_NEEDS_NO_ALLOCATION,    /* 404 */
    HIGH_NEEDS_BAD               /* unusable document */
};

/* The query's document built from a profile document with history
 * (tables_page_profile: published figures, neighbours' medians, stored
 * forecasts) for the evidence pack; new reference. */
json_t *high_needs_doc_from_profile(const json_t *profile);

/* The evidence pack's High Needs plan section (server/evidence_high_needs.c):
 * the unmitigated trajectory with its sentence, fan and assumptions, from
 * the profile document; with plan (the pack's tables_page_arg under
 * ?scenario=ID, else NULL) the trajectory query's inputs for the caller and
 * the saved scenario beside it.  0, or -1 out of memory. */
struct evbuffer;
int high_needs_evidence_section(struct evbuffer *b, const json_t *profile, const void *plan)
    __attribute__((warn_unused_result));

/* The scenario pack's extra download rows (plan as above; nothing when
 * NULL): section "high_needs_plan", per financial year the unmitigated
 * spend, allocation, cumulative balance and its 80% bounds, and the
 * scenario's spend and cumulative balance, in the pack's eleven columns. */
struct sheet;
void high_needs_evidence_rows(struct sheet *s, const void *plan);

/* GET /api/v1/authorities/{code}/evidence?scenario=ID: the whole evidence
 * pack drawn by page (HTML, CSV or XLSX) with that scenario's High Needs
 * plan, for the scenario's council (token or session) or an admin; anyone
 * when it is shared; 401 anonymous, 404 another council.  Ends r. */
struct request;
struct tables_page;
/* The inputs query's document for a page (new reference), or NULL after
 * answering: the database's failure, or the 404 page of an unknown
 * authority (server/web_high_needs.c; the page and the pack both read it). */
struct db_reply;
json_t *high_needs_page_doc(struct request *r, const struct db_reply *reply);
void high_needs_evidence_scenario(struct request *r, const struct tables_page *page);
/* The pack of a council signed in (or with its token), or an admin,
 * without a scenario: its High Needs section from its own submitted
 * figures too; for another authority's pack, the pack as anyone sees it. */
void high_needs_evidence_own(struct request *r, const struct tables_page *page);

/* Fills in (end year HIGH_NEEDS_END_YEAR) and view from the query's
 * document.  Returns a status; reason gets a sentence for the client. */
int high_needs_inputs(const json_t *doc, struct hn_inputs *in, struct high_needs_view *view,
                      char *reason, size_t reasonlen) __attribute__((warn_unused_result));

/* ---- server/high_needs_levers.c ---- */
/* The scenario's levers (borrowed JSON object) into lv, starting from the
 * defaults.  Every problem (unknown lever, wrong type, out of range) is
 * appended to details as {"field","rule","message"}; returns their number. */
int high_needs_levers_parse(const json_t *levers, struct hn_levers *lv, json_t *details);

/* The levers, in the API's names, with a line of help for forms. */
size_t high_needs_lever_count(void);
const char *high_needs_lever_name(size_t i);
const char *high_needs_lever_help(size_t i);
/* The lever i of lv as form text ("" when unset or NAN). */
int high_needs_lever_text(const struct hn_levers *lv, size_t i, char *out, size_t outlen);
/* A levers object (new reference) from text values (a form, a query):
 * get(arg, name) returns the text or NULL; empty text is omitted, numbers
 * become numbers, anything else stays text for high_needs_levers_parse to
 * name. */
json_t *high_needs_levers_from_text(const char *(*get)(void *arg, const char *name), void *arg);

/* Lever years before the first projected year act from that year (the
 * projection starts after the latest known balance): sets
 * view->lever_years_clamped when it moved one. */
void high_needs_levers_fit(const struct hn_inputs *in, struct hn_levers *lv,
                           struct high_needs_view *view);

/* The levers as JSON (new reference), years written "2026-27". */
json_t *high_needs_levers_json(const struct hn_levers *lv);

/* The trajectory document (new reference).  unmit may be NULL (the result
 * is the unmitigated one) or the unmitigated result beside a scenario's. */
json_t *high_needs_json(const struct high_needs_view *view, const struct hn_inputs *in,
                        const struct hn_levers *lv, const struct hn_result *res,
                        const struct hn_result *unmit);

/* The trajectory's download rows: one per financial year, header first
 * (include/sheet.h).  Caller frees; NULL when out of memory. */
struct sheet;
struct sheet *high_needs_sheet(const struct hn_result *res);

/* Those rows as CSV (CRLF).  0, or -1 out of memory. */
int high_needs_csv(struct evbuffer *b, const struct hn_result *res)
    __attribute__((warn_unused_result));

#endif

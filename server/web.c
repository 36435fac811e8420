/* Page shell, errors and the one-query-per-page helper of the web pages. */
#include "web.h"

#include <event2/buffer.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "html.h"
#include "log.h"

/* One stylesheet for every page, inline so that a page (and a saved or
 * printed evidence pack) needs nothing else; the CSP allows inline styles
 * and nothing external. */
static const char STYLE[] =
    "*{box-sizing:border-box}"
    "body{font-family:Arial,Helvetica,sans-serif;margin:0;color:#0b0c0c;background:#fff;line-height:1.45}"
    "a{color:#1d3f8f}a:visited{color:#4c2c92}"
    "a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #ffbf47;outline-offset:0;background:#ffbf47;color:#0b0c0c}"
    ".skip{position:absolute;left:-9999px;top:0}.skip:focus{left:8px;top:8px;padding:6px;z-index:9}"
    "header.site{background:#0b2259;color:#fff;padding:10px 20px;display:flex;flex-wrap:wrap;gap:16px;align-items:center}"
    "header.site a{color:#fff;font-weight:bold;text-decoration:none;font-size:1.2em}"
    "header.site a:focus{color:#0b0c0c}"
    "form.search{display:flex;flex-wrap:wrap;gap:6px;align-items:center;max-width:100%}"
    "form.search input{font-size:1em;padding:5px;border:2px solid #0b0c0c;width:16em;max-width:100%}"
    "button{font-size:1em;padding:5px 12px;background:#00703c;color:#fff;border:0;cursor:pointer}"
    "main{max-width:1100px;margin:0 auto;padding:12px 20px 40px}"
    "h1{font-size:1.8em;margin:.4em 0}h2{font-size:1.35em;margin-top:1.6em;border-bottom:2px solid #b1b4b6}"
    "table{border-collapse:collapse;margin:10px 0;width:100%}"
    "caption{text-align:left;font-weight:bold;padding:4px 0}"
    "th,td{border-bottom:1px solid #b1b4b6;padding:5px 7px;text-align:left;vertical-align:top}"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.num{white-space:nowrap}"
    /* a small-print line under a figure wraps, so that it never widens its column */
    "td.num .source{white-space:normal;display:inline-block;min-width:9em}"

    "tr.focus{background:#fff2b3;font-weight:bold}"
    ".band{display:inline-block;white-space:nowrap;padding:1px 6px;border-radius:3px;font-weight:bold;border:1px solid #0b0c0c}"
    ".band-A{background:#cce2d8;color:#005a30}.band-B{background:#e5f0c4;color:#3d4d00}"
    ".band-C{background:#fce8d5;color:#6e3619}.band-D{background:#f4cdc6;color:#942514}"
    ".band-none{background:#f3f2f1;color:#0b0c0c}"
    "figure{margin:16px 0;break-inside:avoid;page-break-inside:avoid}"
    "figcaption{font-size:.9em;color:#505a5f}"
    "svg.chart{max-width:100%;height:auto;display:block}"
    ".note{background:#f3f2f1;border-left:5px solid #1d3f8f;padding:8px 12px}"
    ".source{font-size:.85em;color:#505a5f}"
    "footer{border-top:2px solid #1d3f8f;margin-top:30px;padding:12px 20px;font-size:.85em;max-width:1100px;margin-left:auto;margin-right:auto}"
    "nav.links a{margin-right:14px}"
    "ul.results li{margin:4px 0}"
    "nav.who{background:#f3f2f1;padding:6px 20px;display:flex;flex-wrap:wrap;gap:14px;align-items:center}"
    "form.inline{display:inline;margin:0}button.secondary{background:#505a5f}"
    "form.stack .field{margin:0 0 14px}form.stack label,fieldset label{display:block;font-weight:bold;margin-bottom:3px}"
    "form.stack input,form.stack textarea,form.stack select{font-size:1em;padding:5px;border:2px solid #0b0c0c;min-width:18em;max-width:100%}"
    ".hint{display:block;color:#505a5f;font-size:.9em;margin-bottom:3px}"
    ".field-error{border-left:5px solid #d4351c;padding-left:10px}.field-error .msg{color:#d4351c;font-weight:bold;display:block}"
    ".field-query{border-left:5px solid #f47738;padding-left:10px}.field-query .msg{color:#6e3619;font-weight:bold;display:block}"
    ".error-summary{border:4px solid #d4351c;padding:10px 16px;margin:12px 0}.error-summary h2{margin-top:0;border:0}"
    ".query-summary{border:4px solid #f47738;padding:10px 16px;margin:12px 0}.query-summary h2{margin-top:0;border:0}"
    "fieldset{border:1px solid #b1b4b6;margin:0 0 18px;padding:10px 14px}legend{font-weight:bold;font-size:1.15em}"
    ".actions{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}"
    ".state{display:inline-block;padding:1px 6px;border:1px solid #0b0c0c;border-radius:3px}"
    ".state-late{background:#f4cdc6}.state-approved{background:#cce2d8}.state-awaiting_approval{background:#fce8d5}"
    "section.pack{break-before:page;page-break-before:always}"
    "section.pack:first-of-type{break-before:auto;page-break-before:auto}"
    /* on a phone a wide table scrolls inside its own box, not the page */
    "@media screen and (max-width:700px){table{display:block;overflow-x:auto;max-width:100%}}"
    "@media print{@page{size:A4;margin:15mm}"
    " header.site,.skip,form,nav.links,.noprint{display:none}"
    " body{font-size:10.5pt}main{max-width:none;padding:0}"
    " svg.chart{max-height:120mm;width:100%}"
    " figure,table,tr,.note{break-inside:avoid;page-break-inside:avoid}"
    " h2{break-after:avoid;page-break-after:avoid}"
    " a{color:#0b0c0c;text-decoration:none}}";

int web_put(struct evbuffer *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = evbuffer_add_vprintf(b, fmt, ap);
    va_end(ap);
    return rc < 0 ? -1 : 0;
}

const char *web_str(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

double web_num(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

int web_page_begin(struct evbuffer *b, const char *title, const char *q)
{
    if (web_put(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<link rel=\"icon\" href=\"data:,\">"
                   "<title>") != 0 ||
        html_escape(b, title) != 0 ||
        web_put(b, " - sendbench</title><style>%s</style></head><body>"
                   "<a class=\"skip\" href=\"#main\">Skip to main content</a>"
                   "<header class=\"site\"><a href=\"/\">sendbench</a>"
                   "<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">"
                   "<label for=\"q\">Find an authority</label>"
                   "<input id=\"q\" name=\"q\" type=\"search\" maxlength=\"100\" "
                   "placeholder=\"name, ONS code or DfE number\" value=\"", STYLE) != 0 ||
        html_escape(b, q ? q : "") != 0 ||
        web_put(b, "\"><button type=\"submit\">Search</button></form></header>"
                   "<main id=\"main\" tabindex=\"-1\">") != 0)
        return -1;
    return 0;
}

int web_page_end(struct evbuffer *b)
{
    return web_put(b, "</main><footer><p id=\"ogl\">" WEB_OGL_LINE ". Figures are the "
                      "Department for Education's published SEN2, LAIT and high needs "
                      "statistics, and councils' submitted quarterly figures where marked; "
                      "see each chart's source line.</p></footer></body></html>\n");
}

char *web_page_take(struct evbuffer *b, int bad, size_t *len)
{
    char *s = NULL;
    if (!b)
        return NULL;
    size_t n = evbuffer_get_length(b);
    if (!bad && (s = malloc(n + 1)) != NULL) {
        if (evbuffer_remove(b, s, n) != (int)n) {
            free(s);
            s = NULL;
        } else {
            s[n] = '\0';
            *len = n;
        }
    }
    evbuffer_free(b);
    return s;
}

void web_table_error(struct request *r, int status, const char *field, const char *message)
{
    const char *code = status == 404 ? "not_found" : "bad_parameter";
    const char *rule = message;
    if (strcmp(field, "metric") == 0 && status == 404) {
        code = "unknown_metric";
        rule = "known metric id";
    } else if (strcmp(field, "authority") == 0 && status == 404) {
        code = "unknown_authority";
        rule = "ONS code or DfE number";
    } else if (strcmp(field, "period") == 0 && status == 404) {
        code = "no_data";
        rule = "a period with figures";
    }
    web_reply_error(r, status, code, message, field, rule);
}

void web_reply_page(struct request *r, struct evbuffer *b)
{
    if (!b) {
        http_reply_oom(r);
        return;
    }
    http_add_header(r, "Cache-Control", "public, max-age=60");
    http_reply_buffer(r, 200, "text/html; charset=utf-8", b);
    evbuffer_free(b);
}

void web_reply_error(struct request *r, int status, const char *code, const char *message,
                     const char *field, const char *rule)
{
    const char *accept = http_header(r, "Accept");
    if (!accept || !strstr(accept, "text/html")) {
        json_t *details = field ? json_pack("[{s:s, s:s}]", "field", field, "rule",
                                            rule ? rule : message)
                                : NULL;
        http_reply_error(r, status, code, message, details);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (!b || web_page_begin(b, "Not available", NULL) != 0 ||
        web_put(b, "<h1>%s</h1><p class=\"note\" data-error-code=\"", status == 404 ? "Not found"
                                                                     : "Request not valid") != 0 ||
        html_escape(b, code) != 0 || web_put(b, "\">") != 0 || html_escape(b, message) != 0 ||
        (field && (web_put(b, " (parameter <code>") != 0 || html_escape(b, field) != 0 ||
                   web_put(b, "</code>)") != 0)) ||
        web_put(b, "</p><p><a href=\"/\">Search for an authority</a></p>") != 0 ||
        web_page_end(b) != 0) {
        if (b)
            evbuffer_free(b);
        http_reply_oom(r);
        return;
    }
    http_reply_buffer(r, status, "text/html; charset=utf-8", b);
    evbuffer_free(b);
}

struct web_q {
    web_doc_fn fn;
    const char *not_found;
};

static void doc_done(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct web_q *st = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    if (PQntuples(reply->res) < 1 || PQgetisnull(reply->res, 0, 0)) {
        web_reply_error(r, 404, "not_found", st->not_found, NULL, NULL);
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(PQgetvalue(reply->res, 0, 0),
                             (size_t)PQgetlength(reply->res, 0, 0), 0, &jerr);
    if (!doc) {
        log_msg(LOG_ERROR, r->id, "page query gave unreadable JSON: %s", jerr.text);
        http_reply_error(r, 500, "internal_error", "the server could not build the page", NULL);
        return;
    }
    st->fn(r, doc);
    json_decref(doc);
}

void web_query_doc(struct request *r, const char *sql, int nparams, const char *const *params,
                   web_doc_fn fn, const char *not_found)
{
    struct web_q *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return;
    }
    st->fn = fn;
    st->not_found = not_found;
    r->state = st;
    r->state_free = free;
    if (db_pool_query(r->app->pool, sql, nparams, params, doc_done, r) != 0)
        http_reply_oom(r);
}

int web_own_banner(struct evbuffer *b, const json_t *doc, const char *published_only_href)
{
    const char *vis = web_str(doc, "visibility");
    const char *code = web_str(json_object_get(doc, "authority"), "code");
    if (!vis || !code || strncmp(vis, "council:", 8) != 0 || strcmp(vis + 8, code) != 0)
        return 0;
    if (web_put(b, "<p class=\"note own\" id=\"own-banner\"><strong>This page includes your "
                   "unpublished figures &mdash; not for circulation.</strong>") != 0)
        return -1;
    if (published_only_href &&
        (web_put(b, " <a class=\"noprint\" id=\"published-only\" href=\"") != 0 ||
         html_escape(b, published_only_href) != 0 ||
         web_put(b, "\">Print with published figures only</a>") != 0))
        return -1;
    return web_put(b, "</p>");
}

int web_source_text(struct evbuffer *b, const json_t *s)
{
    const char *release = web_str(s, "release"), *published = web_str(s, "published");
    const char *src = web_str(s, "source");
    size_t rl = release ? strlen(release) : 0;
    /* A source is recorded as "RELEASE: FILE": naming the release again
     * after it ("DfE SEN2 2025: newplans.csv, DfE SEN2 2025") says nothing. */
    int named = release && src && strncmp(src, release, rl) == 0 && (!src[rl] || src[rl] == ':');
    if (html_escape(b, src) != 0)
        return -1;
    if (release && !named && (web_put(b, ", ") != 0 || html_escape(b, release) != 0))
        return -1;
    if (published)
        return web_put(b, " (published ") != 0 || html_escape(b, published) != 0 ||
                       web_put(b, ")") != 0 ? -1 : 0;
    return web_put(b, " (publication date not recorded)");
}

int web_chart_period(const json_t *metric, const char *period)
{
    const char *ap = web_str(metric, "annual_period");
    if (!period || strstr(period, " Q"))
        return 0;   /* quarters are another frequency: never on an annual axis */
    return !(ap && strcmp(ap, "calendar_year") == 0 && strcmp(period, "2014") == 0);
}

static int put_area_links(struct evbuffer *b, const json_t *list)
{
    size_t i, n = json_array_size(list);
    json_t *x;
    json_array_foreach(list, i, x) {
        if ((i && web_put(b, i + 1 == n ? " and " : ", ") != 0) ||
            web_put(b, "<a href=\"/authorities/") != 0 || html_escape(b, web_str(x, "code")) != 0 ||
            web_put(b, "\">") != 0 || html_escape(b, web_str(x, "name")) != 0 ||
            web_put(b, " (") != 0 || html_escape(b, web_str(x, "code")) != 0 ||
            web_put(b, ")</a>") != 0)
            return -1;
    }
    return 0;
}

int web_boundary_note(struct evbuffer *b, const json_t *doc)
{
    const json_t *a = json_object_get(doc, "authority");
    const json_t *pre = json_object_get(a, "predecessors"), *suc = json_object_get(a, "successors");
    const char *name = web_str(a, "name");
    if (json_array_size(suc)) {
        const char *eff = web_str(json_array_get(suc, 0), "effective");
        if (web_put(b, "<p class=\"note\" id=\"successors\">On ") != 0 ||
            html_escape(b, eff ? eff : "") != 0 || web_put(b, " ") != 0 ||
            html_escape(b, name ? name : "") != 0 || web_put(b, " was replaced by ") != 0 ||
            put_area_links(b, suc) != 0 ||
            web_put(b, "; its figures before then are kept here as history.</p>") != 0)
            return -1;
    } else if (json_is_string(json_object_get(a, "valid_to"))) {
        if (web_put(b, "<p class=\"note\" id=\"successors\">This authority no longer exists; "
                       "its figures are kept as history.</p>") != 0)
            return -1;
    }
    if (json_array_size(pre)) {
        const char *eff = web_str(json_array_get(pre, 0), "effective");
        if (web_put(b, "<p class=\"note\" id=\"predecessors\">Formed on ") != 0 ||
            html_escape(b, eff ? eff : "") != 0 || web_put(b, " from ") != 0 ||
            put_area_links(b, pre) != 0 ||
            web_put(b, ": figures before that date are the predecessor's, on its own page.</p>") != 0)
            return -1;
    }
    return 0;
}

double web_england_value(const json_t *metric, const json_t *summary, int totals,
                         int *published)
{
    /* A rate, a ratio or a unit cost (not additive, sql/192): England's
     * published figure is on one authority's scale. */
    int rate = !json_is_true(json_object_get(metric, "additive"));
    const char *src = web_str(summary, "value_source");
    *published = 0;
    if ((rate || totals) && src && strcmp(src, "published") == 0 &&
        json_is_number(json_object_get(summary, "value"))) {
        *published = rate ? 1 : 2;
        return web_num(summary, "value");
    }
    if (rate && src && strcmp(src, "ratio of sums of authorities") == 0 &&
        json_is_number(json_object_get(summary, "value"))) {
        *published = 3;
        return web_num(summary, "value");
    }
    /* The median of submitted figures is never released (an order
     * statistic): their mean stands in, said so. */
    double median = web_num(summary, "median");
    if (!isfinite(median) && isfinite(web_num(summary, "mean"))) {
        *published = -1;
        return web_num(summary, "mean");
    }
    return median;
}

const char *web_england_label(int published)
{
    switch (published) {
    case 1:
        return "";
    case 2:
        return " (DfE's published total)";
    case 3:
        return " (ratio of sums of authorities)";
    case -1:
        return " (mean of authorities)";
    default:
        return " (median of authorities)";
    }
}

int web_figure_notes(struct evbuffer *b, const json_t *doc)
{
    size_t i, j, shown = 0;
    json_t *m, *p;
    json_array_foreach(json_object_get(doc, "metrics"), i, m) {
        json_array_foreach(json_object_get(m, "history"), j, p) {
            const char *note = web_str(p, "note");
            if (!note)
                continue;
            if ((shown++ == 0 &&
                 web_put(b, "<section id=\"figure-notes\"><h2>Notes on these figures</h2>"
                            "<ul class=\"notes\">") != 0) ||
                web_put(b, "<li data-metric=\"") != 0 || html_escape(b, web_str(m, "id")) != 0 ||
                web_put(b, "\" data-period=\"") != 0 || html_escape(b, web_str(p, "period")) != 0 ||
                web_put(b, "\"><strong>") != 0 || html_escape(b, web_str(m, "label")) != 0 ||
                web_put(b, ", ") != 0 || html_escape(b, web_str(p, "period")) != 0 ||
                web_put(b, "</strong>: ") != 0 || html_escape(b, note) != 0 ||
                web_put(b, " (shown, but left out of ranks, bands and averages).</li>") != 0)
                return -1;
        }
    }
    json_array_foreach(json_object_get(json_object_get(doc, "extra"), "held_back"), i, p) {
        if ((shown++ == 0 &&
             web_put(b, "<section id=\"figure-notes\"><h2>Notes on these figures</h2>"
                        "<ul class=\"notes\">") != 0) ||
            web_put(b, "<li class=\"held-back\" data-metric=\"") != 0 ||
            html_escape(b, web_str(p, "metric")) != 0 || web_put(b, "\" data-period=\"") != 0 ||
            html_escape(b, web_str(p, "period")) != 0 || web_put(b, "\"><strong>") != 0 ||
            html_escape(b, web_str(p, "label")) != 0 || web_put(b, ", ") != 0 ||
            html_escape(b, web_str(p, "period")) != 0 ||
            web_put(b, "</strong>: not shown: the import checks held the DfE's figure back (") != 0 ||
            html_escape(b, web_str(p, "rule")) != 0 || web_put(b, "): ") != 0 ||
            html_escape(b, web_str(p, "detail")) != 0 || web_put(b, ".</li>") != 0)
            return -1;
    }
    return shown ? web_put(b, "</ul></section>") : 0;
}

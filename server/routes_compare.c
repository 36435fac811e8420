/*
 * GET /authorities/{code}/submitted: a council's submitted figures beside
 * the DfE's published figures for the same period, each labelled with its
 * source (issue 15, "published history is never displaced").
 *
 * Submitted figures are quarters, published ones years; they are kept as
 * separate periods and never merged.  This page pairs them where the
 * definitions match (docs/disclosure.md, "Submitted beside published"):
 *   - a census-year stock (EHC plans, case officers): the quarter ending
 *     31 March of the census year (Q4 of the financial year before),
 *     beside the January census: about ten weeks apart, said in the caption;
 *   - a financial-year figure (money): the year's fourth quarter (the year
 *     to date, or the balance at its end) beside the financial year;
 *   - a calendar-year flow (requests, new plans): the sum of the four
 *     quarters that make up the calendar year (Q4 of the financial year
 *     before, Q1 to Q3 of the one it starts), only when all four are in
 *     force.
 * Only pairs where both figures exist are shown.
 *
 * Who sees the submitted side: the council itself (token or browser
 * session), administrators, and anyone once the council has consented to
 * be named.  Anyone else gets one sentence, the same whether or not the
 * council submitted anything (whether it did is not public).
 */
#include <event2/buffer.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "routes.h"
#include "web.h"

/* One JSON document: the authority, whether the caller may see its
 * submitted figures ($2: the caller's council code or '', $3: 't' for an
 * administrator) and the pairs. */
static const char COMPARE_SQL[] =
    "WITH a AS (SELECT new_la_code, old_la_code, name, consent_to_name FROM authorities"
    "   WHERE new_la_code = upper($1) OR old_la_code = $1"
    "   ORDER BY valid_to IS NOT NULL LIMIT 1),"
    " v AS (SELECT a.*, ($3 = 't' OR a.new_la_code = $2 OR a.consent_to_name) AS may FROM a),"
    " q AS (SELECT o.metric, o.period, o.value, substr(o.period, 1, 4)::int AS fy,"
    "         substr(o.period, 10, 1)::int AS qn"
    "       FROM current_observations o JOIN v ON o.authority = v.new_la_code"
    "       WHERE v.may AND NOT o.published AND o.period_kind = 'fy_quarter'"
    "         AND o.value IS NOT NULL),"
    " m AS (SELECT id, label, unit, dp, annual_period, sort_order FROM metrics WHERE submittable),"
    /* the council's figure for each annual period, by the metric's basis */
    " s AS (SELECT m.id AS metric, CASE m.annual_period WHEN 'census_year' THEN (q.fy + 1)::text"
    "         ELSE q.fy::text || '-' || to_char((q.fy + 1) % 100, 'FM00') END AS annual,"
    "         q.value, ARRAY[q.period] AS quarters, 'quarter_end' AS basis"
    "       FROM q JOIN m ON m.id = q.metric"
    "       WHERE q.qn = 4 AND m.annual_period IN ('census_year', 'financial_year')"
    "       UNION ALL"
    "       SELECT m.id, (CASE WHEN q.qn = 4 THEN q.fy + 1 ELSE q.fy END)::text,"
    "         sum(q.value), array_agg(q.period ORDER BY q.period), 'four_quarters'"
    "       FROM q JOIN m ON m.id = q.metric WHERE m.annual_period = 'calendar_year'"
    "       GROUP BY m.id, CASE WHEN q.qn = 4 THEN q.fy + 1 ELSE q.fy END"
    "       HAVING count(*) = 4)"
    " SELECT json_build_object("
    "  'authority', json_build_object('code', v.new_la_code, 'old_la_code', v.old_la_code,"
    "    'name', v.name),"
    "  'may', v.may,"
    "  'visibility', CASE WHEN v.new_la_code = $2 THEN 'council:' || v.new_la_code END,"
    "  'pairs', coalesce((SELECT json_agg(json_build_object('metric', m.id, 'label', m.label,"
    "      'unit', m.unit, 'dp', m.dp, 'annual_period', m.annual_period, 'period', s.annual,"
    "      'published', p.value, 'source', json_build_object('source', p.source,"
    "        'release', i.release, 'published', i.published),"
    "      'submitted', s.value, 'quarters', s.quarters, 'basis', s.basis)"
    "      ORDER BY m.sort_order, s.annual DESC)"
    "    FROM s JOIN m ON m.id = s.metric"
    "    JOIN current_observations p ON p.authority = v.new_la_code AND p.metric = s.metric"
    "      AND p.period = s.annual AND p.published AND p.value IS NOT NULL"
    "    LEFT JOIN import_sources i ON i.source = p.source), '[]'))"
    " FROM v";

static const char *basis_text(const json_t *pair)
{
    const char *basis = web_str(pair, "basis");
    const char *ap = web_str(pair, "annual_period");
    if (basis && strcmp(basis, "four_quarters") == 0)
        return "sum of the four quarters of the calendar year";
    if (ap && strcmp(ap, "census_year") == 0)
        return "at 31 March, the end of the quarter after the January census";
    return "the year's fourth quarter (to 31 March)";
}

static int pair_row(struct evbuffer *b, const json_t *p)
{
    int dp = (int)web_num(p, "dp");
    const char *unit = web_str(p, "unit");
    double pub = web_num(p, "published"), sub = web_num(p, "submitted");
    char pv[64], sv[64], dv[64], plain[64];
    html_quantity(pub, dp, unit, pv, sizeof pv);
    html_quantity(sub, dp, unit, sv, sizeof sv);
    html_quantity(sub - pub, dp, unit, dv, sizeof dv);
    size_t i;
    json_t *qp;
    if (web_put(b, "<tr data-metric=\"") != 0 || html_escape(b, web_str(p, "metric")) != 0 ||
        web_put(b, "\" data-period=\"") != 0 || html_escape(b, web_str(p, "period")) != 0 ||
        web_put(b, "\"><th scope=\"row\">") != 0 || html_escape(b, web_str(p, "label")) != 0 ||
        web_put(b, "</th><td>") != 0 || html_escape(b, web_str(p, "period")) != 0)
        return -1;
    html_plain(pub, dp, plain, sizeof plain);
    if (web_put(b, "</td><td class=\"num\" data-source=\"published\" data-value=\"%s\">", plain) != 0 ||
        html_escape(b, pv) != 0 ||
        web_put(b, "<br><span class=\"source\">Published by the DfE: ") != 0 ||
        web_source_text(b, json_object_get(p, "source")) != 0 || web_put(b, "</span></td>") != 0)
        return -1;
    html_plain(sub, dp, plain, sizeof plain);
    if (web_put(b, "<td class=\"num\" data-source=\"submitted\" data-value=\"%s\">", plain) != 0 ||
        html_escape(b, sv) != 0 ||
        web_put(b, "<br><span class=\"source\">Submitted by the council, not published: ") != 0)
        return -1;
    json_array_foreach(json_object_get(p, "quarters"), i, qp) {
        if ((i && web_put(b, ", ") != 0) || html_escape(b, json_string_value(qp)) != 0)
            return -1;
    }
    if (web_put(b, " (") != 0 || html_escape(b, basis_text(p)) != 0 ||
        web_put(b, ")</span></td><td class=\"num\">") != 0)
        return -1;
    if (sub - pub > 0 && web_put(b, "+") != 0)
        return -1;
    if (html_escape(b, dv) != 0)
        return -1;
    if (pub != 0 && web_put(b, " (%+.1f%%)", (sub - pub) / fabs(pub) * 100.0) != 0)
        return -1;
    return web_put(b, "</td></tr>");
}

static void compare_page(struct request *r, json_t *doc)
{
    const json_t *a = json_object_get(doc, "authority");
    const char *name = web_str(a, "name"), *code = web_str(a, "code");
    const json_t *pairs = json_object_get(doc, "pairs");
    struct evbuffer *b = evbuffer_new();
    size_t i;
    json_t *p;
    char title[200];
    snprintf(title, sizeof title, "%s: submitted and published figures", name ? name : "");
    int bad = !b || web_page_begin(b, title, NULL) != 0;
    bad = bad || web_put(b, "<h1>") != 0 || html_escape(b, title) != 0 ||
          web_put(b, "</h1>") != 0 ||
          /* the banner only over figures that are unpublished, not over "none yet" */
          (json_array_size(pairs) && web_own_banner(b, doc, NULL) != 0) ||
          web_put(b, "<p><a href=\"/authorities/") != 0 || html_escape(b, code) != 0 ||
          web_put(b, "\">Back to ") != 0 || html_escape(b, name) != 0 || web_put(b, "</a></p>") != 0;
    if (!bad && !json_is_true(json_object_get(doc, "may"))) {
        bad = web_put(b, "<p class=\"note\" id=\"not-shown\">The council's submitted figures are "
                         "not shown here: they are unpublished, and shown only to the council "
                         "itself when signed in, to administrators, or to anyone once the "
                         "council has agreed to be named. The DfE's published figures are on "
                         "the authority's page.</p>") != 0;
    } else if (!bad && json_array_size(pairs) == 0) {
        bad = web_put(b, "<p class=\"note\" id=\"no-pairs\">No submitted figure of this council "
                         "covers a period the DfE has published for it yet: a census year needs "
                         "the quarter ending 31 March, a financial year its fourth quarter, a "
                         "calendar year all four of its quarters.</p>") != 0;
    } else if (!bad) {
        bad = web_put(b, "<table id=\"pairs\"><caption>The council's submitted figures beside "
                         "the DfE's published figures for the same period, each labelled with "
                         "its source. Both are kept; nothing submitted replaces a published "
                         "figure, and tables rank by the published one unless a quarter is "
                         "asked for. Caseload and case officers are counted at 31 March by the "
                         "council and at the January census by the DfE.</caption><thead><tr>"
                         "<th scope=\"col\">Measure</th><th scope=\"col\">Period</th>"
                         "<th scope=\"col\" class=\"num\">Published (DfE)</th>"
                         "<th scope=\"col\" class=\"num\">Submitted (council)</th>"
                         "<th scope=\"col\" class=\"num\">Submitted minus published</th>"
                         "</tr></thead><tbody>") != 0;
        json_array_foreach(pairs, i, p) {
            bad = bad || pair_row(b, p) != 0;
        }
        bad = bad || web_put(b, "</tbody></table>") != 0;
    }
    bad = bad || web_page_end(b) != 0;
    if (bad) {
        if (b)
            evbuffer_free(b);
        http_reply_oom(r);
        return;
    }
    http_add_header(r, "Cache-Control", r->caller.kind == CALLER_ANONYMOUS ? "public, no-cache"
                                                                         : "private, no-store");
    http_reply_buffer(r, 200, "text/html; charset=utf-8", b);
    evbuffer_free(b);
}

void route_web_compare(struct request *r)
{
    const char *code = http_param(r, 0);
    regex_t re;
    int ok = code && regcomp(&re, "^(E(06|08|09|10|11)[0-9]{6}|[0-9]{3})$",
                             REG_EXTENDED | REG_NOSUB) == 0;
    if (ok) {
        ok = regexec(&re, code, 0, NULL, 0) == 0;
        regfree(&re);
    }
    if (!ok) {
        web_reply_error(r, 404, "unknown_authority",
                        "no authority has this code: use an ONS code (E06000059) or a DfE number (838)",
                        "code", "ONS code or DfE number");
        return;
    }
    const char *params[3] = {code, r->caller.kind == CALLER_COUNCIL ? r->caller.authority : "",
                             r->caller.admin ? "t" : "f"};
    web_query_doc(r, COMPARE_SQL, 3, params, compare_page, "no authority has this code");
}

/* Submission validation (server/submit.c): every rule with its message,
 * personal data, CSV quirks.  Table-driven over a hand-made catalogue. */
#include <stdlib.h>

#include "submit.h"
#include "unit.h"

static struct submit_catalogue cat;
static const struct submit_date today = {2025, 6, 15};

static void catalogue_make(void)
{
    static const struct { const char *id; enum submit_unit u; int derived, submittable; } m[] = {
        {"ehcp_caseload", UNIT_COUNT, 0, 1},
        {"requests_received", UNIT_COUNT, 0, 1},
        {"requests_decided_to_assess", UNIT_COUNT, 0, 1},
        {"requests_refused", UNIT_COUNT, 0, 1},
        {"requests_decided_within_6_weeks", UNIT_COUNT, 0, 1},
        {"new_plans_issued", UNIT_COUNT, 0, 1},
        {"new_plans_issued_ex", UNIT_COUNT, 0, 1},
        {"new_plans_within_20_weeks", UNIT_COUNT, 0, 1},
        {"new_plans_within_20_weeks_ex", UNIT_COUNT, 0, 1},
        {"annual_reviews_due", UNIT_COUNT, 0, 1},
        {"annual_reviews_on_time", UNIT_COUNT, 0, 1},
        {"hnb_allocation_gbp", UNIT_MONEY, 0, 1},
        {"dsg_cumulative_balance_gbp", UNIT_MONEY, 0, 1},
        {"case_officers_fte", UNIT_FTE, 0, 1},
        {"test_share_pct", UNIT_PERCENT, 0, 1},
        {"dsg_balance_pct_of_income", UNIT_PERCENT, 0, 0},
        {"pct_within_20_weeks", UNIT_PERCENT, 1, 0},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        CHECK(submit_catalogue_add(&cat, m[i].id, m[i].u, m[i].derived, m[i].submittable) == 0);
}

/* Whether details holds an entry with this field and rule (and, when
 * `words` is given, a message containing it). */
static int has_detail(const json_t *details, const char *field, const char *rule,
                      const char *words)
{
    size_t i;
    json_t *d;
    json_array_foreach(details, i, d) {
        const char *f = json_string_value(json_object_get(d, "field"));
        const char *r = json_string_value(json_object_get(d, "rule"));
        const char *m = json_string_value(json_object_get(d, "message"));
        if (f && r && m && strcmp(f, field) == 0 && strcmp(r, rule) == 0 &&
            (!words || strstr(m, words)))
            return 1;
    }
    return 0;
}

static void dump_details(const char *name, const json_t *details)
{
    char *s = json_dumps(details, JSON_INDENT(1));
    fprintf(stderr, "  [%s] details: %s\n", name, s ? s : "?");
    free(s);
}

#define V "\"authority\":\"E06000059\",\"period\":\"2024-25 Q2\""

struct jcase {
    const char *name;
    const char *body;
    int rc;
    const char *field, *rule, *words;   /* one expected detail (NULL: none) */
    int ndetails;                       /* exact number of details, -1: any */
};

static const struct jcase json_cases[] = {
    {"valid", "{" V ",\"figures\":{\"ehcp_caseload\":3150,\"case_officers_fte\":16.5}}",
     SUBMIT_OK, NULL, NULL, NULL, 0},
    {"valid with notes", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"notes\":\"Q2 restated after audit\"}",
     SUBMIT_OK, NULL, NULL, NULL, 0},
    {"whole real count accepted", "{" V ",\"figures\":{\"ehcp_caseload\":3150.0}}",
     SUBMIT_OK, NULL, NULL, NULL, 0},
    {"not json", "{" V ",", SUBMIT_MALFORMED, "body", "json_syntax", "not valid JSON", 1},
    {"top-level array", "[1,2]", SUBMIT_INVALID, "body", "type", "JSON object", 1},
    {"too deep", "{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}", SUBMIT_MALFORMED, "body",
     "json_depth", "nested", 1},
    {"unknown metric", "{" V ",\"figures\":{\"ehcp_caseloads\":1}}", SUBMIT_INVALID,
     "figures.ehcp_caseloads", "unknown_metric", "not a metric id", 1},
    {"derived metric refused", "{" V ",\"figures\":{\"pct_within_20_weeks\":50}}", SUBMIT_INVALID,
     "figures.pct_within_20_weeks", "derived_metric", "computed", 1},
    {"published-only metric refused", "{" V ",\"figures\":{\"dsg_balance_pct_of_income\":5}}",
     SUBMIT_INVALID, "figures.dsg_balance_pct_of_income", "not_submittable", "DfE", 1},
    {"string figure", "{" V ",\"figures\":{\"ehcp_caseload\":\"3150\"}}", SUBMIT_INVALID,
     "figures.ehcp_caseload", "type", "a string", 1},
    {"null figure", "{" V ",\"figures\":{\"ehcp_caseload\":null}}", SUBMIT_INVALID,
     "figures.ehcp_caseload", "type", "null", 1},
    {"boolean figure", "{" V ",\"figures\":{\"ehcp_caseload\":true}}", SUBMIT_INVALID,
     "figures.ehcp_caseload", "type", "true/false", 1},
    {"negative count", "{" V ",\"figures\":{\"requests_received\":-1}}", SUBMIT_INVALID,
     "figures.requests_received", "non_negative", "cannot be negative", 1},
    {"fractional count", "{" V ",\"figures\":{\"requests_received\":2.5}}", SUBMIT_INVALID,
     "figures.requests_received", "whole_number", "whole number", 1},
    {"money over 10bn", "{" V ",\"figures\":{\"hnb_allocation_gbp\":10000000001}}",
     SUBMIT_INVALID, "figures.hnb_allocation_gbp", "money_range", "£10bn", 1},
    {"money under -10bn", "{" V ",\"figures\":{\"dsg_cumulative_balance_gbp\":-1.5e10}}",
     SUBMIT_INVALID, "figures.dsg_cumulative_balance_gbp", "money_range", "£10bn", 1},
    {"money negative within range", "{" V ",\"figures\":{\"dsg_cumulative_balance_gbp\":-38400000}}",
     SUBMIT_OK, NULL, NULL, NULL, 0},
    {"percentage over 100", "{" V ",\"figures\":{\"test_share_pct\":100.5}}", SUBMIT_INVALID,
     "figures.test_share_pct", "percentage_range", "between 0 and 100", 1},
    {"percentage negative", "{" V ",\"figures\":{\"test_share_pct\":-1}}", SUBMIT_INVALID,
     "figures.test_share_pct", "percentage_range", "between 0 and 100", 1},
    {"fte negative", "{" V ",\"figures\":{\"case_officers_fte\":-2}}", SUBMIT_INVALID,
     "figures.case_officers_fte", "fte_range", "not sensible", 1},
    {"fte absurd", "{" V ",\"figures\":{\"case_officers_fte\":50000}}", SUBMIT_INVALID,
     "figures.case_officers_fte", "fte_range", "not sensible", 1},
    {"within 20 weeks over issued",
     "{" V ",\"figures\":{\"new_plans_issued\":10,\"new_plans_within_20_weeks\":11}}",
     SUBMIT_INVALID, "figures.new_plans_within_20_weeks", "exceeds_total", "new_plans_issued", 1},
    {"within 20 weeks ex over issued ex",
     "{" V ",\"figures\":{\"new_plans_issued_ex\":5,\"new_plans_within_20_weeks_ex\":6}}",
     SUBMIT_INVALID, "figures.new_plans_within_20_weeks_ex", "exceeds_total",
     "new_plans_issued_ex", 1},
    {"issued ex over issued", "{" V ",\"figures\":{\"new_plans_issued\":5,\"new_plans_issued_ex\":6}}",
     SUBMIT_INVALID, "figures.new_plans_issued_ex", "exceeds_total", "all plans issued", 1},
    {"reviews on time over due",
     "{" V ",\"figures\":{\"annual_reviews_due\":100,\"annual_reviews_on_time\":101}}",
     SUBMIT_INVALID, "figures.annual_reviews_on_time", "exceeds_total", "reviews due", 1},
    {"decisions within 6 weeks over decisions",
     "{" V ",\"figures\":{\"requests_decided_to_assess\":3,\"requests_refused\":2,"
     "\"requests_decided_within_6_weeks\":6}}",
     SUBMIT_INVALID, "figures.requests_decided_within_6_weeks", "exceeds_total", "(5)", 1},
    {"decisions over requests is allowed (backlog)",
     "{" V ",\"figures\":{\"requests_received\":10,\"requests_decided_to_assess\":9,"
     "\"requests_refused\":8}}", SUBMIT_OK, NULL, NULL, NULL, 0},
    {"partial: within 20 weeks without issued is fine",
     "{" V ",\"figures\":{\"new_plans_within_20_weeks\":11}}", SUBMIT_OK, NULL, NULL, NULL, 0},
    {"period format", "{\"authority\":\"E06000059\",\"period\":\"2024 Q2\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_INVALID, "period", "period_format", "YYYY-YY Qn", 1},
    {"period quarter 5", "{\"authority\":\"E06000059\",\"period\":\"2024-25 Q5\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_INVALID, "period", "period_format", "YYYY-YY Qn", 1},
    {"period years do not follow", "{\"authority\":\"E06000059\",\"period\":\"2024-26 Q1\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_INVALID, "period", "period_years", "2024-25", 1},
    {"period century", "{\"authority\":\"E06000059\",\"period\":\"2099-00 Q1\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_INVALID, "period", "period_not_ended", NULL, 1},
    {"period before 2014-15", "{\"authority\":\"E06000059\",\"period\":\"2013-14 Q4\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_INVALID, "period", "period_too_early", "2014-15", 1},
    {"first quarter accepted", "{\"authority\":\"E06000059\",\"period\":\"2014-15 Q1\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_OK, NULL, NULL, NULL, 0},
    {"current quarter not ended", "{\"authority\":\"E06000059\",\"period\":\"2025-26 Q1\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_INVALID, "period", "period_not_ended", "2025-06-30", 1},
    {"last ended quarter accepted", "{\"authority\":\"E06000059\",\"period\":\"2024-25 Q4\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_OK, NULL, NULL, NULL, 0},
    {"period not a string", "{\"authority\":\"E06000059\",\"period\":202425,\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_INVALID, "period", "type", NULL, 1},
    {"authority missing", "{\"period\":\"2024-25 Q2\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_INVALID, "authority", "required", NULL, 1},
    {"authority malformed", "{\"authority\":\"E07000001\",\"period\":\"2024-25 Q2\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_INVALID, "authority", "authority_format", "ONS code", 1},
    {"authority a number", "{\"authority\":838,\"period\":\"2024-25 Q2\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_INVALID, "authority", "type", NULL, 1},
    {"figures missing", "{" V "}", SUBMIT_INVALID, "figures", "required", NULL, 1},
    {"figures empty", "{" V ",\"figures\":{}}", SUBMIT_INVALID, "figures", "required", NULL, 1},
    {"figures an array", "{" V ",\"figures\":[1]}", SUBMIT_INVALID, "figures", "type", NULL, 1},
    {"unknown top-level field", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"extra\":1}",
     SUBMIT_INVALID, "extra", "unknown_field", "unknown field", 1},
    {"same metric twice", "{" V ",\"figures\":{\"ehcp_caseload\":1,\"ehcp_caseload\":2}}",
     SUBMIT_INVALID, "figures.ehcp_caseload", "duplicate_metric", "the same metric twice", 1},
    {"same metric twice via escape",
     "{" V ",\"figures\":{\"ehcp_caseload\":1,\"ehcp\\u005fcaseload\":2}}",
     SUBMIT_INVALID, "figures.ehcp_caseload", "duplicate_metric", "the same metric twice", 1},
    {"same top-level field twice",
     "{" V ",\"period\":\"2024-25 Q3\",\"figures\":{\"ehcp_caseload\":1}}",
     SUBMIT_INVALID, "period", "duplicate_field", "more than once", 1},
    {"notes not a string", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"notes\":5}",
     SUBMIT_INVALID, "notes", "type", NULL, 1},
    /* personal data */
    {"personal: name field", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"name\":\"Sam\"}",
     SUBMIT_INVALID, "name", "personal_data", "only aggregate figures", 1},
    {"personal: First_Name inside figures", "{" V ",\"figures\":{\"First_Name\":\"Sam\"}}",
     SUBMIT_INVALID, "figures.First_Name", "personal_data", "only aggregate figures", -1},
    {"personal: DOB nested", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"child\":{\"DOB\":\"x\"}}",
     SUBMIT_INVALID, "child.DOB", "personal_data", "only aggregate figures", -1},
    {"personal: date_of_birth", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"date_of_birth\":1}",
     SUBMIT_INVALID, "date_of_birth", "personal_data", "only aggregate figures", 1},
    {"personal: surname", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"surname\":1}",
     SUBMIT_INVALID, "surname", "personal_data", "only aggregate figures", 1},
    {"personal: upn", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"UPN\":1}",
     SUBMIT_INVALID, "UPN", "personal_data", "only aggregate figures", 1},
    {"personal: nhs_number", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"nhs_number\":1}",
     SUBMIT_INVALID, "nhs_number", "personal_data", "only aggregate figures", 1},
    {"personal: postcode", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"Post Code\":1}",
     SUBMIT_INVALID, "Post Code", "personal_data", "only aggregate figures", 1},
    {"personal: address", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"address\":1}",
     SUBMIT_INVALID, "address", "personal_data", "only aggregate figures", 1},
    {"personal: notes with UPN", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"notes\":\"late plan for A123456789012\"}",
     SUBMIT_INVALID, "notes", "personal_data", "UPN-like", 1},
    {"personal: notes with NHS number", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"notes\":\"see 943 476 5919\"}",
     SUBMIT_INVALID, "notes", "personal_data", "NHS-number-like", 1},
    {"personal: notes with dob", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"notes\":\"child born 03/07/2015\"}",
     SUBMIT_INVALID, "notes", "personal_data", "date of birth", 1},
    {"personal: notes with postcode", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"notes\":\"family moved to DT1 1XJ\"}",
     SUBMIT_INVALID, "notes", "personal_data", "postcode", 1},
    {"notes with aggregate text only", "{" V ",\"figures\":{\"ehcp_caseload\":1},\"notes\":\"2024-25 Q2: 118 new plans, 21 within 20 weeks; 16.5 FTE\"}",
     SUBMIT_OK, NULL, NULL, NULL, 0},
};

/* Several problems at once: every one is reported. */
static void test_json_collects_every_problem(void)
{
    const char *body = "{\"authority\":\"X\",\"period\":\"2024-26 Q1\",\"figures\":{"
                       "\"ehcp_caseload\":-1,\"nope\":1,\"pct_within_20_weeks\":3,"
                       "\"hnb_allocation_gbp\":2e10},\"zzz\":1}";
    json_t *details = json_array();
    struct submit_doc doc;
    int rc = submit_parse_json(body, strlen(body), &cat, &today, &doc, details);
    CHECK(rc == SUBMIT_INVALID);
    CHECK(json_array_size(details) == 7);
    CHECK(has_detail(details, "authority", "authority_format", NULL));
    CHECK(has_detail(details, "period", "period_years", NULL));
    CHECK(has_detail(details, "figures.ehcp_caseload", "non_negative", NULL));
    CHECK(has_detail(details, "figures.nope", "unknown_metric", NULL));
    CHECK(has_detail(details, "figures.pct_within_20_weeks", "derived_metric", NULL));
    CHECK(has_detail(details, "figures.hnb_allocation_gbp", "money_range", NULL));
    CHECK(has_detail(details, "zzz", "unknown_field", NULL));
    if (unit_case_failures)
        dump_details("every problem", details);
    submit_doc_clear(&doc);
    json_decref(details);
}

static void run_json_case(const struct jcase *c)
{
    json_t *details = json_array();
    struct submit_doc doc;
    int rc = submit_parse_json(c->body, strlen(c->body), &cat, &today, &doc, details);
    int before = unit_case_failures;
    CHECK(rc == c->rc);
    if (c->field)
        CHECK(has_detail(details, c->field, c->rule, c->words));
    if (c->ndetails >= 0)
        CHECK((int)json_array_size(details) == c->ndetails);
    if (unit_case_failures != before) {
        fprintf(stderr, "  case: %s (rc %d)\n", c->name, rc);
        dump_details(c->name, details);
    }
    submit_doc_clear(&doc);
    json_decref(details);
}

static void test_json_rules(void)
{
    for (size_t i = 0; i < sizeof json_cases / sizeof json_cases[0]; i++)
        run_json_case(&json_cases[i]);
}

static void test_json_valid_doc_contents(void)
{
    const char *body = "{" V ",\"figures\":{\"ehcp_caseload\":3150.0,\"case_officers_fte\":16.5,"
                       "\"dsg_cumulative_balance_gbp\":-38400000},\"notes\":\"ok\"}";
    json_t *details = json_array();
    struct submit_doc doc;
    CHECK(submit_parse_json(body, strlen(body), &cat, &today, &doc, details) == SUBMIT_OK);
    CHECK_STR(doc.authority, "E06000059");
    CHECK_STR(doc.period, "2024-25 Q2");
    CHECK_STR(doc.notes, "ok");
    CHECK(json_object_size(doc.figures) == 3);
    /* A whole real count is stored as an integer. */
    CHECK(json_is_integer(json_object_get(doc.figures, "ehcp_caseload")));
    CHECK(json_integer_value(json_object_get(doc.figures, "ehcp_caseload")) == 3150);
    CHECK_NEAR(json_number_value(json_object_get(doc.figures, "case_officers_fte")), 16.5, 1e-12);
    submit_doc_clear(&doc);
    json_decref(details);
}

/* ------------------------------------------------------------------ CSV */

#define HDR "time_period,time_identifier,geographic_level,country_code,country_name,region_code," \
            "region_name,new_la_code,old_la_code,la_name"
#define ROW "202425,Financial year Q2,Local authority,E92000001,England,E12000009,South West," \
            "E06000059,838,Dorset"

struct ccase {
    const char *name;
    const char *body;
    size_t len;             /* 0: strlen */
    int rc;
    const char *field, *rule, *words;
    int nfigures;           /* on success */
};

static const struct ccase csv_cases[] = {
    {"plain", HDR ",ehcp_caseload,case_officers_fte\n" ROW ",3150,16.5\n", 0, SUBMIT_OK, NULL,
     NULL, NULL, 2},
    {"BOM and CRLF", "\xEF\xBB\xBF" HDR ",ehcp_caseload\r\n" ROW ",3150\r\n", 0, SUBMIT_OK, NULL,
     NULL, NULL, 1},
    {"blank lines", "\n\n" HDR ",ehcp_caseload\r\n\r\n\r\n" ROW ",3150\r\n\r\n", 0, SUBMIT_OK,
     NULL, NULL, NULL, 1},
    {"row of empty cells is blank", HDR ",ehcp_caseload\n" ROW ",3150\n,,,,,,,,,,\n", 0,
     SUBMIT_OK, NULL, NULL, NULL, 1},
    {"quotes with comma and newline in la_name",
     HDR ",ehcp_caseload,notes\n202425,Financial year Q2,Local authority,E92000001,England,"
     "E12000009,South West,E06000058,839,\"Bournemouth, Christchurch\nand \"\"Poole\"\"\",\"42\","
     "\"restated, after \"\"audit\"\"\"\n", 0, SUBMIT_OK, NULL, NULL, NULL, 1},
    {"quarter form of time_period", "time_period,new_la_code,ehcp_caseload\n2024-25 Q2,E06000059,5\n",
     0, SUBMIT_OK, NULL, NULL, NULL, 1},
    {"empty cell is a figure not sent", HDR ",ehcp_caseload,requests_received\n" ROW ",3150,\n",
     0, SUBMIT_OK, NULL, NULL, NULL, 1},
    {"unterminated quote", HDR ",ehcp_caseload\n" ROW ",\"3150\n", 0, SUBMIT_MALFORMED, "body",
     "csv_syntax", "not valid CSV", 0},
    {"header only", HDR ",ehcp_caseload\n", 0, SUBMIT_INVALID, "body", "csv_rows", "one data row", 0},
    {"two data rows", HDR ",ehcp_caseload\n" ROW ",1\n" ROW ",2\n", 0, SUBMIT_INVALID, "body",
     "csv_rows", "exactly one data row", 0},
    {"thousands separator", HDR ",ehcp_caseload\n" ROW ",\"3,150\"\n", 0, SUBMIT_INVALID,
     "ehcp_caseload", "type", "plain digits", 0},
    {"symbol refused", HDR ",ehcp_caseload\n" ROW ",c\n", 0, SUBMIT_INVALID, "ehcp_caseload",
     "type", "not a number", 0},
    {"unknown metric column", HDR ",ehcp_caseloads\n" ROW ",1\n", 0, SUBMIT_INVALID,
     "ehcp_caseloads", "unknown_metric", NULL, 0},
    {"same metric twice", HDR ",ehcp_caseload,ehcp_caseload\n" ROW ",1,2\n", 0, SUBMIT_INVALID,
     "ehcp_caseload", "duplicate_metric", "the same metric twice", 0},
    {"negative count", HDR ",requests_received\n" ROW ",-4\n", 0, SUBMIT_INVALID,
     "requests_received", "non_negative", NULL, 0},
    {"six digits need identifier", "time_period,new_la_code,ehcp_caseload\n202425,E06000059,5\n",
     0, SUBMIT_INVALID, "time_identifier", "required", NULL, 0},
    {"identifier disagrees", "time_period,time_identifier,new_la_code,ehcp_caseload\n"
     "2024-25 Q2,Financial year Q3,E06000059,5\n", 0, SUBMIT_INVALID, "time_identifier",
     "time_identifier", "Q3", 0},
    {"wrong identifier", "time_period,time_identifier,new_la_code,ehcp_caseload\n"
     "202425,Academic year,E06000059,5\n", 0, SUBMIT_INVALID, "time_identifier",
     "time_identifier", "Financial year Q1", 0},
    {"geographic level", "time_period,geographic_level,new_la_code,ehcp_caseload\n"
     "2024-25 Q2,National,E06000059,5\n", 0, SUBMIT_INVALID, "geographic_level",
     "geographic_level", NULL, 0},
    {"missing la code", "time_period,ehcp_caseload\n2024-25 Q2,5\n", 0, SUBMIT_INVALID,
     "new_la_code", "required", NULL, 0},
    {"personal column", HDR ",upn\n" ROW ",A123456789012\n", 0, SUBMIT_INVALID, "upn",
     "personal_data", "only aggregate figures", 0},
    {"personal notes", HDR ",ehcp_caseload,notes\n" ROW ",1,child DOB 01/02/2016\n", 0,
     SUBMIT_INVALID, "notes", "personal_data", "date of birth", 0},
    {"not utf-8", HDR ",ehcp_caseload\n" ROW ",1\xff\n", 0, SUBMIT_MALFORMED, "body",
     "encoding", NULL, 0},
    {"cross-field rule", HDR ",new_plans_issued,new_plans_within_20_weeks\n" ROW ",5,6\n", 0,
     SUBMIT_INVALID, "new_plans_within_20_weeks", "exceeds_total", NULL, 0},
    {"future quarter", "time_period,new_la_code,ehcp_caseload\n2030-31 Q1,E06000059,5\n", 0,
     SUBMIT_INVALID, "time_period", "period_not_ended", NULL, 0},
};

static void test_csv_rules(void)
{
    for (size_t i = 0; i < sizeof csv_cases / sizeof csv_cases[0]; i++) {
        const struct ccase *c = &csv_cases[i];
        json_t *details = json_array();
        struct submit_doc doc;
        size_t len = c->len ? c->len : strlen(c->body);
        int rc = submit_parse_csv(c->body, len, &cat, &today, &doc, details);
        int before = unit_case_failures;
        CHECK(rc == c->rc);
        if (c->field)
            CHECK(has_detail(details, c->field, c->rule, c->words));
        if (c->rc == SUBMIT_OK) {
            CHECK((int)json_object_size(doc.figures) == c->nfigures);
            CHECK(json_array_size(details) == 0);
            CHECK(doc.authority[0] == 'E');
            CHECK_STR(doc.period, "2024-25 Q2");
        }
        if (unit_case_failures != before) {
            fprintf(stderr, "  case: %s (rc %d)\n", c->name, rc);
            dump_details(c->name, details);
        }
        submit_doc_clear(&doc);
        json_decref(details);
    }
}

static void test_csv_quoted_values(void)
{
    const char *body = HDR ",ehcp_caseload,notes\n202425,Financial year Q2,Local authority,"
                       "E92000001,England,E12000009,South West,E06000058,839,"
                       "\"Bournemouth, Christchurch and Poole\",\" 42 \","
                       "\"line one\r\nline \"\"two\"\"\"\r\n";
    json_t *details = json_array();
    struct submit_doc doc;
    CHECK(submit_parse_csv(body, strlen(body), &cat, &today, &doc, details) == SUBMIT_OK);
    CHECK_STR(doc.authority, "E06000058");
    CHECK(json_integer_value(json_object_get(doc.figures, "ehcp_caseload")) == 42);
    CHECK_STR(doc.notes, "line one\r\nline \"two\"");
    submit_doc_clear(&doc);
    json_decref(details);
}

/* ------------------------------------------------------ helpers directly */

static void test_text_patterns(void)
{
    static const struct { const char *text; int hit; } cases[] = {
        {"A123456789012", 1}, {"upn:a123456789012.", 1}, {"A1234567890123", 0},
        {"4505577104", 1}, {"450 557 7104", 1}, {"450-557-7104", 1}, {"45055771045", 0},
        {"31/12/2016", 1}, {"1/2/16", 1}, {"31.12.2016", 1}, {"2016-12-31", 1},
        {"SW1A 1AA", 1}, {"m1 1ae", 1}, {"B33 8TH", 1},
        {"2024-25 Q2", 0}, {"118 plans, 16.5 FTE", 0}, {"Q3 2024/25 backlog", 0},
        {"E06000059", 0}, {"", 0}, {"caseload up 12% since 2019", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *what = NULL;
        int hit = submit_text_has_personal_data(cases[i].text, &what);
        if (hit != cases[i].hit)
            fprintf(stderr, "  text \"%s\": got %d want %d\n", cases[i].text, hit, cases[i].hit);
        CHECK(hit == cases[i].hit);
    }
}

static void test_personal_keys(void)
{
    static const struct { const char *key; int hit; } cases[] = {
        {"name", 1}, {"First_Name", 1}, {"SURNAME", 1}, {"d.o.b", 1}, {"Date of Birth", 1},
        {"upn", 1}, {"NHS_Number", 1}, {"post-code", 1}, {"Address", 1},
        {"ehcp_caseload", 0}, {"la_name", 0}, {"notes", 0}, {"named", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (submit_key_is_personal(cases[i].key) != cases[i].hit)
            fprintf(stderr, "  key \"%s\"\n", cases[i].key);
        CHECK(submit_key_is_personal(cases[i].key) == cases[i].hit);
    }
}

static void test_period_boundaries(void)
{
    static const struct { const char *p; int y, m, d; int bad; } cases[] = {
        {"2024-25 Q1", 2024, 6, 30, 1},  /* last day of the quarter: not ended */
        {"2024-25 Q1", 2024, 7, 1, 0},   /* the day after */
        {"2024-25 Q3", 2024, 12, 31, 1},
        {"2024-25 Q3", 2025, 1, 1, 0},
        {"2023-24 Q4", 2024, 3, 31, 1},
        {"2023-24 Q4", 2024, 4, 1, 0},
        {"2014-15 Q1", 2025, 1, 1, 0},
        {"2013-14 Q4", 2025, 1, 1, 1},
        {"1999-00 Q1", 2025, 1, 1, 1},
        {"2024-25 q1", 2025, 1, 1, 1},
        {" 2024-25 Q1", 2025, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct submit_date d = {cases[i].y, cases[i].m, cases[i].d};
        json_t *details = json_array();
        int bad = submit_check_period(cases[i].p, &d, "period", details);
        if (bad != cases[i].bad)
            fprintf(stderr, "  period \"%s\" on %d-%d-%d\n", cases[i].p, d.year, d.month, d.day);
        CHECK(bad == cases[i].bad);
        CHECK(json_array_size(details) == (size_t)cases[i].bad);
        json_decref(details);
    }
}

/* Found by tests/fuzz: a detail echoes what was sent cut to a length, and
 * the cut (or the input itself) may not be valid UTF-8.  jansson refused
 * such a message, the detail was lost, and a refused period could come back
 * with no reason -- or, as validation decides by the number of details,
 * not be refused at all.  Every such input must keep its detail. */
static void test_details_survive_invalid_utf8(void)
{
    json_t *details = json_array();
    /* Invalid bytes in a period given directly (fuzz_period crash). */
    CHECK(submit_check_period("2024\xcd\xcd" "6 Q2", &today, "period", details) == 1);
    CHECK(has_detail(details, "period", "period_format", "2024??6 Q2"));
    json_array_clear(details);
    /* A JSON syntax error whose message quotes invalid bytes (fuzz_submit_json crash). */
    static const char bad[] = "\"tro\\u\xde\x86\xe9\xc5\xdd\xba\xcd\xcd" "5io\\uty{\x02";
    struct submit_doc doc;
    CHECK(submit_parse_json(bad, sizeof bad - 1, &cat, &today, &doc, details) == SUBMIT_MALFORMED);
    CHECK(json_array_size(details) == 1);
    submit_doc_clear(&doc);
    json_array_clear(details);
    /* A period of valid UTF-8 that "%.40s" cuts inside a character. */
    char body[400];
    snprintf(body, sizeof body, "{\"authority\":\"E06000059\",\"period\":\"a%s\","
             "\"figures\":{\"ehcp_caseload\":1}}",
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    CHECK(submit_parse_json(body, strlen(body), &cat, &today, &doc, details) == SUBMIT_INVALID);
    CHECK(has_detail(details, "period", "period_format", NULL));
    CHECK(doc.period[0] == '\0');
    submit_doc_clear(&doc);
    json_array_clear(details);
    /* An unknown metric id whose field name ("figures.<100 bytes>") is cut
     * inside a character. */
    char key[300] = "", body2[600];
    for (int i = 0; i < 60; i++)
        strcat(key, "\xe2\x82\xac");    /* the euro sign, 3 bytes */
    snprintf(body2, sizeof body2, "{\"authority\":\"E06000059\",\"period\":\"2024-25 Q2\","
             "\"figures\":{\"x%s\":1}}", key);
    CHECK(submit_parse_json(body2, strlen(body2), &cat, &today, &doc, details) == SUBMIT_INVALID);
    CHECK(json_array_size(details) == 1);
    submit_doc_clear(&doc);
    json_array_clear(details);
    json_decref(details);
}

/* Found by the hostile corpus: a NUL inside a CSV cell cut the cell short
 * ("3150\0999" was accepted as 3150); a bare JSON scalar is JSON that is
 * not an object (422 type, like an array); a very wide CSV is refused
 * without building every cell, and repeated columns are found in linear
 * time. */
static void test_hostile_shapes(void)
{
    json_t *details = json_array();
    struct submit_doc doc;
    static const char nul[] = "time_period,new_la_code,ehcp_caseload\n2024-25 Q2,E06000059,3150\0" "999\n";
    CHECK(submit_parse_csv(nul, sizeof nul - 1, &cat, &today, &doc, details) == SUBMIT_MALFORMED);
    CHECK(has_detail(details, "body", "encoding", NULL));
    submit_doc_clear(&doc);
    json_array_clear(details);
    static const char *const scalars[] = {"5", "\"text\"", "null", "true", "-1.5e3"};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        CHECK(submit_parse_json(scalars[i], strlen(scalars[i]), &cat, &today, &doc, details) ==
              SUBMIT_INVALID);
        CHECK(has_detail(details, "body", "type", NULL));
        submit_doc_clear(&doc);
        json_array_clear(details);
    }
    size_t n = 500000, len = 0;
    char *wide = malloc(n * 2 + 64);
    CHECK(wide != NULL);
    if (wide) {
        len = (size_t)sprintf(wide, "time_period,new_la_code");
        for (size_t i = 0; i < n; i++)
            len += (size_t)sprintf(wide + len, ",c");
        len += (size_t)sprintf(wide + len, "\n2024-25 Q2,E06000059,1\n");
        CHECK(submit_parse_csv(wide, len, &cat, &today, &doc, details) == SUBMIT_INVALID);
        CHECK(has_detail(details, "body", "csv_columns", NULL));
        submit_doc_clear(&doc);
        json_array_clear(details);
        free(wide);
    }
    json_decref(details);
}

/* Issue 16: DfE numbers, the nearest metric id, withdrawal. */
static void test_dfe_numbers_suggestions_and_withdrawal(void)
{
    static const char *const ok[] = {
        "{\"authority\":\"838\",\"period\":\"2024-25 Q2\",\"figures\":{\"ehcp_caseload\":1}}",
        "{\"authority\":\"E06000059\",\"period\":\"2024-25 Q2\",\"withdraw\":[\"case_officers_fte\"]}",
        "{\"authority\":\"E06000059\",\"period\":\"2024-25 Q2\",\"figures\":{\"ehcp_caseload\":1},"
        "\"withdraw\":[\"case_officers_fte\"]}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct submit_doc doc = {0};
        json_t *d = json_array();
        int rc = submit_parse_json(ok[i], strlen(ok[i]), &cat, &today, &doc, d);
        if (rc != SUBMIT_OK)
            dump_details("ok case", d);
        CHECK(rc == SUBMIT_OK);
        if (i == 0)
            CHECK_STR(doc.authority, "838");
        if (i > 0)
            CHECK(json_array_size(doc.withdraw) == 1 &&
                  strcmp(json_string_value(json_array_get(doc.withdraw, 0)), "case_officers_fte") == 0);
        submit_doc_clear(&doc);
        json_decref(d);
    }
    static const struct {
        const char *body, *field, *rule;
    } bad[] = {
        {"{\"authority\":\"83\",\"period\":\"2024-25 Q2\",\"figures\":{\"ehcp_caseload\":1}}",
         "authority", "authority_format"},
        {"{\"authority\":\"838\",\"period\":\"2024-25 Q2\",\"figures\":{\"case_officer_fte\":1}}",
         "figures.case_officer_fte", "unknown_metric"},
        {"{\"authority\":\"838\",\"period\":\"2024-25 Q2\",\"figures\":{\"ehcp_caseload\":1},"
         "\"withdraw\":[\"ehcp_caseload\"]}", "withdraw", "withdrawn_and_sent"},
        {"{\"authority\":\"838\",\"period\":\"2024-25 Q2\",\"withdraw\":[\"pct_within_20_weeks\"]}",
         "withdraw", "unknown_metric"},
        {"{\"authority\":\"838\",\"period\":\"2024-25 Q2\",\"withdraw\":[\"case_officers_fte\","
         "\"case_officers_fte\"]}", "withdraw", "duplicate"},
        {"{\"authority\":\"838\",\"period\":\"2024-25 Q2\",\"withdraw\":\"case_officers_fte\"}",
         "withdraw", "type"},
        {"{\"authority\":\"838\",\"period\":\"2024-25 Q2\",\"withdraw\":[]}", "figures", "required"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct submit_doc doc = {0};
        json_t *d = json_array();
        CHECK(submit_parse_json(bad[i].body, strlen(bad[i].body), &cat, &today, &doc, d) ==
              SUBMIT_INVALID);
        if (!has_detail(d, bad[i].field, bad[i].rule, NULL))
            dump_details(bad[i].rule, d);
        CHECK(has_detail(d, bad[i].field, bad[i].rule, NULL));
        if (i == 1) {
            const json_t *x = json_array_get(d, 0);
            CHECK_STR(json_string_value(json_object_get(x, "suggestion")), "case_officers_fte");
            CHECK(strstr(json_string_value(json_object_get(x, "message")),
                         "did you mean \"case_officers_fte\"?") != NULL);
        }
        submit_doc_clear(&doc);
        json_decref(d);
    }
    CHECK_STR(submit_nearest_metric(&cat, "ehcp_caseloads"), "ehcp_caseload");
    CHECK(submit_nearest_metric(&cat, "zzz") == NULL);
    CHECK(submit_nearest_metric(&cat, "pct_within_20_weekz") == NULL);   /* derived: never suggested */
}

int main(void)
{
    catalogue_make();
    RUN(test_json_rules);
    RUN(test_json_collects_every_problem);
    RUN(test_json_valid_doc_contents);
    RUN(test_csv_rules);
    RUN(test_csv_quoted_values);
    RUN(test_text_patterns);
    RUN(test_personal_keys);
    RUN(test_period_boundaries);
    RUN(test_details_survive_invalid_utf8);
    RUN(test_hostile_shapes);
    RUN(test_dfe_numbers_suggestions_and_withdrawal);
    submit_catalogue_clear(&cat);
    return UNIT_DONE();
}

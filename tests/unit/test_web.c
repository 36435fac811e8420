/* The web pages' source lines: what a chart's caption says of where its
 * figures come from and what sendbench computed. */
#include <event2/buffer.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "web.h"

static char *take(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    return s;
}

static char *source_text(const char *source, const char *release, const char *published)
{
    json_t *s = json_pack("{s:s?, s:s?, s:s?}", "source", source, "release", release,
                          "published", published);
    struct evbuffer *b = evbuffer_new();
    CHECK(web_source_text(b, s) == 0);
    char *out = take(b);
    evbuffer_free(b);
    json_decref(s);
    return out;
}

/* A source recorded as "RELEASE: FILE" names its release once. */
static void test_source_names_release_once(void)
{
    static const struct {
        const char *source, *release, *published, *want;
    } cases[] = {
        {"DfE SEN2 2025: newplans.csv", "DfE SEN2 2025", "2025-06-26",
         "DfE SEN2 2025: newplans.csv (published 2025-06-26)"},
        {"DfE High Needs Benchmarking Tool 2021-22: hnbt_2021_22.csv",
         "DfE High Needs Benchmarking Tool 2021-22", NULL,
         "DfE High Needs Benchmarking Tool 2021-22: hnbt_2021_22.csv (publication date not recorded)"},
        {"DfE SEN2 2025", "DfE SEN2 2025", "2025-06-26", "DfE SEN2 2025 (published 2025-06-26)"},
        /* a release that is not the source's prefix is named */
        {"upload.csv", "DfE SEN2 2025", "2025-06-26", "upload.csv, DfE SEN2 2025 (published 2025-06-26)"},
        /* nor is a mere prefix of a word */
        {"DfE SEN2 20250: a.csv", "DfE SEN2 2025", NULL,
         "DfE SEN2 20250: a.csv, DfE SEN2 2025 (publication date not recorded)"},
        {"a.csv", NULL, "2025-06-26", "a.csv (published 2025-06-26)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = source_text(cases[i].source, cases[i].release, cases[i].published);
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "case %zu: got \"%s\"\n", i, got);
        CHECK(strcmp(got, cases[i].want) == 0);
        free(got);
    }
}

/* A chart of a published rate: England is the DfE's figure, neighbours
 * their average; eng_source "published" or "median". */
static char *figure(const char *unit, const char *eng_source, int with_neighbours)
{
    json_t *hist = json_array();
    const char *periods[] = {"2022", "2023", "2024"};
    for (int i = 0; i < 3; i++) {
        json_t *eng = strcmp(eng_source, "published") == 0
                          ? json_pack("{s:s, s:f, s:f}", "value_source", "published", "value",
                                      46.4 + i, "median", 50.0)
                          : json_pack("{s:f, s:f}", "median", 50.0 + i, "mean", 51.0);
        json_t *p = json_pack("{s:s, s:f, s:o}", "period", periods[i], "value", 40.0 + i,
                              "england", eng);
        if (with_neighbours)
            json_object_set_new(p, "neighbours", json_pack("{s:f}", "mean", 30.0 + i));
        json_array_append_new(hist, p);
    }
    json_t *metric = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:o}", "id", "m", "label", "A rate",
                               "unit", unit, "dp", 1, "kind", "derived", "annual_period",
                               "calendar_year", "history", hist);
    json_t *doc = json_pack(
        "{s:{s:s}, s:{s:{s:[{s:s, s:s, s:s}]}}}", "authority", "name", "Dorset", "extra",
        "sources", "m", "source", "DfE SEN2 2025: t.csv", "release", "DfE SEN2 2025", "published",
        "2025-06-26");
    struct evbuffer *b = evbuffer_new();
    CHECK(web_metric_figure(b, doc, metric, "c1") == 0);
    char *out = take(b);
    evbuffer_free(b);
    json_decref(metric);
    json_decref(doc);
    return out;
}

/* A chart that draws England as the DfE publishes it says nothing of
 * medians (it drew none); one that draws England's median says so. */
static void test_chart_says_what_sendbench_computed(void)
{
    char *pub = figure("%", "published", 1);
    CHECK(strstr(pub, "England as the DfE publishes it") != NULL);
    CHECK(strstr(pub, "edian") == NULL);
    CHECK(strstr(pub, "The neighbours' average is computed by sendbench.") != NULL);
    CHECK(strstr(pub, "Source: DfE SEN2 2025: t.csv (published 2025-06-26); computed by sendbench.") != NULL);
    free(pub);

    char *med = figure("%", "median", 1);
    CHECK(strstr(med, "the median of English authorities") != NULL);
    CHECK(strstr(med, "The neighbours' average and England's median are computed by sendbench.") != NULL);
    free(med);

    char *lone = figure("%", "median", 0);
    CHECK(strstr(lone, "neighbours' average") == NULL);
    CHECK(strstr(lone, "England's median is computed by sendbench.") != NULL);
    free(lone);
}

int main(void)
{
    RUN(test_source_names_release_once);
    RUN(test_chart_says_what_sendbench_computed);
    return UNIT_DONE();
}

/* SVG charts and HTML helpers: point counts, scaling, escaping, edge cases. */
#include <event2/buffer.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "svg.h"
#include "unit.h"

/* The buffer's content as a malloc'd string (drains buf). */
static char *take(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    return s;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Numbers the chart must never print, whatever it was given. */
static int has_nonfinite(const char *s)
{
    return strstr(s, "nan") || strstr(s, "NaN") || strstr(s, "inf") || strstr(s, "Inf");
}

static char *escaped(const char *in)
{
    struct evbuffer *b = evbuffer_new();
    CHECK(html_escape(b, in) == 0);
    char *s = take(b);
    evbuffer_free(b);
    return s;
}

static void test_escape_table(void)
{
    static const struct { const char *in, *want; } cases[] = {
        {"plain", "plain"},
        {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
        {"Tom & Jerry's \"quote\"", "Tom &amp; Jerry&#39;s &quot;quote&quot;"},
        {"a\x01" "b\x7f" "c\td\n", "abc\td\n"},
        {"", ""},
        {"£ UTF-8 é", "£ UTF-8 é"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = escaped(cases[i].in);
        CHECK_STR(s, cases[i].want);
        free(s);
    }
    char *s = escaped(NULL);
    CHECK_STR(s, "");
    free(s);
}

static void test_number_formatting(void)
{
    static const struct { double v; int dp; const char *unit, *want; } cases[] = {
        {1234567.891, 0, "count", "1,234,568"},
        {999, 0, "count", "999"},
        {1000, 0, "count", "1,000"},
        {-1200.5, 1, "count", "-1,200.5"},
        {12.345, 1, "%", "12.3%"},
        {-38400000, 0, "£", "-£38,400,000"},
        {16.5, 1, "FTE", "16.5 FTE"},
        {-0.01, 1, "%", "0.0%"},
        {NAN, 1, "%", "no data"},
        {INFINITY, 0, "count", "no data"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        html_quantity(cases[i].v, cases[i].dp, cases[i].unit, buf, sizeof buf);
        CHECK_STR(buf, cases[i].want);
    }
    html_plain(NAN, 2, buf, sizeof buf);
    CHECK_STR(buf, "");
    html_plain(1234.5, 2, buf, sizeof buf);
    CHECK_STR(buf, "1234.50");
}

static void test_scale_nice_table(void)
{
    static const struct { double min, max; int ticks, zero; double lo, hi, step; } cases[] = {
        {0, 100, 5, 1, 0, 100, 20},
        {3, 97, 5, 1, 0, 100, 20},
        {1200, 3400, 6, 0, 1000, 3500, 500},
        {1200, 3400, 6, 1, 0, 4000, 1000},
        {-12.3, 4.1, 5, 1, -15, 5, 5},
        {50, 50, 5, 0, 45, 55, 2.5},
        {0, 0, 5, 1, 0, 1, 0.2},
        {0.12, 0.47, 5, 0, 0.1, 0.5, 0.1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct svg_scale s;
        svg_scale_nice(cases[i].min, cases[i].max, cases[i].ticks, cases[i].zero, &s);
        CHECK_NEAR(s.lo, cases[i].lo, 1e-9);
        CHECK_NEAR(s.hi, cases[i].hi, 1e-9);
        CHECK_NEAR(s.step, cases[i].step, 1e-9);
        CHECK(s.lo <= cases[i].min && s.hi >= cases[i].max);
        CHECK(s.n_ticks - 1 <= cases[i].ticks);
        CHECK_NEAR(s.lo + (s.n_ticks - 1) * s.step, s.hi, 1e-9);
    }
    struct svg_scale s;
    svg_scale_nice(NAN, INFINITY, 5, 0, &s);
    CHECK(isfinite(s.lo) && isfinite(s.hi) && s.hi > s.lo);
    svg_scale_nice(0, 200, 4, 1, &s);
    CHECK_NEAR(svg_scale_map(&s, 0, 300, 100), 300, 1e-12);
    CHECK_NEAR(svg_scale_map(&s, 200, 300, 100), 100, 1e-12);
    CHECK_NEAR(svg_scale_map(&s, 50, 300, 100), 250, 1e-12);
}

static const struct svg_frame frame = {"c1", "Plans <in> place", "A & B", "Year", "Plans", 0,
                                       "count"};

static void test_line_points_and_missing(void)
{
    const char *x[] = {"2018", "2019", "2020", "2021", "2022"};
    double a[] = {100, 120, NAN, 160, 180};
    double b[] = {90, 95, 100, 105, NAN};
    double c[] = {NAN, NAN, NAN, NAN, NAN};
    struct svg_series s[] = {{"Dorset", a, SVG_FOCUS}, {"Neighbours (median)", b, SVG_COMPARE1},
                             {"England", c, SVG_COMPARE2}};
    struct evbuffer *buf = evbuffer_new();
    CHECK(svg_line_chart(buf, &frame, x, 5, s, 3, 1) == 0);
    char *out = take(buf);
    CHECK(count(out, "class=\"pt\"") == 8);
    CHECK(count(out, "data-series=\"Dorset\" data-period") == 4);
    CHECK(count(out, "data-series=\"England\" data-period") == 0);
    CHECK(strstr(out, "data-period=\"2021\" data-value=\"160\"") != NULL);
    /* the gap at 2020 breaks Dorset's line into two sub-paths */
    const char *dorset = strstr(out, "<g class=\"series\" data-series=\"Dorset\">");
    CHECK(dorset && count(dorset, " M") >= 2);
    CHECK(strstr(out, "role=\"img\"") && strstr(out, "aria-labelledby=\"c1-title c1-desc\""));
    CHECK(strstr(out, "<title id=\"c1-title\">Plans &lt;in&gt; place</title>") != NULL);
    CHECK(strstr(out, "<desc id=\"c1-desc\">A &amp; B</desc>") != NULL);
    CHECK(strstr(out, "stroke-dasharray=\"8 4\"") != NULL);   /* not colour alone */
    CHECK(!has_nonfinite(out));
    CHECK(strstr(out, "No data") == NULL);
    free(out);
    evbuffer_free(buf);
}

/* A y-axis label longer than the plot is tall is squeezed to fit, never
 * cut off; a short one is drawn as it is. */
static void test_long_axis_label_fits(void)
{
    const char *x[] = {"2022", "2023"};
    double a[] = {40, 46};
    struct svg_series s[] = {{"England", a, SVG_FOCUS}};
    struct svg_frame lf = frame;
    lf.y_label = "New plans issued within 20 weeks (%), excluding exceptions, \u00a3 etc.";
    struct evbuffer *buf = evbuffer_new();
    CHECK(svg_line_chart(buf, &lf, x, 2, s, 1, 1) == 0);
    char *out = take(buf);
    const char *lab = strstr(out, "class=\"axis-label\" transform=");
    CHECK(lab != NULL);
    const char *tl = lab ? strstr(lab, "textLength=\"") : NULL;
    CHECK(tl != NULL && tl < strstr(lab, ">"));
    CHECK(tl && atof(tl + strlen("textLength=\"")) <= 250.0);
    CHECK(strstr(out, "lengthAdjust=\"spacingAndGlyphs\"") != NULL);
    free(out);
    CHECK(svg_line_chart(buf, &frame, x, 2, s, 1, 1) == 0);   /* "Plans" */
    out = take(buf);
    CHECK(strstr(out, "textLength") == NULL);
    free(out);
    evbuffer_free(buf);
}

/* y = 0 maps to the bottom of the plot, the top tick to the top. */
static void test_line_scaling(void)
{
    const char *x[] = {"2020", "2021"};
    double a[] = {0, 200};
    struct svg_series s[] = {{"A", a, SVG_FOCUS}};
    struct evbuffer *buf = evbuffer_new();
    CHECK(svg_line_chart(buf, &frame, x, 2, s, 1, 1) == 0);
    char *out = take(buf);
    /* plot: x 78..696, y 16 (top) .. 266 (bottom) */
    CHECK(strstr(out, "cx=\"78.0\" cy=\"266.0\"") != NULL);
    CHECK(strstr(out, "cx=\"696.0\" cy=\"16.0\"") != NULL);
    free(out);
    evbuffer_free(buf);
}

static void test_line_empty_one_point_all_missing(void)
{
    struct evbuffer *buf = evbuffer_new();
    CHECK(svg_line_chart(buf, &frame, NULL, 0, NULL, 0, 1) == 0);
    char *out = take(buf);
    CHECK(count(out, "class=\"pt\"") == 0 && strstr(out, "No data") && !has_nonfinite(out));
    CHECK(strstr(out, "</svg>") != NULL);
    free(out);

    const char *x1[] = {"2022"};
    double one[] = {42};
    struct svg_series s1[] = {{"A", one, SVG_FOCUS}};
    CHECK(svg_line_chart(buf, &frame, x1, 1, s1, 1, 0) == 0);
    out = take(buf);
    CHECK(count(out, "class=\"pt\"") == 1 && !has_nonfinite(out));
    CHECK(strstr(out, "cx=\"387.0\"") != NULL);     /* centred */
    free(out);

    double none[] = {NAN, NAN};
    const char *x2[] = {"2021", "2022"};
    struct svg_series s2[] = {{"A", none, SVG_FOCUS}};
    CHECK(svg_line_chart(buf, &frame, x2, 2, s2, 1, 0) == 0);
    out = take(buf);
    CHECK(count(out, "class=\"pt\"") == 0 && strstr(out, "No data") && !has_nonfinite(out));
    CHECK(strstr(out, "<path class=\"line\"") == NULL);
    free(out);
    evbuffer_free(buf);
}

static void test_hostile_names_escaped(void)
{
    const char *x[] = {"<b>2022</b>"};
    double a[] = {1};
    struct svg_series s[] = {{"<script>alert('x')</script>\" onload=\"evil()", a, SVG_FOCUS}};
    struct svg_frame f = {"id\"><script>", "<script>", "\"&'", "<x>", "<y>", 0, "count"};
    struct evbuffer *buf = evbuffer_new();
    CHECK(svg_line_chart(buf, &f, x, 1, s, 1, 0) == 0);
    struct svg_bar bars[] = {{"O'Brien & <Sons>", "E06\"000001", 5, 1}};
    CHECK(svg_bar_chart(buf, &f, bars, 1, 0) == 0);
    struct svg_fan_point fc[] = {{"<2023>", 2, 1, 3, 0, 4}};
    CHECK(svg_fan_chart(buf, &f, x, a, 1, fc, 1) == 0);
    char *out = take(buf);
    CHECK(strstr(out, "<script") == NULL);
    CHECK(strstr(out, "<b>") == NULL && strstr(out, "<x>") == NULL);
    CHECK(strstr(out, "\" onload=") == NULL);
    CHECK(strstr(out, "O&#39;Brien &amp; &lt;Sons&gt;") != NULL);
    CHECK(strstr(out, "data-code=\"E06&quot;000001\"") != NULL);
    free(out);
    evbuffer_free(buf);
}

static void test_bar_chart_highlight_and_missing(void)
{
    struct svg_bar bars[] = {{"Alpha", "E06000001", 30.5, 1}, {"Beta", "E06000002", 20, 2},
                             {"Gamma", "E06000003", -5, 3}, {"Delta", "E06000004", NAN, 0}};
    struct svg_frame f = {"bars", "Ranked", "All authorities", "value", "authority", 1, "%"};
    struct evbuffer *buf = evbuffer_new();
    CHECK(svg_bar_chart(buf, &f, bars, 4, 1) == 0);
    char *out = take(buf);
    CHECK(count(out, "<g class=\"bar") == 4);
    CHECK(count(out, "data-highlight=\"true\"") == 1);
    const char *hl = strstr(out, "data-highlight=\"true\"");
    const char *beta = strstr(out, "data-code=\"E06000002\"");
    CHECK(hl && beta && beta < hl && hl - beta < 120);
    CHECK(strstr(out, "(selected)") != NULL);            /* text, not only colour */
    CHECK(strstr(out, "url(#bars-hatch)") != NULL);
    CHECK(strstr(out, "data-value=\"30.5\" data-rank=\"1\"") != NULL);
    CHECK(strstr(out, "data-value=\"-5.0\"") != NULL);
    CHECK(strstr(out, "no data") != NULL && !has_nonfinite(out));
    CHECK(strstr(out, "data-code=\"E06000004\" data-name=\"Delta\" data-value=\"\"") != NULL);
    free(out);
    CHECK(svg_bar_chart(buf, &f, NULL, 0, -1) == 0);
    out = take(buf);
    CHECK(strstr(out, "No data") && count(out, "<g class=\"bar") == 0);
    free(out);
    evbuffer_free(buf);
}

static void test_fan_chart(void)
{
    const char *x[] = {"2020", "2021", "2022"};
    double h[] = {100, 110, 120};
    struct svg_fan_point fc[] = {{"2023", 130, 125, 135, 120, 140},
                                 {"2024", 140, 130, 150, 122, 158},
                                 {"2025", NAN, NAN, NAN, NAN, NAN}};
    struct svg_frame f = {"fan", "Forecast", "fan", "Year", "Plans", 0, "count"};
    struct evbuffer *buf = evbuffer_new();
    CHECK(svg_fan_chart(buf, &f, x, h, 3, fc, 3) == 0);
    char *out = take(buf);
    CHECK(count(out, "data-series=\"history\" data-period") == 3);
    CHECK(count(out, "data-series=\"forecast\" data-period") == 2);
    CHECK(strstr(out, "data-period=\"2024\" data-value=\"140\" data-lo80=\"130\" data-hi80=\"150\""
                      " data-lo95=\"122\" data-hi95=\"158\"") != NULL);
    CHECK(count(out, "class=\"band95\"") == 2);   /* fill + hatching */
    CHECK(count(out, "class=\"band80\"") == 1);
    CHECK(strstr(out, "2025") != NULL && !has_nonfinite(out));
    free(out);
    /* no history at all: the fan still draws, no NaN */
    CHECK(svg_fan_chart(buf, &f, NULL, NULL, 0, fc, 2) == 0);
    out = take(buf);
    CHECK(count(out, "class=\"pt\"") == 2 && !has_nonfinite(out));
    free(out);
    CHECK(svg_fan_chart(buf, &f, NULL, NULL, 0, NULL, 0) == 0);
    out = take(buf);
    CHECK(strstr(out, "No data") && !has_nonfinite(out));
    free(out);
    evbuffer_free(buf);
}

int main(void)
{
    RUN(test_escape_table);
    RUN(test_number_formatting);
    RUN(test_scale_nice_table);
    RUN(test_line_points_and_missing);
    RUN(test_line_scaling);
    RUN(test_line_empty_one_point_all_missing);
    RUN(test_hostile_names_escaped);
    RUN(test_bar_chart_highlight_and_missing);
    RUN(test_fan_chart);
    RUN(test_long_axis_label_fits);
    return UNIT_DONE();
}

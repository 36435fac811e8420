/*
 * SVG chart builders (see include/svg.h).  Written by hand: no kept
 * library in our stack draws charts, and the output must be plain inline
 * SVG that passes the pages' Content-Security-Policy (no script, no
 * external fonts or images).
 */
#include "svg.h"

#include <event2/buffer.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

/* The canvas of line and fan charts, in SVG user units. */
#define W 720.0
#define LINE_H 380.0
#define M_LEFT 78.0
#define M_RIGHT 24.0
#define M_TOP 16.0
#define PLOT_H 250.0
#define SVG_CHAR_W 6.6   /* average width of a character at font-size 12 */

struct style_def {
    const char *colour, *dash, *marker;
    double width;
};

/* Colour-blind safe dark hues; each also has its own dash and marker. */
static const struct style_def styles[] = {
    [SVG_FOCUS] = {"#1d3f8f", "", "circle", 3.0},
    [SVG_COMPARE1] = {"#a34a00", "8 4", "square", 2.0},
    [SVG_COMPARE2] = {"#4d4d4d", "2 3", "triangle", 2.0},
    [SVG_COMPARE3] = {"#6a2c8a", "9 3 2 3", "diamond", 2.0},
};

struct w {
    struct evbuffer *b;
    int err;
};

static void put(struct w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct w *w, const char *fmt, ...)
{
    if (w->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (evbuffer_add_vprintf(w->b, fmt, ap) < 0)
        w->err = 1;
    va_end(ap);
}

static void esc(struct w *w, const char *s)
{
    if (!w->err && html_escape(w->b, s ? s : "") != 0)
        w->err = 1;
}

/* Coordinates: one decimal; a non-finite coordinate (which the callers
 * never compute) is drawn at 0 rather than printed. */
static void coord(struct w *w, double v)
{
    put(w, "%.1f", isfinite(v) ? v : 0.0);
}

static void plain(struct w *w, double v, int dp)
{
    char buf[64];
    html_plain(v, dp, buf, sizeof buf);
    put(w, "%s", buf);
}

static const struct style_def *style_of(enum svg_style s)
{
    return (unsigned)s < sizeof styles / sizeof styles[0] ? &styles[s] : &styles[SVG_COMPARE3];
}

void svg_scale_nice(double min, double max, int max_ticks, int include_zero, struct svg_scale *out)
{
    if (!isfinite(min) || !isfinite(max) || min > max) {
        min = 0;
        max = 1;
    }
    if (include_zero) {
        if (min > 0)
            min = 0;
        if (max < 0)
            max = 0;
    }
    if (max - min <= 0) {
        double pad = fabs(max) > 0 ? fabs(max) * 0.1 : 1.0;
        min -= pad;
        max += pad;
        if (include_zero && min < 0 && max - pad >= 0)
            min = 0;
    }
    if (max_ticks < 2)
        max_ticks = 2;
    double raw = (max - min) / max_ticks;
    double mag = pow(10, floor(log10(raw)));
    static const double steps[] = {1, 2, 2.5, 5, 10};
    double step = mag * 10;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        double s = steps[i] * mag;
        if (floor(min / s) * s + s * max_ticks >= max - 1e-12 * fabs(max)) {
            step = s;
            break;
        }
    }
    out->step = step;
    out->lo = floor(min / step + 1e-9) * step;
    out->hi = ceil(max / step - 1e-9) * step;
    if (out->hi <= out->lo)
        out->hi = out->lo + step;
    out->n_ticks = (int)lround((out->hi - out->lo) / step) + 1;
}

double svg_scale_map(const struct svg_scale *s, double v, double a, double b)
{
    return a + (v - s->lo) / (s->hi - s->lo) * (b - a);
}

/* Decimals a tick label needs for this step. */
static int step_dp(double step)
{
    int dp = 0;
    while (dp < 4 && fabs(step * pow(10, dp) - round(step * pow(10, dp))) > 1e-6)
        dp++;
    return dp;
}

/* Tick labels: millions and thousands of pounds shortened so that the
 * axis stays readable ("£38.4m"). */
static void tick_label(const struct svg_scale *s, double v, const char *unit, char *buf,
                       size_t len)
{
    double big = fmax(fabs(s->lo), fabs(s->hi));
    if (unit && strcmp(unit, "£") == 0 && big >= 1e6) {
        char n[40];
        html_number(v / 1e6, step_dp(s->step / 1e6), n, sizeof n);
        snprintf(buf, len, "%s£%sm", n[0] == '-' ? "-" : "", n[0] == '-' ? n + 1 : n);
        return;
    }
    html_quantity(fabs(v) < s->step * 1e-9 ? 0 : v, step_dp(s->step), unit, buf, len);
}

static void open_svg(struct w *w, const struct svg_frame *f, double height)
{
    put(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 %.0f %.0f\""
           " width=\"%.0f\" height=\"%.0f\" aria-labelledby=\"",
        W, height, W, height);
    esc(w, f->id);
    put(w, "-title ");
    esc(w, f->id);
    put(w, "-desc\" id=\"");
    esc(w, f->id);
    put(w, "\" font-family=\"Arial, Helvetica, sans-serif\" font-size=\"12\"><title id=\"");
    esc(w, f->id);
    put(w, "-title\">");
    esc(w, f->title);
    put(w, "</title><desc id=\"");
    esc(w, f->id);
    put(w, "-desc\">");
    esc(w, f->desc);
    put(w, "</desc>");
    /* Hatching for the highlighted bar and the 95% band. */
    put(w, "<defs><pattern id=\"");
    esc(w, f->id);
    put(w, "-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
           "patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" "
           "stroke=\"#ffffff\" stroke-width=\"2\" stroke-opacity=\"0.7\"/></pattern></defs>");
    put(w, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>", W, height);
}

static void y_axis(struct w *w, const struct svg_frame *f, const struct svg_scale *s,
                   double top, double bottom, double left, double right)
{
    put(w, "<g class=\"y-axis\">");
    for (int i = 0; i < s->n_ticks; i++) {
        double v = s->lo + i * s->step;
        double y = svg_scale_map(s, v, bottom, top);
        char label[64];
        tick_label(s, v, f->unit, label, sizeof label);
        put(w, "<line x1=\"");
        coord(w, left);
        put(w, "\" x2=\"");
        coord(w, right);
        put(w, "\" y1=\"");
        coord(w, y);
        put(w, "\" y2=\"");
        coord(w, y);
        put(w, "\" stroke=\"%s\" stroke-width=\"1\"/>", fabs(v) < s->step * 1e-9 ? "#666666" : "#dddddd");
        put(w, "<text class=\"tick\" x=\"");
        coord(w, left - 6);
        put(w, "\" y=\"");
        coord(w, y + 4);
        put(w, "\" text-anchor=\"end\">");
        esc(w, label);
        put(w, "</text>");
    }
    put(w, "<text class=\"axis-label\" transform=\"translate(14 ");
    coord(w, (top + bottom) / 2);
    put(w, ") rotate(-90)\" text-anchor=\"middle\"");
    {
        /* The label runs along the plot's height: one longer than that (at
         * about 0.55 em a character of 12 px Arial) is drawn squeezed to
         * fit rather than cut off at both ends ("..., excluding excep"). */
        size_t chars = 0;
        for (const char *c = f->y_label ? f->y_label : ""; *c; c++)
            chars += ((unsigned char)*c & 0xC0) != 0x80;   /* UTF-8 characters */
        double room = (bottom - top) - 8;
        if ((double)chars * SVG_CHAR_W > room && room > 0) {
            put(w, " textLength=\"");
            coord(w, room);
            put(w, "\" lengthAdjust=\"spacingAndGlyphs\"");
        }
    }
    put(w, ">");
    esc(w, f->y_label);
    put(w, "</text></g>");
}

/* X positions of n periods across the plot. */
static double x_at(size_t i, size_t n, double left, double right)
{
    if (n <= 1)
        return (left + right) / 2;
    return left + (right - left) * (double)i / (double)(n - 1);
}

static void x_axis(struct w *w, const struct svg_frame *f, const char *const *x, size_t n,
                   double left, double right, double bottom)
{
    put(w, "<g class=\"x-axis\"><line x1=\"");
    coord(w, left);
    put(w, "\" x2=\"");
    coord(w, right);
    put(w, "\" y1=\"");
    coord(w, bottom);
    put(w, "\" y2=\"");
    coord(w, bottom);
    put(w, "\" stroke=\"#666666\"/>");
    /* Labels are about 50 units wide: skip some when they would overlap,
     * always keeping the last (the latest period). */
    size_t fit = (size_t)((right - left) / 52) + 1;
    size_t stride = n > fit ? (n + fit - 1) / fit : 1;
    for (size_t i = 0; i < n; i++) {
        double xx = x_at(i, n, left, right);
        int labelled = ((n - 1 - i) % stride) == 0;
        put(w, "<line x1=\"");
        coord(w, xx);
        put(w, "\" x2=\"");
        coord(w, xx);
        put(w, "\" y1=\"");
        coord(w, bottom);
        put(w, "\" y2=\"");
        coord(w, bottom + (labelled ? 5 : 3));
        put(w, "\" stroke=\"#666666\"/>");
        if (!labelled)
            continue;
        put(w, "<text class=\"tick\" x=\"");
        coord(w, xx);
        put(w, "\" y=\"");
        coord(w, bottom + 18);
        /* A long label (a quarter, "2025-26 Q2") at either end of the axis
         * is anchored inside the plot so it is not cut off. */
        int wide = n > 1 && strlen(x[i]) > 7;
        put(w, wide && i == 0 ? "\" text-anchor=\"start\">"
               : wide && i == n - 1 ? "\" text-anchor=\"end\">" : "\" text-anchor=\"middle\">");
        esc(w, x[i]);
        put(w, "</text>");
    }
    put(w, "<text class=\"axis-label\" x=\"");
    coord(w, (left + right) / 2);
    put(w, "\" y=\"");
    coord(w, bottom + 38);
    put(w, "\" text-anchor=\"middle\">");
    esc(w, f->x_label);
    put(w, "</text></g>");
}

/* A marker shape centred on (x, y); attrs (already escaped) go inside the
 * element, and the tooltip becomes its <title>. */
static void marker_open(struct w *w, const struct style_def *st, double x, double y)
{
    if (strcmp(st->marker, "circle") == 0) {
        put(w, "<circle cx=\"");
        coord(w, x);
        put(w, "\" cy=\"");
        coord(w, y);
        put(w, "\" r=\"4.5\"");
    } else if (strcmp(st->marker, "square") == 0) {
        put(w, "<rect x=\"");
        coord(w, x - 4);
        put(w, "\" y=\"");
        coord(w, y - 4);
        put(w, "\" width=\"8\" height=\"8\"");
    } else if (strcmp(st->marker, "triangle") == 0) {
        put(w, "<path d=\"M");
        coord(w, x);
        put(w, " ");
        coord(w, y - 5);
        put(w, " L");
        coord(w, x + 5);
        put(w, " ");
        coord(w, y + 4);
        put(w, " L");
        coord(w, x - 5);
        put(w, " ");
        coord(w, y + 4);
        put(w, " Z\"");
    } else {
        put(w, "<path d=\"M");
        coord(w, x);
        put(w, " ");
        coord(w, y - 5);
        put(w, " L");
        coord(w, x + 5);
        put(w, " ");
        coord(w, y);
        put(w, " L");
        coord(w, x);
        put(w, " ");
        coord(w, y + 5);
        put(w, " L");
        coord(w, x - 5);
        put(w, " ");
        coord(w, y);
        put(w, " Z\"");
    }
    put(w, " fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"1\"", st->colour);
}

static const char *marker_close(const struct style_def *st)
{
    if (strcmp(st->marker, "circle") == 0)
        return "</circle>";
    if (strcmp(st->marker, "square") == 0)
        return "</rect>";
    return "</path>";
}

/* A data point: marker + data-* + a tooltip "series, period: value". */
static void point(struct w *w, const struct svg_frame *f, const struct style_def *st,
                  const char *series, const char *period, double x, double y, double v)
{
    char q[64];
    marker_open(w, st, x, y);
    put(w, " class=\"pt\" data-series=\"");
    esc(w, series);
    put(w, "\" data-period=\"");
    esc(w, period);
    put(w, "\" data-value=\"");
    plain(w, v, f->dp);
    put(w, "\"><title>");
    esc(w, series);
    put(w, ", ");
    esc(w, period);
    put(w, ": ");
    html_quantity(v, f->dp, f->unit, q, sizeof q);
    esc(w, q);
    put(w, "</title>%s", marker_close(st));
}

static void legend_item(struct w *w, double *lx, double *ly, const struct style_def *st,
                        const char *name, const char *fill)
{
    double text_w = 7.0 * (double)strlen(name ? name : "") + 44;
    if (*lx + text_w > W - M_RIGHT && *lx > M_LEFT) {
        *lx = M_LEFT;
        *ly += 20;
    }
    put(w, "<g class=\"legend-item\">");
    if (fill) {
        put(w, "<rect x=\"");
        coord(w, *lx);
        put(w, "\" y=\"");
        coord(w, *ly - 7);
        put(w, "\" width=\"28\" height=\"12\" fill=\"%s\"/>", fill);
    } else {
        put(w, "<line x1=\"");
        coord(w, *lx);
        put(w, "\" x2=\"");
        coord(w, *lx + 28);
        put(w, "\" y1=\"");
        coord(w, *ly);
        put(w, "\" y2=\"");
        coord(w, *ly);
        put(w, "\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-dasharray=\"%s\"/>", st->colour,
            st->width, st->dash);
        marker_open(w, st, *lx + 14, *ly);
        put(w, "/>");
    }
    put(w, "<text x=\"");
    coord(w, *lx + 34);
    put(w, "\" y=\"");
    coord(w, *ly + 4);
    put(w, "\">");
    esc(w, name);
    put(w, "</text></g>");
    *lx += text_w;
}

static void no_data(struct w *w, double y)
{
    put(w, "<text class=\"no-data\" x=\"%.0f\" y=\"", W / 2);
    coord(w, y);
    put(w, "\" text-anchor=\"middle\" font-size=\"16\">No data to draw</text>");
}

/* A polyline through the finite values, broken at missing ones. */
static void series_path(struct w *w, const struct style_def *st, const double *xs,
                        const double *ys, size_t n, const char *dash_override)
{
    int pen = 0, any = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(ys[i])) {
            pen = 0;
            continue;
        }
        if (!any) {
            put(w, "<path class=\"line\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" "
                   "stroke-dasharray=\"%s\" stroke-linejoin=\"round\" d=\"",
                st->colour, st->width, dash_override ? dash_override : st->dash);
            any = 1;
        }
        put(w, "%s", pen ? " L" : " M");
        coord(w, xs[i]);
        put(w, " ");
        coord(w, ys[i]);
        pen = 1;
    }
    if (any)
        put(w, "\"/>");
}

int svg_line_chart(struct evbuffer *out, const struct svg_frame *f, const char *const *x,
                   size_t n_x, const struct svg_series *series, size_t n_series,
                   int zero_based)
{
    struct w w = {out, 0};
    double min = INFINITY, max = -INFINITY;
    size_t finite = 0;
    for (size_t s = 0; s < n_series; s++)
        for (size_t i = 0; i < n_x; i++) {
            double v = series[s].y[i];
            if (!isfinite(v))
                continue;
            finite++;
            min = fmin(min, v);
            max = fmax(max, v);
        }
    double top = M_TOP, bottom = M_TOP + PLOT_H, left = M_LEFT, right = W - M_RIGHT;
    struct svg_scale sc;
    svg_scale_nice(finite ? min : 0, finite ? max : 1, 6, zero_based, &sc);

    double *xs = calloc(n_x ? n_x : 1, sizeof *xs);
    double *ys = calloc(n_x ? n_x : 1, sizeof *ys);
    if (!xs || !ys) {
        free(xs);
        free(ys);
        return -1;
    }
    open_svg(&w, f, LINE_H);
    y_axis(&w, f, &sc, top, bottom, left, right);
    x_axis(&w, f, x, n_x, left, right, bottom);
    if (!finite)
        no_data(&w, (top + bottom) / 2);
    /* Draw comparisons first so that the focus series is on top. */
    for (size_t k = 0; k < n_series; k++) {
        size_t s = n_series - 1 - k;
        const struct style_def *st = style_of(series[s].style);
        for (size_t i = 0; i < n_x; i++) {
            xs[i] = x_at(i, n_x, left, right);
            double v = series[s].y[i];
            ys[i] = isfinite(v) ? svg_scale_map(&sc, v, bottom, top) : NAN;
        }
        put(&w, "<g class=\"series\" data-series=\"");
        esc(&w, series[s].name);
        put(&w, "\">");
        series_path(&w, st, xs, ys, n_x, NULL);
        for (size_t i = 0; i < n_x; i++)
            if (isfinite(series[s].y[i]))
                point(&w, f, st, series[s].name, x[i], xs[i], ys[i], series[s].y[i]);
        put(&w, "</g>");
    }
    double lx = left, ly = bottom + 62;
    put(&w, "<g class=\"legend\">");
    for (size_t s = 0; s < n_series; s++)
        legend_item(&w, &lx, &ly, style_of(series[s].style), series[s].name, NULL);
    put(&w, "</g></svg>");
    free(xs);
    free(ys);
    return w.err ? -1 : 0;
}

int svg_bar_chart(struct evbuffer *out, const struct svg_frame *f, const struct svg_bar *bars,
                  size_t n, long highlight)
{
    struct w w = {out, 0};
    const double bar_h = 16, top = 40, label_right = 250, plot_left = 258, plot_right = 640;
    double height = top + (double)(n ? n : 1) * bar_h + 40;
    double min = INFINITY, max = -INFINITY;
    size_t finite = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(bars[i].value)) {
            finite++;
            min = fmin(min, bars[i].value);
            max = fmax(max, bars[i].value);
        }
    struct svg_scale sc;
    svg_scale_nice(finite ? min : 0, finite ? max : 1, 5, 1, &sc);
    double x0 = svg_scale_map(&sc, 0, plot_left, plot_right);

    open_svg(&w, f, height);
    /* Ticks along the top, grid lines down the plot. */
    put(&w, "<g class=\"x-axis\">");
    for (int i = 0; i < sc.n_ticks; i++) {
        double v = sc.lo + i * sc.step;
        double xx = svg_scale_map(&sc, v, plot_left, plot_right);
        char label[64];
        tick_label(&sc, v, f->unit, label, sizeof label);
        put(&w, "<line x1=\"");
        coord(&w, xx);
        put(&w, "\" x2=\"");
        coord(&w, xx);
        put(&w, "\" y1=\"");
        coord(&w, top - 4);
        put(&w, "\" y2=\"");
        coord(&w, height - 40);
        put(&w, "\" stroke=\"%s\"/>", fabs(v) < sc.step * 1e-9 ? "#666666" : "#dddddd");
        put(&w, "<text class=\"tick\" x=\"");
        coord(&w, xx);
        put(&w, "\" y=\"");
        coord(&w, top - 8);
        put(&w, "\" text-anchor=\"middle\">");
        esc(&w, label);
        put(&w, "</text>");
    }
    put(&w, "<text class=\"axis-label\" x=\"");
    coord(&w, (plot_left + plot_right) / 2);
    put(&w, "\" y=\"14\" text-anchor=\"middle\">");
    esc(&w, f->x_label);
    put(&w, "</text><text class=\"axis-label\" x=\"");
    coord(&w, label_right);
    put(&w, "\" y=\"14\" text-anchor=\"end\">");
    esc(&w, f->y_label);
    put(&w, "</text></g>");
    if (!n)
        no_data(&w, top + 12);

    for (size_t i = 0; i < n; i++) {
        const struct svg_bar *b = &bars[i];
        int hl = (long)i == highlight;
        double y = top + (double)i * bar_h;
        char q[64];
        html_quantity(b->value, f->dp, f->unit, q, sizeof q);
        put(&w, "<g class=\"bar%s\" data-code=\"", hl ? " highlight" : "");
        esc(&w, b->code);
        put(&w, "\" data-name=\"");
        esc(&w, b->label);
        put(&w, "\" data-value=\"");
        plain(&w, b->value, f->dp);
        put(&w, "\" data-rank=\"%d\" data-highlight=\"%s\"><title>", b->rank, hl ? "true" : "false");
        if (b->rank > 0)
            put(&w, "%d. ", b->rank);
        esc(&w, b->label);
        put(&w, ": ");
        esc(&w, q);
        put(&w, "%s</title>", hl ? " (selected)" : "");
        if (hl) {
            put(&w, "<rect x=\"4\" y=\"");
            coord(&w, y);
            put(&w, "\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff2b3\"/>", W - 8, bar_h);
        }
        put(&w, "<text x=\"");
        coord(&w, label_right);
        put(&w, "\" y=\"");
        coord(&w, y + bar_h - 4);
        put(&w, "\" text-anchor=\"end\"%s>", hl ? " font-weight=\"bold\"" : "");
        if (hl)
            put(&w, "\xe2\x96\xb6 ");   /* U+25B6: an arrow as well as colour */
        esc(&w, b->label);
        put(&w, "</text>");
        if (isfinite(b->value)) {
            double xv = svg_scale_map(&sc, b->value, plot_left, plot_right);
            double bx = fmin(x0, xv), bw = fmax(fabs(xv - x0), 1);
            const char *fill = hl ? "#1d3f8f" : "#9bb1d6";
            for (int layer = 0; layer < (hl ? 2 : 1); layer++) {
                put(&w, "<rect x=\"");
                coord(&w, bx);
                put(&w, "\" y=\"");
                coord(&w, y + 2);
                put(&w, "\" width=\"");
                coord(&w, bw);
                put(&w, "\" height=\"%.0f\" fill=\"", bar_h - 4);
                if (layer == 0) {
                    put(&w, "%s\"", fill);
                } else {
                    put(&w, "url(#");
                    esc(&w, f->id);
                    put(&w, "-hatch)\"");
                }
                put(&w, "/>");
            }
            put(&w, "<text x=\"");
            coord(&w, fmax(x0, xv) + 4);
            put(&w, "\" y=\"");
            coord(&w, y + bar_h - 4);
            put(&w, "\"%s>", hl ? " font-weight=\"bold\"" : "");
            esc(&w, q);
            put(&w, "%s</text>", hl ? " (selected)" : "");
        } else {
            put(&w, "<text x=\"");
            coord(&w, x0 + 4);
            put(&w, "\" y=\"");
            coord(&w, y + bar_h - 4);
            put(&w, "\" fill=\"#555555\">no data</text>");
        }
        put(&w, "</g>");
    }
    put(&w, "</svg>");
    return w.err ? -1 : 0;
}

static void band(struct w *w, const double *xs, const double *lo, const double *hi, size_t n,
                 const char *fill, const char *cls, const char *id, int hatched)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(lo[i]) && isfinite(hi[i]))
            k++;
    if (k < 2)
        return;
    for (int layer = 0; layer < (hatched ? 2 : 1); layer++) {
        put(w, "<path class=\"%s\" d=\"", cls);
        int first = 1;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(lo[i]) || !isfinite(hi[i]))
                continue;
            put(w, "%s", first ? "M" : " L");
            coord(w, xs[i]);
            put(w, " ");
            coord(w, hi[i]);
            first = 0;
        }
        for (size_t j = n; j-- > 0;) {
            if (!isfinite(lo[j]) || !isfinite(hi[j]))
                continue;
            put(w, " L");
            coord(w, xs[j]);
            put(w, " ");
            coord(w, lo[j]);
        }
        if (layer == 0) {
            put(w, " Z\" fill=\"%s\" stroke=\"none\"/>", fill);
        } else {
            put(w, " Z\" fill=\"url(#");
            esc(w, id);
            put(w, "-hatch)\" stroke=\"none\"/>");
        }
    }
}

int svg_fan_chart(struct evbuffer *out, const struct svg_frame *f, const char *const *hist_x,
                  const double *hist_y, size_t n_hist, const struct svg_fan_point *fc,
                  size_t n_fc)
{
    struct w w = {out, 0};
    size_t n = n_hist + n_fc;
    double min = INFINITY, max = -INFINITY;
    size_t finite = 0;
    long last = -1;
    for (size_t i = 0; i < n_hist; i++)
        if (isfinite(hist_y[i])) {
            finite++;
            min = fmin(min, hist_y[i]);
            max = fmax(max, hist_y[i]);
            last = (long)i;
        }
    for (size_t j = 0; j < n_fc; j++) {
        const double v[5] = {fc[j].forecast, fc[j].lo80, fc[j].hi80, fc[j].lo95, fc[j].hi95};
        for (int k = 0; k < 5; k++)
            if (isfinite(v[k])) {
                finite++;
                min = fmin(min, v[k]);
                max = fmax(max, v[k]);
            }
    }
    double top = M_TOP, bottom = M_TOP + PLOT_H, left = M_LEFT, right = W - M_RIGHT;
    struct svg_scale sc;
    svg_scale_nice(finite ? min : 0, finite ? max : 1, 6, 0, &sc);

    size_t m = n ? n : 1;
    const char **labels = calloc(m, sizeof *labels);
    double *buf = calloc(m * 7, sizeof *buf);
    if (!labels || !buf) {
        free(labels);
        free(buf);
        return -1;
    }
    double *xs = buf, *hy = buf + m, *fy = buf + 2 * m, *lo80 = buf + 3 * m, *hi80 = buf + 4 * m,
           *lo95 = buf + 5 * m, *hi95 = buf + 6 * m;
    for (size_t i = 0; i < n; i++) {
        labels[i] = i < n_hist ? hist_x[i] : fc[i - n_hist].period;
        xs[i] = x_at(i, n, left, right);
        hy[i] = fy[i] = lo80[i] = hi80[i] = lo95[i] = hi95[i] = NAN;
        if (i < n_hist && isfinite(hist_y[i]))
            hy[i] = svg_scale_map(&sc, hist_y[i], bottom, top);
    }
    /* The fan opens at the last actual: bands and the forecast line start
     * there. */
    if (last >= 0 && n_fc) {
        fy[last] = lo80[last] = hi80[last] = lo95[last] = hi95[last] = hy[last];
    }
    for (size_t j = 0; j < n_fc; j++) {
        size_t i = n_hist + j;
#define MAPV(dst, v) dst[i] = isfinite(v) ? svg_scale_map(&sc, (v), bottom, top) : NAN
        MAPV(fy, fc[j].forecast);
        MAPV(lo80, fc[j].lo80);
        MAPV(hi80, fc[j].hi80);
        MAPV(lo95, fc[j].lo95);
        MAPV(hi95, fc[j].hi95);
#undef MAPV
    }
    open_svg(&w, f, LINE_H);
    y_axis(&w, f, &sc, top, bottom, left, right);
    x_axis(&w, f, labels, n, left, right, bottom);
    if (!finite)
        no_data(&w, (top + bottom) / 2);
    band(&w, xs, lo95, hi95, n, "#c6d4ee", "band95", f->id, 1);
    band(&w, xs, lo80, hi80, n, "#7f9fd6", "band80", f->id, 0);

    const struct style_def *hist_st = style_of(SVG_FOCUS);
    struct style_def fc_st = *style_of(SVG_FOCUS);
    fc_st.marker = "diamond";
    fc_st.dash = "7 4";
    fc_st.colour = "#0b2259";
    put(&w, "<g class=\"series\" data-series=\"history\">");
    series_path(&w, hist_st, xs, hy, n, NULL);
    for (size_t i = 0; i < n_hist; i++)
        if (isfinite(hist_y[i]))
            point(&w, f, hist_st, "history", hist_x[i], xs[i], hy[i], hist_y[i]);
    put(&w, "</g><g class=\"series\" data-series=\"forecast\">");
    series_path(&w, &fc_st, xs, fy, n, NULL);
    for (size_t j = 0; j < n_fc; j++) {
        size_t i = n_hist + j;
        if (!isfinite(fc[j].forecast))
            continue;
        char q[64];
        marker_open(&w, &fc_st, xs[i], fy[i]);
        put(&w, " class=\"pt\" data-series=\"forecast\" data-period=\"");
        esc(&w, fc[j].period);
        put(&w, "\" data-value=\"");
        plain(&w, fc[j].forecast, f->dp);
        put(&w, "\" data-lo80=\"");
        plain(&w, fc[j].lo80, f->dp);
        put(&w, "\" data-hi80=\"");
        plain(&w, fc[j].hi80, f->dp);
        put(&w, "\" data-lo95=\"");
        plain(&w, fc[j].lo95, f->dp);
        put(&w, "\" data-hi95=\"");
        plain(&w, fc[j].hi95, f->dp);
        put(&w, "\"><title>Forecast, ");
        esc(&w, fc[j].period);
        put(&w, ": ");
        html_quantity(fc[j].forecast, f->dp, f->unit, q, sizeof q);
        esc(&w, q);
        put(&w, " (80%%: ");
        html_quantity(fc[j].lo80, f->dp, f->unit, q, sizeof q);
        esc(&w, q);
        put(&w, " to ");
        html_quantity(fc[j].hi80, f->dp, f->unit, q, sizeof q);
        esc(&w, q);
        put(&w, "; 95%%: ");
        html_quantity(fc[j].lo95, f->dp, f->unit, q, sizeof q);
        esc(&w, q);
        put(&w, " to ");
        html_quantity(fc[j].hi95, f->dp, f->unit, q, sizeof q);
        esc(&w, q);
        put(&w, ")</title>%s", marker_close(&fc_st));
    }
    put(&w, "</g>");
    double lx = left, ly = bottom + 62;
    put(&w, "<g class=\"legend\">");
    legend_item(&w, &lx, &ly, hist_st, "Actual", NULL);
    legend_item(&w, &lx, &ly, &fc_st, "Forecast", NULL);
    legend_item(&w, &lx, &ly, NULL, "80% interval", "#7f9fd6");
    legend_item(&w, &lx, &ly, NULL, "95% interval (lighter)", "#c6d4ee");
    put(&w, "</g></svg>");
    free(labels);
    free(buf);
    return w.err ? -1 : 0;
}

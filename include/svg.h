/*
 * SVG charts for the web pages and the evidence pack: pure C, no I/O; each
 * builder appends one self-contained <svg> element to the caller's
 * evbuffer.
 *
 * Every chart is an image with a name (role="img", aria-labelledby pointing
 * at its <title> and <desc>), axis labels and tick values.  Series differ by
 * dash pattern and marker shape as well as by colour, so colour is never
 * the only signal.  Each data point is an element of class "pt" carrying
 * data-series, data-period and data-value (plain numbers), so a test can
 * count points and read values from the DOM.  Missing values (NAN) break a
 * line and draw no point; NaN or infinity is never printed.  Every string
 * is HTML-escaped here; callers pass raw text.
 */
#ifndef SENDBENCH_SVG_H
#define SENDBENCH_SVG_H

#include <stddef.h>

struct evbuffer;

/* Series styles: the focus (the chosen authority) is drawn darkest and
 * thickest with round markers; the comparisons dashed with squares, dotted
 * with triangles, dash-dotted with diamonds. */
enum svg_style { SVG_FOCUS, SVG_COMPARE1, SVG_COMPARE2, SVG_COMPARE3 };

struct svg_series {
    const char *name;       /* legend and data-series text */
    const double *y;        /* one value per x label; NAN = missing */
    enum svg_style style;
};

/* Texts shared by every chart; borrowed. */
struct svg_frame {
    const char *id;         /* unique on the page: [A-Za-z0-9_-], used for element ids */
    const char *title;      /* short name of the chart */
    const char *desc;       /* what it shows, in words, for screen readers */
    const char *x_label;
    const char *y_label;
    int dp;                 /* decimals of data-value and tooltips */
    const char *unit;       /* metric unit for tick labels: "%", "£", "count"... */
};

/* A linear axis from lo to hi with ticks every step (lo and hi are
 * multiples of step).  svg_scale_nice picks 1, 2, 2.5 or 5 x 10^k steps
 * so that there are at most max_ticks intervals and [min, max] fits;
 * with include_zero the axis also reaches 0.  A zero-width or empty range
 * is widened so that the axis always has extent. */
struct svg_scale {
    double lo, hi, step;
    int n_ticks;            /* tick marks, lo..hi inclusive */
};
void svg_scale_nice(double min, double max, int max_ticks, int include_zero,
                    struct svg_scale *out);
/* Maps v in [s->lo, s->hi] onto [a, b] linearly. */
double svg_scale_map(const struct svg_scale *s, double v, double a, double b);

/* Line chart: n_x periods on the x axis, n_series series.  The y axis
 * includes zero when zero_based.  Returns 0, or -1 when out of memory. */
int svg_line_chart(struct evbuffer *out, const struct svg_frame *f, const char *const *x,
                   size_t n_x, const struct svg_series *series, size_t n_series,
                   int zero_based) __attribute__((warn_unused_result));

/* Ranked horizontal bar chart: bars in the order given (the caller ranks
 * them); bars[highlight] is drawn dark, hatched, bold and marked
 * "(selected)" in text; highlight -1 for none.  Bars start at zero, so
 * negative values extend left. */
struct svg_bar {
    const char *label;      /* authority name */
    const char *code;       /* data-code */
    double value;           /* NAN: listed, no bar, "no data" */
    int rank;               /* data-rank; 0 for none */
};
int svg_bar_chart(struct evbuffer *out, const struct svg_frame *f, const struct svg_bar *bars,
                  size_t n, long highlight) __attribute__((warn_unused_result));

/* Forecast fan: the history line (n_hist periods), then for n_fc future
 * periods the 95% band (light, hatched), the 80% band (darker) and the
 * point forecast (dashed).  The fan opens from the last actual value. */
struct svg_fan_point {
    const char *period;
    double forecast, lo80, hi80, lo95, hi95;
};
int svg_fan_chart(struct evbuffer *out, const struct svg_frame *f, const char *const *hist_x,
                  const double *hist_y, size_t n_hist, const struct svg_fan_point *fc,
                  size_t n_fc) __attribute__((warn_unused_result));

#endif

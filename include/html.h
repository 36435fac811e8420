/*
 * HTML text helpers for server-rendered pages: escaping of every string
 * that came from the database or the client, and number formatting.
 * Pure: no I/O beyond appending to the caller's evbuffer.
 */
#ifndef SENDBENCH_HTML_H
#define SENDBENCH_HTML_H

#include <stddef.h>

struct evbuffer;

/* Appends s with & < > " ' escaped, so the result is safe both as element
 * text and inside a double- or single-quoted attribute.  NULL appends
 * nothing.  Bytes below 0x20 other than tab/newline are dropped (they are
 * not valid in HTML text).  Returns 0, or -1 when out of memory. */
int html_escape(struct evbuffer *out, const char *s) __attribute__((warn_unused_result));

/* The same for the first len bytes of s. */
int html_escape_len(struct evbuffer *out, const char *s, size_t len)
    __attribute__((warn_unused_result));

/* Formats v rounded to dp decimals with thousands separators ("12,345.6",
 * "-1,200").  A value that is not finite gives "no data": NaN or infinity
 * is never printed.  buf should hold 40 bytes; always NUL-terminated. */
void html_number(double v, int dp, char *buf, size_t len);

/* html_number with the unit of the metric catalogue: '%' -> "12.3%",
 * '£' -> "£1,234" (negative "-£1,234"), 'FTE' -> "16.5 FTE", count and
 * ratio bare. */
void html_quantity(double v, int dp, const char *unit, char *buf, size_t len);

/* A plain decimal for machine-readable places (data-* attributes, CSV):
 * no separators, at most dp decimals, trailing zeros kept; "" when v is not
 * finite. */
void html_plain(double v, int dp, char *buf, size_t len);

#endif

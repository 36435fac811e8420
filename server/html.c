/* HTML escaping and number formatting for the web pages. */
#include "html.h"

#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int html_escape_len(struct evbuffer *out, const char *s, size_t len)
{
    if (!s)
        return 0;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n')
                rep = "";
            else if (c == 0x7f)
                rep = "";
        }
        if (!rep)
            continue;
        if (i > start && evbuffer_add(out, s + start, i - start) != 0)
            return -1;
        if (*rep && evbuffer_add(out, rep, strlen(rep)) != 0)
            return -1;
        start = i + 1;
    }
    if (len > start && evbuffer_add(out, s + start, len - start) != 0)
        return -1;
    return 0;
}

int html_escape(struct evbuffer *out, const char *s)
{
    return s ? html_escape_len(out, s, strlen(s)) : 0;
}

void html_plain(double v, int dp, char *buf, size_t len)
{
    if (!len)
        return;
    if (!isfinite(v)) {
        buf[0] = '\0';
        return;
    }
    if (dp < 0)
        dp = 0;
    if (dp > 6)
        dp = 6;
    snprintf(buf, len, "%.*f", dp, v);
    /* "-0" and "-0.0" read as a negative figure: print zero plainly. */
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
        memmove(buf, buf + 1, strlen(buf));
}

void html_number(double v, int dp, char *buf, size_t len)
{
    char plain[64];
    if (!len)
        return;
    if (!isfinite(v) || fabs(v) >= 1e18) {
        snprintf(buf, len, "no data");
        return;
    }
    html_plain(v, dp, plain, sizeof plain);
    const char *p = plain;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    size_t intlen = strcspn(p, ".");
    char out[96];
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    for (size_t i = 0; i < intlen; i++) {
        if (i > 0 && (intlen - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = p[i];
    }
    size_t rest = strlen(p + intlen);
    memcpy(out + o, p + intlen, rest);
    o += rest;
    out[o] = '\0';
    snprintf(buf, len, "%s", out);
}

void html_quantity(double v, int dp, const char *unit, char *buf, size_t len)
{
    char n[64];
    html_number(v, dp, n, sizeof n);
    if (!isfinite(v) || !unit) {
        snprintf(buf, len, "%s", n);
    } else if (strcmp(unit, "%") == 0) {
        snprintf(buf, len, "%s%%", n);
    } else if (strcmp(unit, "£") == 0) {
        if (n[0] == '-')
            snprintf(buf, len, "-£%s", n + 1);
        else
            snprintf(buf, len, "£%s", n);
    } else if (strcmp(unit, "FTE") == 0) {
        snprintf(buf, len, "%s FTE", n);
    } else {
        snprintf(buf, len, "%s", n);
    }
}

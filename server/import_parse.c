#include "import_parse.h"

#include "codes.h"
#include "period.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum import_cell_kind import_cell_parse(const char *s, bool integer, struct import_cell *out)
{
    out->text[0] = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    if (len == 0)
        return out->kind = IMPORT_CELL_EMPTY;
    static const char *const symbols[] = {"x", "c", "z", "low", NULL};
    for (const char *const *sym = symbols; *sym; sym++)
        if (strlen(*sym) == len && memcmp(*sym, s, len) == 0) {
            memcpy(out->text, s, len + 1);
            out->text[len] = '\0';
            return out->kind = IMPORT_CELL_SYMBOL;
        }
    if (len >= sizeof out->text)
        return out->kind = IMPORT_CELL_INVALID;
    size_t i = 0, digits = 0, frac = 0;
    bool dot = false;
    if (s[0] == '-')
        i++;
    for (; i < len; i++) {
        if (isdigit((unsigned char)s[i])) {
            digits++;
            if (dot)
                frac++;
        } else if (s[i] == '.' && !dot && !integer) {
            dot = true;
        } else {
            return out->kind = IMPORT_CELL_INVALID;
        }
    }
    if (digits == 0 || (dot && frac == 0) || (dot && digits == frac))
        return out->kind = IMPORT_CELL_INVALID;
    memcpy(out->text, s, len);
    out->text[len] = '\0';
    return out->kind = IMPORT_CELL_VALUE;
}

const char *import_period_kind_name(enum import_period_kind kind)
{
    return period_basis_name((enum period_basis)kind);
}

void import_census_day(int year, char out[16])
{
    struct period p = {PERIOD_YEAR, year, 0};
    period_basis_start(&p, PERIOD_CENSUS_YEAR, out, 16);
}

int import_period_parse(const char *tp, enum import_period_kind kind, char period[16],
                        char start[16])
{
    struct period p;
    if (period_from_dfe(tp, (enum period_basis)kind, 0, &p) != 0)
        return -1;
    period_format(&p, period, 16);
    period_basis_start(&p, (enum period_basis)kind, start, 16);
    return 0;
}

bool import_is_old_la_code(const char *s)
{
    return code_is_dfe_authority(s);
}

bool import_is_new_la_code(const char *s)
{
    return code_is_ons_authority(s);
}

bool import_is_region_code(const char *s)
{
    return code_is_region(s);
}

const char *import_closeness_canonical(const char *label)
{
    /* The DfE labels (statistical neighbours model, May 2025); the file
     * writes some with a capital C ("Very Close"): the same label. */
    static const char *const labels[] = {"Extremely close", "Very close", "Close",
                                         "Somewhat close", "Not close", NULL};
    for (const char *const *l = labels; *l; l++)
        if (strcasecmp(*l, label) == 0)
            return *l;
    return NULL;
}

int import_decimal_canonical(const char *s, char *out, size_t cap)
{
    bool neg = *s == '-';
    if (neg)
        s++;
    size_t whole = strspn(s, "0123456789");
    if (whole == 0)
        return -1;
    const char *frac = s + whole;
    size_t nfrac = 0;
    if (*frac == '.') {
        frac++;
        nfrac = strspn(frac, "0123456789");
        if (nfrac == 0 || frac[nfrac] != '\0')
            return -1;
    } else if (*frac != '\0') {
        return -1;
    }
    while (whole > 1 && *s == '0') {
        s++;
        whole--;
    }
    while (nfrac > 0 && frac[nfrac - 1] == '0')
        nfrac--;
    if (whole == 1 && *s == '0' && nfrac == 0)
        neg = false;
    size_t need = (neg ? 1 : 0) + whole + (nfrac ? 1 + nfrac : 0) + 1;
    if (need > cap)
        return -1;
    char *o = out;
    if (neg)
        *o++ = '-';
    memcpy(o, s, whole);
    o += whole;
    if (nfrac) {
        *o++ = '.';
        memcpy(o, frac, nfrac);
        o += nfrac;
    }
    *o = '\0';
    return 0;
}

static int buf_reserve(struct import_buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more)
        cap *= 2;
    char *n = realloc(b->data, cap);
    if (!n)
        return -1;
    b->data = n;
    b->cap = cap;
    return 0;
}

int import_buf_copy_field(struct import_buf *b, const char *s, bool last)
{
    size_t len = s ? strlen(s) : 0;
    if (buf_reserve(b, 2 * len + 3) != 0)
        return -1;
    if (!s) {
        b->data[b->len++] = '\\';
        b->data[b->len++] = 'N';
    } else {
        for (size_t i = 0; i < len; i++) {
            char c = s[i];
            if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
                b->data[b->len++] = '\\';
                c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
            }
            b->data[b->len++] = c;
        }
    }
    b->data[b->len++] = last ? '\n' : '\t';
    return 0;
}

int import_buf_put(struct import_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n + 1) != 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void import_buf_free(struct import_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

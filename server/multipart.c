#include "multipart.h"

#include <string.h>
#include <strings.h>

/* RFC 2046's bchars, without the space (a boundary ending in a space is
 * allowed there but no browser sends one, and quoting it is then needed). */
static int boundary_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=?", c) != NULL;
}

int multipart_boundary(const char *ct, char *out, size_t outlen)
{
    static const char type[] = "multipart/form-data";
    if (!ct || strncasecmp(ct, type, sizeof type - 1) != 0 || outlen < MULTIPART_MAX_BOUNDARY + 1)
        return -1;
    const char *p = ct + sizeof type - 1;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *key = p;
        while (*p && *p != '=' && *p != ';')
            p++;
        size_t klen = (size_t)(p - key);
        while (klen && (key[klen - 1] == ' ' || key[klen - 1] == '\t'))
            klen--;
        if (*p != '=') {
            if (*p)
                p++;
            continue;
        }
        p++;
        int quoted = *p == '"';
        if (quoted)
            p++;
        const char *v = p;
        while (*p && (quoted ? *p != '"' : (*p != ';' && *p != ' ' && *p != '\t')))
            p++;
        size_t vlen = (size_t)(p - v);
        if (quoted) {
            if (*p != '"')
                return -1;
            p++;
        }
        if (klen == 8 && strncasecmp(key, "boundary", 8) == 0) {
            if (vlen < 1 || vlen > MULTIPART_MAX_BOUNDARY)
                return -1;
            for (size_t i = 0; i < vlen; i++)
                if (!boundary_char((unsigned char)v[i]))
                    return -1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return 0;
        }
    }
    return -1;
}

static const char *find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    return nlen <= hlen ? memmem(hay, hlen, needle, nlen) : NULL;
}

/* The name="..." (and whether a filename=) of one Content-Disposition
 * value; 0, or -1 when it is not form-data or has no acceptable name. */
static int disposition(const char *v, size_t len, struct multipart_part *part)
{
    static const char fd[] = "form-data";
    if (len < sizeof fd - 1 || strncasecmp(v, fd, sizeof fd - 1) != 0)
        return -1;
    size_t i = sizeof fd - 1;
    int named = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ';'))
            i++;
        size_t k = i;
        while (i < len && v[i] != '=' && v[i] != ';')
            i++;
        size_t klen = i - k;
        if (i >= len || v[i] != '=')
            continue;
        i++;
        char val[MULTIPART_MAX_NAME + 1];
        size_t n = 0;
        int toolong = 0;
        if (i < len && v[i] == '"') {
            i++;
            while (i < len && v[i] != '"') {
                if (v[i] == '\\' && i + 1 < len)
                    i++;
                if (n < MULTIPART_MAX_NAME)
                    val[n++] = v[i];
                else
                    toolong = 1;
                i++;
            }
            if (i >= len)
                return -1;          /* unterminated quoted string */
            i++;
        } else {
            while (i < len && v[i] != ';' && v[i] != ' ' && v[i] != '\t') {
                if (n < MULTIPART_MAX_NAME)
                    val[n++] = v[i];
                else
                    toolong = 1;
                i++;
            }
        }
        val[n] = '\0';
        if (klen == 4 && strncasecmp(v + k, "name", 4) == 0) {
            if (named || toolong || n == 0)
                return -1;
            for (size_t j = 0; j < n; j++) {
                unsigned char c = (unsigned char)val[j];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '.' || c == '_' || c == '-'))
                    return -1;
            }
            memcpy(part->name, val, n + 1);
            named = 1;
        } else if (klen == 8 && strncasecmp(v + k, "filename", 8) == 0) {
            part->is_file = 1;
        }
    }
    return named ? 0 : -1;
}

/* The header block [p, p + len) of one part (without its closing blank
 * line): 0, or -1 with *why. */
static int part_headers(const char *p, size_t len, struct multipart_part *part, const char **why)
{
    int seen = 0;
    size_t i = 0;
    while (i < len) {
        const char *eol = find(p + i, len - i, "\r\n", 2);
        size_t llen = eol ? (size_t)(eol - (p + i)) : len - i;
        const char *line = p + i;
        for (size_t j = 0; j < llen; j++)
            if ((unsigned char)line[j] < 0x20 && line[j] != '\t') {
                *why = "a part's header has a control character";
                return -1;
            }
        static const char cd[] = "content-disposition:";
        if (llen >= sizeof cd - 1 && strncasecmp(line, cd, sizeof cd - 1) == 0) {
            size_t k = sizeof cd - 1;
            while (k < llen && (line[k] == ' ' || line[k] == '\t'))
                k++;
            if (seen || disposition(line + k, llen - k, part) != 0) {
                *why = "a part's Content-Disposition is not form-data with a name";
                return -1;
            }
            seen = 1;
        }
        i += llen + 2;
    }
    if (!seen) {
        *why = "a part has no Content-Disposition";
        return -1;
    }
    return 0;
}

int multipart_parse(const char *body, size_t len, const char *boundary,
                    struct multipart_form *form, const char **why)
{
    memset(form, 0, sizeof *form);
    char delim[MULTIPART_MAX_BOUNDARY + 5];
    size_t blen = strlen(boundary);
    *why = "the body is not multipart/form-data";
    if (blen < 1 || blen > MULTIPART_MAX_BOUNDARY || !body)
        return -1;
    /* delim = CRLF "--" boundary; the first may start the body */
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen);
    size_t dlen = blen + 4;
    const char *end = body + len;
    const char *p;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = body + dlen - 2;
    } else {
        const char *d = find(body, len, delim, dlen);
        if (!d) {
            *why = "the body has no boundary line";
            return -1;
        }
        p = d + dlen;
    }
    for (;;) {
        /* after a delimiter: "--" ends the body, else padding and CRLF */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return form->n > 0 ? 0 : (*why = "the body has no parts", -1);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
            *why = "a boundary line is not followed by a line end";
            return -1;
        }
        p += 2;
        if (form->n >= MULTIPART_MAX_PARTS) {
            *why = "the body has too many parts";
            return -1;
        }
        struct multipart_part *part = &form->parts[form->n];
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            *why = "a part has no Content-Disposition";
            return -1;
        }
        size_t room = (size_t)(end - p);
        const char *hend = find(p, room < MULTIPART_MAX_HEADER + 4 ? room : MULTIPART_MAX_HEADER + 4,
                                "\r\n\r\n", 4);
        if (!hend) {
            *why = "a part's headers are missing their end or are too long";
            return -1;
        }
        if (part_headers(p, (size_t)(hend - p), part, why) != 0)
            return -1;
        const char *data = hend + 4;
        const char *next = find(data, (size_t)(end - data), delim, dlen);
        if (!next) {
            *why = "the body's closing boundary is missing";
            return -1;
        }
        part->data = data;
        part->len = (size_t)(next - data);
        form->n++;
        p = next + dlen;
    }
}

const struct multipart_part *multipart_get(const struct multipart_form *form, const char *name)
{
    for (int i = 0; i < form->n; i++)
        if (strcmp(form->parts[i].name, name) == 0)
            return &form->parts[i];
    return NULL;
}

#include "form.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <string.h>
#include <strings.h>

#include "html.h"
#include "http.h"

void form_init(struct evkeyvalq *fields)
{
    fields->tqh_first = NULL; /* TAILQ_INIT without sys/queue.h */
    fields->tqh_last = &fields->tqh_first;
}

int form_text_ok(const char *s, int multiline)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x20 || *p == 0x7f) {
            if (!(multiline && (*p == '\n' || *p == '\r' || *p == '\t')))
                return 0;
            p++;
            continue;
        }
        if (*p < 0x80) {
            p++;
            continue;
        }
        int n = (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || *p == 0xc0 || *p == 0xc1 || *p > 0xf4)
            return 0;
        unsigned cp = *p & (0x3f >> n);
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

int form_parse(const char *body, size_t len, struct evkeyvalq *fields)
{
    if (memchr(body, '\0', len) || strcasestr(body, "%00"))
        return -1;     /* a NUL, raw or encoded, would cut a value short unseen */
    /* evhttp_parse_query_str decodes %XX and '+' (as a space). */
    if (evhttp_parse_query_str(body, fields) != 0)
        return -1;
    for (struct evkeyval *kv = fields->tqh_first; kv; kv = kv->next.tqe_next)
        if (!form_text_ok(kv->key, 0) || !form_text_ok(kv->value, 1))
            return -1;
    return 0;
}

int form_read(struct request *r, struct evkeyvalq *fields)
{
    const char *ct = http_header(r, "Content-Type");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
        return -1;
    size_t len = 0;
    const char *body = http_body(r, &len);
    return form_parse(body, len, fields);
}

int form_csrf_field(struct evbuffer *b, const char *csrf)
{
    if (evbuffer_add_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"") < 0 ||
        html_escape(b, csrf) != 0 || evbuffer_add_printf(b, "\">") < 0)
        return -1;
    return 0;
}

#include "form.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <string.h>
#include <strings.h>

#include "html.h"
#include "http.h"
#include "utf8.h"

void form_init(struct evkeyvalq *fields)
{
    fields->tqh_first = NULL; /* TAILQ_INIT without sys/queue.h */
    fields->tqh_last = &fields->tqh_first;
}

int form_text_ok(const char *s, int multiline)
{
    return utf8_text_ok(s, multiline);
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

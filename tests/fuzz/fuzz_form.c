/* libFuzzer: the signed-in pages' urlencoded forms (include/form.h:
 * form_parse, form_text_ok), which the return, sign-in and admin forms
 * read.  Invariants: never a crash; on success every key is one-line text
 * and every value text (newlines and tabs allowed), with no NUL; a body
 * with a NUL (raw or %00) is refused; form_text_ok never accepts a string
 * that holds a control character other than \n, \r and \t. */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, int multiline)
{
    if (!form_text_ok(s, multiline))
        abort();
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 || *p == 0x7f) && !(multiline && (*p == '\n' || *p == '\r' || *p == '\t')))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *body = malloc(size + 1);
    if (!body)
        return 0;
    memcpy(body, data, size);
    body[size] = '\0';
    struct evkeyvalq fields;
    form_init(&fields);
    int rc = form_parse(body, size, &fields);
    if (rc == 0) {
        if (memchr(body, '\0', size))
            abort();
        for (struct evkeyval *kv = fields.tqh_first; kv; kv = kv->next.tqe_next) {
            check_text(kv->key, 0);
            check_text(kv->value, 1);
        }
    }
    evhttp_clear_headers(&fields);
    /* form_text_ok on the raw bytes as a string */
    form_text_ok(body, (int)(size & 1));
    free(body);
    return 0;
}

/* libFuzzer: multipart/form-data bodies (include/multipart.h), the return
 * form's upload.  Invariants: never a crash or a read outside the body;
 * on success every part's bytes lie inside the body, in order and without
 * overlap, and every name is 1-64 bytes of [A-Za-z0-9._-]; the boundary
 * reader only ever accepts boundaries the parser takes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the first line is the Content-Type, the rest the body */
    const uint8_t *nl = memchr(data, '\n', size < 200 ? size : 200);
    if (!nl)
        return 0;
    size_t ctlen = (size_t)(nl - data);
    char ct[201];
    memcpy(ct, data, ctlen);
    ct[ctlen] = '\0';
    char boundary[MULTIPART_MAX_BOUNDARY + 1];
    if (multipart_boundary(ct, boundary, sizeof boundary) != 0)
        memcpy(boundary, "b", 2);
    size_t blen = strlen(boundary);
    if (blen < 1 || blen > MULTIPART_MAX_BOUNDARY)
        abort();
    /* the body in its own allocation so that ASan sees any overread */
    size_t len = size - ctlen - 1;
    char *body = malloc(len ? len : 1);
    if (!body)
        return 0;
    memcpy(body, nl + 1, len);
    struct multipart_form f;
    const char *why = NULL;
    if (multipart_parse(body, len, boundary, &f, &why) == 0) {
        if (f.n < 1 || f.n > MULTIPART_MAX_PARTS)
            abort();
        const char *prev_end = body;
        for (int i = 0; i < f.n; i++) {
            const struct multipart_part *p = &f.parts[i];
            if (p->data < prev_end || p->data + p->len > body + len)
                abort();
            prev_end = p->data + p->len;
            size_t n = strlen(p->name);
            if (n < 1 || n > MULTIPART_MAX_NAME || strspn(p->name, "abcdefghijklmnopqrstuvwxyz"
                                                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                   "0123456789._-") != n)
                abort();
            if (multipart_get(&f, p->name) == NULL)
                abort();
        }
    } else if (!why || !*why) {
        abort();
    }
    free(body);
    return 0;
}

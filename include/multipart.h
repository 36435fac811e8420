/*
 * multipart/form-data bodies (RFC 7578), as a browser sends a form with a
 * file input: the return form's CSV upload (server/routes_returns.c).
 *
 * Written by hand because none of our kept libraries reads it (evhttp
 * parses only urlencoded forms) and the part we need is small: the
 * boundary from the Content-Type, then each part's Content-Disposition
 * name and its bytes.  Pure: no I/O.  A part's name is at most
 * MULTIPART_MAX_NAME bytes of [A-Za-z0-9._-] (our forms' names); a body with
 * more than MULTIPART_MAX_PARTS parts, a part without a name, a missing
 * closing boundary or a header block over MULTIPART_MAX_HEADER bytes is
 * refused whole.
 */
#ifndef SENDBENCH_MULTIPART_H
#define SENDBENCH_MULTIPART_H

#include <stddef.h>

#define MULTIPART_MAX_PARTS 32
#define MULTIPART_MAX_NAME 64
#define MULTIPART_MAX_HEADER 2048
#define MULTIPART_MAX_BOUNDARY 70   /* RFC 2046 */

struct multipart_part {
    char name[MULTIPART_MAX_NAME + 1];
    int is_file;                                /* a filename parameter was given (its
                                                   value is not kept: nothing shows it) */
    const char *data;                           /* borrowed: points into the body */
    size_t len;
};

struct multipart_form {
    struct multipart_part parts[MULTIPART_MAX_PARTS];
    int n;
};

/* The boundary of a "multipart/form-data; boundary=..." Content-Type into
 * out (at least MULTIPART_MAX_BOUNDARY + 1 bytes): 0, or -1 when the type
 * is another one or the boundary is missing or not acceptable. */
int multipart_boundary(const char *content_type, char *out, size_t outlen)
    __attribute__((warn_unused_result));

/* Splits body into form's parts (their data borrowed from body, which must
 * outlive form).  0, or -1 with a reason (static text) in *why. */
int multipart_parse(const char *body, size_t len, const char *boundary,
                    struct multipart_form *form, const char **why)
    __attribute__((warn_unused_result));

/* The first part called name, or NULL. */
const struct multipart_part *multipart_get(const struct multipart_form *form, const char *name);

#endif

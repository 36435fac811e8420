/* multipart/form-data bodies (server/multipart.c): the boundary of a
 * Content-Type, the parts of a body as browsers send them, and refusals. */
#include <string.h>

#include "multipart.h"
#include "unit.h"

static void test_boundary(void)
{
    static const struct {
        const char *ct;
        const char *want; /* NULL: refused */
    } cases[] = {
        {"multipart/form-data; boundary=----WebKitFormBoundaryX3aB", "----WebKitFormBoundaryX3aB"},
        {"Multipart/Form-Data;boundary=\"abc def\"", NULL},   /* a space: refused */
        {"multipart/form-data; charset=utf-8; boundary=\"q1'()+_,-./:=?\"", "q1'()+_,-./:=?"},
        {"multipart/form-data; boundary=abc; charset=utf-8", "abc"},
        {"multipart/form-data", NULL},
        {"multipart/form-data; boundary=", NULL},
        {"multipart/form-data; boundary=\"unterminated", NULL},
        {"multipart/mixed; boundary=abc", NULL},
        {"application/x-www-form-urlencoded", NULL},
        {"multipart/form-data; boundary=a<b", NULL},
        {"multipart/form-data; boundary=0123456789012345678901234567890123456789012345678901234567890123456789X",
         NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char b[MULTIPART_MAX_BOUNDARY + 1];
        int rc = multipart_boundary(cases[i].ct, b, sizeof b);
        if (cases[i].want) {
            CHECK(rc == 0);
            CHECK(rc == 0 && strcmp(b, cases[i].want) == 0);
        } else {
            CHECK(rc == -1);
        }
    }
}

/* What Chromium sends for a form with a hidden field, a file and a button. */
static const char BROWSER[] =
    "------WebKitFormBoundaryQ\r\n"
    "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
    "tok123\r\n"
    "------WebKitFormBoundaryQ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"q2 \\\"final\\\".csv\"\r\n"
    "Content-Type: text/csv\r\n\r\n"
    "time_period,new_la_code\r\n2025-26 Q2,E06000059\r\n\r\n"
    "------WebKitFormBoundaryQ\r\n"
    "Content-Disposition: form-data; name=\"action\"\r\n\r\n"
    "upload\r\n"
    "------WebKitFormBoundaryQ--\r\n";

static void test_browser_body(void)
{
    struct multipart_form f;
    const char *why = NULL;
    CHECK(multipart_parse(BROWSER, sizeof BROWSER - 1, "----WebKitFormBoundaryQ", &f, &why) == 0);
    CHECK(f.n == 3);
    const struct multipart_part *p = multipart_get(&f, "csrf");
    CHECK(p && p->len == 6 && memcmp(p->data, "tok123", 6) == 0 && !p->is_file);
    p = multipart_get(&f, "file");
    static const char csv[] = "time_period,new_la_code\r\n2025-26 Q2,E06000059\r\n";
    CHECK(p && p->is_file && p->len == sizeof csv - 1 && memcmp(p->data, csv, p->len) == 0);
    p = multipart_get(&f, "action");
    CHECK(p && p->len == 6 && memcmp(p->data, "upload", 6) == 0);
    CHECK(multipart_get(&f, "nothing") == NULL);
    /* a preamble before the first boundary and an empty file */
    static const char pre[] = "ignored preamble\r\n--b\r\ncontent-disposition: form-data; "
                              "name=file; filename=\"\"\r\n\r\n\r\n--b--";
    CHECK(multipart_parse(pre, sizeof pre - 1, "b", &f, &why) == 0);
    CHECK(f.n == 1 && f.parts[0].len == 0 && f.parts[0].is_file);
}

static void test_refusals(void)
{
    static const char *bad[] = {
        "",                                                                  /* empty */
        "--b--",                                                             /* no parts */
        "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",       /* no end */
        "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",                 /* no disposition */
        "--b\r\n\r\nx\r\n--b--",                                             /* no headers */
        "--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--",
        "--b\r\nContent-Disposition: form-data; filename=\"f\"\r\n\r\nx\r\n--b--", /* no name */
        "--b\r\nContent-Disposition: form-data; name=\"a b\"\r\n\r\nx\r\n--b--",   /* bad name */
        "--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--",       /* unterminated */
        "--b\r\nContent-Disposition: form-data; name=a; name=c\r\n\r\nx\r\n--b--",  /* two names */
        "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nX: \x01\r\n\r\nx\r\n--b--",
        "--bxContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--",        /* no CRLF */
        "no boundary at all",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct multipart_form f;
        const char *why = NULL;
        CHECK(multipart_parse(bad[i], strlen(bad[i]), "b", &f, &why) == -1);
        CHECK(why != NULL && *why);
    }
    /* more parts than MULTIPART_MAX_PARTS */
    char big[8192];
    size_t n = 0;
    for (int i = 0; i <= MULTIPART_MAX_PARTS; i++)
        n += (size_t)snprintf(big + n, sizeof big - n,
                              "--b\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\nv\r\n", i);
    n += (size_t)snprintf(big + n, sizeof big - n, "--b--");
    struct multipart_form f;
    const char *why = NULL;
    CHECK(multipart_parse(big, n, "b", &f, &why) == -1);
    CHECK(why && strstr(why, "too many"));
    /* a name of 65 bytes */
    char longname[256];
    snprintf(longname, sizeof longname, "--b\r\nContent-Disposition: form-data; name=\"%065d\"\r\n"
                                        "\r\nv\r\n--b--", 0);
    CHECK(multipart_parse(longname, strlen(longname), "b", &f, &why) == -1);
}

int main(void)
{
    RUN(test_boundary);
    RUN(test_browser_body);
    RUN(test_refusals);
    return UNIT_DONE();
}

/* People's pure parts: the password policy and Argon2id round trip
 * (server/password.c), cookie parsing and CSRF comparison
 * (server/sessions.c), email form (server/users.c) and form bodies
 * (server/form.c). */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "form.h"
#include "password.h"
#include "sessions.h"
#include "unit.h"
#include "users.h"

static void test_password_policy(void)
{
    static const struct {
        const char *pw;
        int ok;
    } cases[] = {
        {"correct horse battery", 1}, {"0123456789", 1}, {"short", 0}, {"123456789", 0},
        {"aaaaaaaaaaaa", 0}, {"ann@dorset.example", 0}, {"ANN@DORSET.EXAMPLE", 0},
        {"tab\there is bad", 0}, {"caf\xc3\xa9 au lait!", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *why = password_policy(cases[i].pw, "ann@dorset.example");
        if ((why == NULL) != cases[i].ok)
            fprintf(stderr, "case %zu: %s -> %s\n", i, cases[i].pw, why ? why : "ok");
        CHECK((why == NULL) == cases[i].ok);
    }
    char longpw[300];
    memset(longpw, 'x', sizeof longpw - 2);
    longpw[0] = 'y';
    longpw[sizeof longpw - 2] = 'z';
    longpw[sizeof longpw - 1] = '\0';
    CHECK(password_policy(longpw, NULL) != NULL);
}

static void test_argon2id_round_trip(void)
{
    char h1[PASSWORD_HASH_LEN], h2[PASSWORD_HASH_LEN];
    CHECK(password_init() == 0);
    CHECK(password_hash("correct horse battery", h1) == 0);
    CHECK(password_hash("correct horse battery", h2) == 0);
    CHECK(strncmp(h1, "$argon2id$v=19$", 15) == 0);
    CHECK(strcmp(h1, h2) != 0);                 /* a salt of its own each time */
    CHECK(password_verify(h1, "correct horse battery") == 1);
    CHECK(password_verify(h2, "correct horse battery") == 1);
    CHECK(password_verify(h1, "correct horse batterz") == 0);
    CHECK(password_verify(h1, "") == 0);
    CHECK(password_verify("plain text", "plain text") == 0);
    CHECK(password_verify(NULL, "x") == 0);
    h1[strlen(h1) - 3] ^= 1;                    /* a damaged hash never matches */
    CHECK(password_verify(h1, "correct horse battery") == 0);
}

static void test_cookie_parsing(void)
{
    const char *ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_";
    char want[64], out[AUTH_SECRET_LEN + 1];
    snprintf(want, sizeof want, "%s", ok);
    static const struct {
        const char *header;
        int found;
    } cases[] = {
        {"sb_session=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_", 1},
        {"a=b; sb_session=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_; c=d", 1},
        {"x_sb_session=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_", 0},
        {"sb_session=short", 0},
        {"sb_session=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_x", 0},
        {"sb_session=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN%2F", 0},
        {"sb_session=bad; sb_session=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_", 1},
        {"sb_session=", 0}, {"", 0}, {";;;", 0}, {NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = session_cookie_get(cases[i].header, "sb_session", out);
        CHECK((rc == 0) == cases[i].found);
        if (rc == 0)
            CHECK_STR(out, want);
    }
}

static void test_csrf_comparison(void)
{
    const char *a = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_";
    CHECK(session_csrf_ok(a, a) == 1);
    CHECK(session_csrf_ok(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-x") == 0);
    CHECK(session_csrf_ok(a, "") == 0);
    CHECK(session_csrf_ok(a, NULL) == 0);
    CHECK(session_csrf_ok(NULL, a) == 0);
    CHECK(session_csrf_ok(a, "abc") == 0);
}

static void test_roles_and_emails(void)
{
    CHECK(session_role_parse("approver") == ROLE_APPROVER);
    CHECK(session_role_parse("Approver") == ROLE_NONE);
    CHECK(session_role_parse(NULL) == ROLE_NONE);
    CHECK_STR(session_role_name(ROLE_SUBMITTER), "submitter");
    CHECK(users_email_ok("ann@dorset.example") == 1);
    CHECK(users_email_ok("a@b") == 1);
    CHECK(users_email_ok("ann") == 0);
    CHECK(users_email_ok("@dorset") == 0);
    CHECK(users_email_ok("ann@") == 0);
    CHECK(users_email_ok("a@b@c") == 0);
    CHECK(users_email_ok("ann @dorset.example") == 0);
    CHECK(users_email_ok(NULL) == 0);
}

static void test_form_bodies(void)
{
    struct evkeyvalq f;
    form_init(&f);
    const char body[] = "email=ann%40dorset.example&password=a+b%26c&note=line1%0D%0Aline2";
    CHECK(form_parse(body, sizeof body - 1, &f) == 0);
    CHECK_STR(evhttp_find_header(&f, "email"), "ann@dorset.example");
    CHECK_STR(evhttp_find_header(&f, "password"), "a b&c");
    CHECK_STR(evhttp_find_header(&f, "note"), "line1\r\nline2");
    evhttp_clear_headers(&f);
    static const char *const bad[] = {"a=%ff", "a=%00", "a=%c0%80", "a=%1b", "a=x%00y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        form_init(&f);
        CHECK(form_parse(bad[i], strlen(bad[i]), &f) == -1);
        evhttp_clear_headers(&f);
    }
    CHECK(form_text_ok("tab\there", 1) == 1);
    CHECK(form_text_ok("tab\there", 0) == 0);
}

int main(void)
{
    RUN(test_password_policy);
    RUN(test_argon2id_round_trip);
    RUN(test_cookie_parsing);
    RUN(test_csrf_comparison);
    RUN(test_roles_and_emails);
    RUN(test_form_bodies);
    return UNIT_DONE();
}

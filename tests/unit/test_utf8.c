/* The UTF-8 rule (include/utf8.h), table-driven. */
#include "utf8.h"

#include <string.h>

#include "unit.h"

struct utf8_case {
    const char *name, *s;
    size_t first;       /* utf8_seq_len at s[0] */
    int ok, ok_multiline;
};

static const struct utf8_case cases[] = {
    {"ascii", "Dorset", 1, 1, 1},
    {"empty", "", 1, 1, 1},
    {"pound", "\xc2\xa3" "1m", 2, 1, 1},
    {"em dash", "\xe2\x80\x94", 3, 1, 1},
    {"emoji", "\xf0\x9f\x98\x80", 4, 1, 1},
    {"U+10FFFF", "\xf4\x8f\xbf\xbf", 4, 1, 1},
    {"beyond U+10FFFF", "\xf4\x90\x80\x80", 0, 0, 0},
    {"lead f5", "\xf5\x80\x80\x80", 0, 0, 0},
    {"overlong 2", "\xc0\xaf", 0, 0, 0},
    {"overlong c1", "\xc1\xbf", 0, 0, 0},
    {"overlong 3", "\xe0\x80\xaf", 0, 0, 0},
    {"overlong 4", "\xf0\x80\x80\xaf", 0, 0, 0},
    {"surrogate", "\xed\xa0\x80", 0, 0, 0},
    {"last before surrogates", "\xed\x9f\xbf", 3, 1, 1},
    {"stray continuation", "\x80", 0, 0, 0},
    {"cut short", "\xe2\x80", 0, 0, 0},
    {"cut short at the end", "ok\xe2", 1, 0, 0},
    {"newline", "a\nb", 1, 0, 1},
    {"tab", "a\tb", 1, 0, 1},
    {"carriage return", "a\rb", 1, 0, 1},
    {"escape", "a\x1b" "b", 1, 0, 0},
    {"delete", "a\x7f", 1, 0, 0},
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct utf8_case *c = &cases[i];
        unit_case_name = c->name;
        if (c->s[0])
            CHECK(utf8_seq_len((const unsigned char *)c->s) == c->first);
        CHECK(utf8_text_ok(c->s, 0) == c->ok);
        CHECK(utf8_text_ok(c->s, 1) == c->ok_multiline);
    }
    unit_case_name = "test_cases";
}

int main(void)
{
    RUN(test_cases);
    return UNIT_DONE();
}

#include <stdint.h>

#include "db_read.h"
#include "unit.h"

/* WAL positions as PostgreSQL prints them (pg_lsn's text form). */
static void test_lsn_parse(void)
{
    uint64_t v = 1;
    CHECK(db_lsn_parse("0/0", &v) == 0 && v == 0);
    CHECK(db_lsn_parse("16/B374D848", &v) == 0 && v == ((uint64_t)0x16 << 32 | 0xB374D848u));
    CHECK(db_lsn_parse("ffffffff/ffffffff", &v) == 0 && v == UINT64_MAX);
    /* The order of positions is the order of their numbers. */
    uint64_t a, b;
    CHECK(db_lsn_parse("0/FFFFFFFF", &a) == 0 && db_lsn_parse("1/0", &b) == 0 && a < b);
    static const char *const bad[] = {"", "/", "0/", "/0", "0", "0/0/0", "g/0", "0/-1",
                                      " 0/0", "0/0 ", "100000000/0", "0/100000000", "+1/0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        CHECK(db_lsn_parse(bad[i], &v) == -1 && v == 7);
    }
    CHECK(db_lsn_parse(NULL, &v) == -1);
}

int main(void)
{
    RUN(test_lsn_parse);
    return UNIT_DONE();
}

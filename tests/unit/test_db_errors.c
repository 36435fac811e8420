#include "db_errors.h"
#include "unit.h"

static void test_classes(void)
{
    static const struct { const char *s; int unavailable, reconnect; } cases[] = {
        {"25006", 1, 1},    /* read_only_sql_transaction: a standby */
        {"40001", 1, 0},    /* serialization_failure */
        {"40P01", 1, 0},    /* deadlock_detected */
        {"57P01", 1, 1},    /* admin_shutdown */
        {"57P02", 1, 1},    /* crash_shutdown */
        {"57P03", 1, 1},    /* cannot_connect_now */
        {"57P04", 1, 1},    /* database_dropped */
        {"57P05", 1, 1},    /* idle_session_timeout */
        {"57014", 0, 0},    /* query_canceled (statement_timeout): a 500, as before */
        {"08000", 1, 1}, {"08003", 1, 1}, {"08006", 1, 1}, {"08P01", 1, 1},
        {"23505", 0, 0}, {"22P02", 0, 0}, {"SBK01", 0, 0}, {"25P02", 0, 0},
        {"", 0, 0}, {"0800", 0, 0}, {"080000", 0, 0}, {NULL, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(db_sqlstate_unavailable(cases[i].s) == cases[i].unavailable);
        CHECK(db_sqlstate_reconnect(cases[i].s) == cases[i].reconnect);
    }
}

int main(void)
{
    RUN(test_classes);
    return UNIT_DONE();
}

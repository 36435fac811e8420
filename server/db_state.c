/* The pool's state as others see it: counters, whether it is up, and the
 * session options it connects with (include/db.h). */
#include <stdio.h>

#include "db.h"
#include "db_internal.h"

/* jit=off: our statements are short and many; PostgreSQL's JIT switches on
 * by estimated cost, and a profile's plan (estimates far above its real
 * work) spent 0.1-20 s compiling for a few milliseconds of execution. */
void db_session_options(const char *role, char *out, size_t outlen)
{
    if (role && *role)
        snprintf(out, outlen, "-c statement_timeout=30000 -c jit=off -c role=%s", role);
    else
        snprintf(out, outlen, "-c statement_timeout=30000 -c jit=off");
}

void db_pool_get_stats(const struct db_pool *pool, struct db_pool_stats *out)
{
    *out = pool->stats;
    out->connecting = pool->lists[CONN_CONNECTING].n;
    out->idle = pool->lists[CONN_IDLE].n;
    out->busy = pool->lists[CONN_BUSY].n;
    out->down = pool->lists[CONN_DOWN].n;
    out->queued = pool->queues[DB_READ].n + pool->queues[DB_WRITE].n;
    out->write_queued = pool->queues[DB_WRITE].n;
    out->write_busy = pool->busy[DB_WRITE];
    out->write_max = pool->write_max;
}

int db_pool_is_up(const struct db_pool *pool, const char **reason)
{
    if (pool->lists[CONN_IDLE].n + pool->lists[CONN_BUSY].n > 0)
        return 1;
    *reason = pool->last_error;
    return 0;
}

int db_pool_listener_up(const struct db_pool *pool)
{
    return pool->listener && pool->listener->state == CONN_IDLE;
}

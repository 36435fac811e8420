/* `sendbench serve`: the event loop, its signals and an orderly shutdown. */
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "password.h"
#include "changes.h"
#include "cli.h"
#include "config.h"
#include "db.h"
#include "db_read.h"
#include "dbsync.h"
#include "forecast_worker.h"
#include "http.h"
#include "log.h"
#include "migrate.h"
#include "routes.h"

static struct app *the_app;   /* for the signal callbacks only */
static int signals_seen;

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct app *app = arg;
    log_warn("shutdown: %d request(s) still in flight after the drain timeout; exiting",
             app->in_flight);
    event_base_loopexit(app->base, NULL);
}

static void drain_start(struct app *app)
{
    log_info("shutdown: closing the listening socket; draining %d in-flight request(s)",
             app->in_flight);
    app->draining = 1;
    struct timeval tv = {app->cfg->drain_timeout_s, 0};
    app->drain_check = evtimer_new(app->base, drain_timeout_cb, app);
    if (app->drain_check)
        evtimer_add(app->drain_check, &tv);
    http_server_stop_accepting(app);
}

static void drain_delay_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    drain_start(arg);
}

/* First SIGTERM/SIGINT: /readyz fails at once; requests are still served
 * for the drain delay (a balancer's health check needs that long to take
 * the server out), then the listening socket closes, in-flight requests
 * finish, and the loop ends.  A second signal: exit at once. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct app *app = arg;
    if (++signals_seen > 1) {
        log_warn("second signal %d: exiting now", (int)sig);
        _exit(1);
    }
    app->unready = 1;
    int delay = app->cfg->drain_delay_s;
    if (delay > 0) {
        log_info("signal %d: /readyz fails; serving %d s more before closing the socket",
                 (int)sig, delay);
        struct timeval tv = {delay, 0};
        app->drain_delay = evtimer_new(app->base, drain_delay_cb, app);
        if (app->drain_delay && evtimer_add(app->drain_delay, &tv) == 0)
            return;
    }
    log_info("signal %d", (int)sig);
    drain_start(app);
}

/* A random id for this process: request ids and the heartbeat channel are
 * unique across the servers of one deployment. */
static int instance_init(void)
{
    unsigned char b[6];
    char id[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return -1;
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(id + 2 * i, 3, "%02x", b[i]);
    log_set_instance(id);
    return 0;
}

static int parse_flags(struct config *cfg, int argc, char **argv)
{
    char err[256];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            return cli_usage_error("serve: unexpected argument \"%.60s\"", a);
        const char *eq = strchr(a, '=');
        char name[64];
        const char *value;
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a - 2), a + 2);
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a + 2);
            if (i + 1 >= argc)
                return cli_usage_error("serve: --%s needs a value", name);
            value = argv[++i];
        }
        if (config_set(cfg, name, value, err, sizeof err) != 0)
            return cli_usage_error("serve: %s", err);
    }
    return 0;
}

/* A binary newer than its database answered 500 to whatever read a table
 * or function it lacked.  serve never migrates (`sendbench migrate` is the
 * deploy step, README "Several instances"), so it refuses to start on a
 * database behind it.  Blocking, before the loop exists.  A database it
 * cannot reach at start is not refused: the pool reconnects with back-off
 * and /readyz says 503 until then, as when the database goes away later. */
static int schema_check(const char *db_url)
{
    char err[512];
    const char *first = NULL;
    PGconn *conn = dbsync_connect(db_url, err, sizeof err);
    if (!conn) {
        log_warn("schema check skipped: %s", err);
        return 0;
    }
    int pending = migrate_pending(conn, &first, err, sizeof err);
    PQfinish(conn);
    if (pending < 0) {
        log_warn("schema check skipped: %s", err);
        return 0;
    }
    if (pending == 0)
        return 0;
    log_error("the database lacks %d of this binary's migrations (the first: %s)", pending, first);
    fprintf(stderr,
            "sendbench: serve: the database lacks %d of this binary's migrations (the first: %s); "
            "run `bin/sendbench migrate` (with the same --db) first\n",
            pending, first);
    return -1;
}

int cmd_serve(int argc, char **argv)
{
    struct config cfg;
    char err[512];
    struct app app;
    memset(&app, 0, sizeof app);
    int rc = 1;

    config_defaults(&cfg);
    if (config_from_env(&cfg, err, sizeof err) != 0)
        return cli_usage_error("serve: %s", err);
    if (parse_flags(&cfg, argc, argv) != 0)
        return 2;
    if ((cfg.tls_cert[0] != '\0') != (cfg.tls_key[0] != '\0'))
        return cli_usage_error("serve: --tls-cert and --tls-key go together");
    /* The replay position the reads are checked against is one node's. */
    if (strchr(cfg.db_read, ','))
        return cli_usage_error("serve: --db-read names one standby, not a list of hosts");
    if (!cfg.db_url[0])
        snprintf(cfg.db_url, sizeof cfg.db_url, "%s", cli_db_default());

    signal(SIGPIPE, SIG_IGN);
    if (instance_init() != 0) {
        log_error("cannot draw an instance id (OpenSSL RAND_bytes)");
        return 1;
    }
    log_info("sendbench starting: instance %s, libevent %s, libpq %d, jansson %s",
             log_instance(), event_get_version(), PQlibVersion(), JANSSON_VERSION);
    config_log(&cfg);

    if (schema_check(cfg.db_url) != 0)
        return 1;

    struct event *sigterm = NULL, *sigint = NULL;
    app.cfg = &cfg;
    app.base = event_base_new();
    if (!app.base) {
        log_error("cannot create the event loop");
        return 1;
    }
    the_app = &app;
    struct db_pool_limits lim = {.size = cfg.pool_size, .queue_max = cfg.pool_queue_max,
                                 .write_size = cfg.pool_write_size,
                                 .write_queue_max = cfg.pool_write_queue_max,
                                 .wait_ms = cfg.pool_wait_ms};
    app.pool = db_pool_new(app.base, cfg.db_url, cfg.db_role, &lim);
    if (!app.pool) {
        log_error("cannot create the database pool");
        goto done;
    }
    if (db_read_start(&app) != 0) {
        log_error("cannot create the replica's pool (--db-read)");
        goto done;
    }
    app.forecaster = forecast_worker_start(cfg.db_url, cfg.db_role);
    if (!app.forecaster) {
        log_error("cannot start the forecast worker");
        goto done;
    }
    app.passwords = password_worker_new(app.base);
    if (!app.passwords) {
        log_error("cannot start the password worker (libsodium)");
        goto done;
    }
    if (tables_start(&app) != 0) {
        log_error("cannot start the table cache");
        goto done;
    }
    if (http_server_start(&app, err, sizeof err) != 0) {
        log_error("%s", err);
        fprintf(stderr, "sendbench: serve: %s\n", err);
        goto done;
    }
    sigterm = evsignal_new(app.base, SIGTERM, on_signal, &app);
    sigint = evsignal_new(app.base, SIGINT, on_signal, &app);
    if (!sigterm || !sigint || evsignal_add(sigterm, NULL) || evsignal_add(sigint, NULL)) {
        log_error("cannot install signal handlers");
        goto done;
    }
    log_info("listening on %s://%s:%d", app.ssl_ctx ? "https" : "http", cfg.bind, app.port);
    /* Tests and scripts that ask for port 0 read the chosen port here. */
    printf("listening on %s:%d\n", cfg.bind, app.port);
    fflush(stdout);

    event_base_dispatch(app.base);
    log_info("shutdown: closing the database pool");
    rc = 0;

done:
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (app.drain_check)
        event_free(app.drain_check);
    if (app.drain_delay)
        event_free(app.drain_delay);
    if (app.forecaster)
        forecast_worker_stop(app.forecaster);
    db_read_free(&app);     /* before the pool: a failed replica read asks it */
    if (app.pool)
        db_pool_free(app.pool);
    changes_heartbeat_free(&app);   /* after the pool: it answers its query */
    http_server_free(&app);
    password_worker_free(app.passwords);
    tables_stop(&app);
    submissions_catalogue_free(&app);
    event_base_free(app.base);
    the_app = NULL;
    if (rc == 0)
        log_info("shutdown complete");
    return rc;
}

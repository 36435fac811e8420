#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum setting_type { SET_INT, SET_STR };

struct setting {
    const char *flag;
    const char *env;
    enum setting_type type;
    const char *def;
    long min, max;          /* SET_INT bounds; SET_STR: max length is the field size */
    size_t offset;
    size_t size;            /* SET_STR buffer size */
    const char *help;
};

#define INT_SETTING(f, e, d, lo, hi, field, h) \
    {f, e, SET_INT, d, lo, hi, offsetof(struct config, field), 0, h}
#define STR_SETTING(f, e, d, field, h) \
    {f, e, SET_STR, d, 0, 0, offsetof(struct config, field), \
     sizeof(((struct config *)0)->field), h}

static const struct setting settings[] = {
    STR_SETTING("bind", "SENDBENCH_BIND", "127.0.0.1", bind, "address to listen on"),
    INT_SETTING("port", "PORT", "8080", 0, 65535, port, "HTTP port (0 = any free port)"),
    STR_SETTING("db", "DATABASE_URL", "", db_url,
                "PostgreSQL URL or conninfo; empty = libpq PG* variables"),
    STR_SETTING("db-read", "SENDBENCH_DB_READ", "", db_read,
                "a hot standby's URL for anonymous table and profile misses, used only once "
                "it has replayed each change notice's commit (\"\" = all reads on --db)"),
    STR_SETTING("db-role", "SENDBENCH_DB_ROLE", "sendbench_app", db_role,
                "role the server's database sessions switch to: reads and writes data, "
                "cannot change the schema (\"\" = the login's own)"),
    INT_SETTING("pool-size", "SENDBENCH_POOL_SIZE", "8", 1, 100, pool_size,
                "database connections in the pool"),
    INT_SETTING("pool-queue", "SENDBENCH_POOL_QUEUE", "1024", 1, 100000, pool_queue_max,
                "requests that may wait for a database connection"),
    INT_SETTING("pool-write-size", "SENDBENCH_POOL_WRITE_SIZE", "2", 1, 100, pool_write_size,
                "connections writes (submissions) may hold at once; the rest serve reads"),
    INT_SETTING("pool-write-queue", "SENDBENCH_POOL_WRITE_QUEUE", "1024", 1, 100000,
                pool_write_queue_max, "writes that may wait for a connection (apart from reads)"),
    INT_SETTING("pool-wait-ms", "SENDBENCH_POOL_WAIT_MS", "5000", 10, 600000, pool_wait_ms,
                "how long a request may wait for a connection before 503"),
    INT_SETTING("max-body", "SENDBENCH_MAX_BODY", "1048576", 1024, 67108864, max_body_bytes,
                "largest request body in bytes (413 above)"),
    INT_SETTING("max-headers", "SENDBENCH_MAX_HEADERS", "16384", 1024, 1048576,
                max_header_bytes, "largest request header block in bytes"),
    INT_SETTING("timeout", "SENDBENCH_TIMEOUT", "30", 1, 3600, timeout_s,
                "per-connection read/write timeout in seconds"),
    INT_SETTING("drain-timeout", "SENDBENCH_DRAIN_TIMEOUT", "30", 0, 3600, drain_timeout_s,
                "on SIGTERM, seconds to let in-flight requests finish"),
    INT_SETTING("drain-delay", "SENDBENCH_DRAIN_DELAY", "0", 0, 600, drain_delay_s,
                "on SIGTERM, seconds /readyz answers 503 (still serving) before the listening "
                "socket closes: set it above the balancer's check interval x fall count"),
    STR_SETTING("trusted-proxy", "SENDBENCH_TRUSTED_PROXY", "", trusted_proxy,
                "comma-separated addresses or CIDR networks of load balancers whose "
                "X-Forwarded-For and X-Request-Id are believed (\"\" = none)"),
    STR_SETTING("log-level", "SENDBENCH_LOG_LEVEL", "info", log_level,
                "debug, info, warn or error"),
    STR_SETTING("tls-cert", "SENDBENCH_TLS_CERT", "", tls_cert,
                "PEM certificate file; with --tls-key serves HTTPS"),
    STR_SETTING("tls-key", "SENDBENCH_TLS_KEY", "", tls_key, "PEM private key file"),
    INT_SETTING("rate-limit", "SENDBENCH_RATE_LIMIT", "600", 0, 10000000, rate_limit_per_min,
                "requests per minute per client address and per token (0 = off)"),
    INT_SETTING("session-idle-minutes", "SENDBENCH_SESSION_IDLE_MINUTES", "30", 1, 1440,
                session_idle_min, "a signed-in session unused this long ends"),
    INT_SETTING("session-max-hours", "SENDBENCH_SESSION_MAX_HOURS", "12", 1, 168,
                session_max_hours, "a session ends this long after sign-in, however used"),
    INT_SETTING("login-max-failures", "SENDBENCH_LOGIN_MAX_FAILURES", "5", 1, 1000,
                login_max_account, "failed sign-ins per account in the window before refusing"),
    INT_SETTING("login-max-failures-address", "SENDBENCH_LOGIN_MAX_FAILURES_ADDRESS", "20", 1,
                100000, login_max_address,
                "failed sign-ins from one client address in the window before refusing"),
    INT_SETTING("login-window-minutes", "SENDBENCH_LOGIN_WINDOW_MINUTES", "15", 1, 1440,
                login_window_min, "the sign-in throttle's window"),
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static int setting_apply(struct config *cfg, const struct setting *s, const char *value,
                         const char *origin, char *err, size_t errlen)
{
    char *field = (char *)cfg + s->offset;
    if (s->type == SET_STR) {
        if (strlen(value) >= s->size) {
            snprintf(err, errlen, "%s: %s is too long (at most %zu characters)", origin,
                     s->flag, s->size - 1);
            return -1;
        }
        memcpy(field, value, strlen(value) + 1);
        if (strcmp(s->flag, "log-level") == 0 && log_set_level_name(value) != 0) {
            snprintf(err, errlen, "%s: log-level must be debug, info, warn or error", origin);
            return -1;
        }
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end != '\0') {
        snprintf(err, errlen, "%s: %s must be a whole number, got \"%.40s\"", origin, s->flag,
                 value);
        return -1;
    }
    if (v < s->min || v > s->max) {
        snprintf(err, errlen, "%s: %s must be between %ld and %ld, got %ld", origin, s->flag,
                 s->min, s->max, v);
        return -1;
    }
    *(int *)(void *)field = (int)v;
    return 0;
}

void config_defaults(struct config *cfg)
{
    char err[256]; /* -O3 inlines setting_apply and checks every message fits */
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NSETTINGS; i++)
        if (setting_apply(cfg, &settings[i], settings[i].def, "default", err, sizeof err) != 0)
            abort(); /* a bad default is a programming error */
}

int config_from_env(struct config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = getenv(settings[i].env);
        if (v && *v) {
            char origin[64];
            snprintf(origin, sizeof origin, "environment %s", settings[i].env);
            if (setting_apply(cfg, &settings[i], v, origin, err, errlen) != 0)
                return -1;
        }
    }
    return 0;
}

int config_set(struct config *cfg, const char *flag, const char *value, char *err,
               size_t errlen)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp(settings[i].flag, flag) == 0)
            return setting_apply(cfg, &settings[i], value, "flag", err, errlen);
    snprintf(err, errlen, "unknown option --%.60s", flag);
    return -1;
}

/* The password in a URL (user:pass@) or conninfo (password=...) is masked. */
static void mask_password(const char *in, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", in);
    char *p = strstr(out, "password=");
    if (p) {
        p += 9;
        char *e = p + strcspn(p, " &");
        memmove(p + 3, e, strlen(e) + 1);
        memcpy(p, "***", 3);
        return;
    }
    char *scheme = strstr(out, "://");
    char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    if (at && colon && colon < at) {
        memmove(colon + 4, at, strlen(at) + 1);
        memcpy(colon + 1, "***", 3);
    }
}

void config_log(const struct config *cfg)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        const char *field = (const char *)cfg + s->offset;
        if (s->type == SET_INT) {
            log_info("setting %s=%d", s->flag, *(const int *)(const void *)field);
        } else {
            char shown[1100];
            mask_password(field, shown, sizeof shown);
            log_info("setting %s=\"%s\"", s->flag, shown);
        }
    }
}

void config_usage(void)
{
    int wf = 0, we = 0, wd = 2;   /* columns as wide as their longest entry */
    for (size_t i = 0; i < NSETTINGS; i++) {
        int f = (int)strlen(settings[i].flag), e = (int)strlen(settings[i].env),
            d = (int)strlen(settings[i].def);
        wf = f > wf ? f : wf;
        we = e > we ? e : we;
        wd = d > wd ? d : wd;
    }
    printf("Settings (flag / environment variable / default):\n");
    for (size_t i = 0; i < NSETTINGS; i++)
        printf("  --%-*s %-*s %-*s %s\n", wf, settings[i].flag, we, settings[i].env, wd,
               *settings[i].def ? settings[i].def : "\"\"", settings[i].help);
}

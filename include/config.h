/*
 * Server settings: one table (server/config.c) gives each setting its flag,
 * environment variable, default and bounds.  Precedence: flag, then
 * environment, then default.
 */
#ifndef SENDBENCH_CONFIG_H
#define SENDBENCH_CONFIG_H

#include <stddef.h>

struct config {
    char bind[64];          /* listen address */
    int port;
    char db_url[1024];      /* libpq conninfo or URL; "" = libpq PG* variables */
    char db_read[1024];     /* a hot standby for anonymous table reads; "" = none (db_read.h) */
    char db_role[64];       /* role the server's sessions run as; "" = the login's own */
    int pool_size;          /* database connections */
    int pool_queue_max;     /* requests allowed to wait for a connection */
    int pool_write_size;    /* connections writes may hold at once */
    int pool_write_queue_max;   /* writes allowed to wait (their own queue) */
    int pool_wait_ms;       /* how long one may wait */
    int max_body_bytes;
    int max_header_bytes;
    int timeout_s;          /* idle / read / write timeout per connection */
    int drain_timeout_s;    /* SIGTERM: how long in-flight requests may take */
    int drain_delay_s;      /* SIGTERM: /readyz fails this long before the socket closes */
    char trusted_proxy[512];    /* addresses/networks whose X-Forwarded-For is believed */
    char log_level[16];
    char tls_cert[512];     /* PEM certificate; with tls_key enables HTTPS */
    char tls_key[512];
    int rate_limit_per_min; /* requests per minute per client address and per token; 0 = off */
    int session_idle_min;   /* a session unused this long ends */
    int session_max_hours;  /* a session ends this long after sign-in, used or not */
    int login_max_account;  /* failed sign-ins per account per window before refusing */
    int login_max_address;  /* failed sign-ins per client address per window */
    int login_window_min;   /* the throttle's window */
};

void config_defaults(struct config *cfg);

/* Reads every setting's environment variable.  On error returns -1 and
 * writes a one-line reason into err. */
int config_from_env(struct config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Sets the setting whose flag is `flag` (without "--").  Returns 0, or -1
 * with a reason in err (unknown flag, not a number, out of bounds). */
int config_set(struct config *cfg, const char *flag, const char *value,
               char *err, size_t errlen) __attribute__((warn_unused_result));

/* Logs every effective setting (the database password masked). */
void config_log(const struct config *cfg);

/* Prints the settings table for --help. */
void config_usage(void);

#endif

/*
 * The server's shared state, owned by main() for the life of `serve` and
 * borrowed by every handler.  Loop-thread only unless a field says so.
 */
#ifndef SENDBENCH_APP_H
#define SENDBENCH_APP_H

struct event_base;
struct event;
struct evhttp;
struct evhttp_bound_socket;
struct db_pool;
struct config;
struct forecast_worker;
struct ratelimit;
struct cache;
struct submit_catalogue;
struct password_worker;
struct proxy_trust;
struct changes_heartbeat;
struct db_read;

struct app {
    struct event_base *base;
    const struct config *cfg;
    struct db_pool *pool;
    struct db_read *reader;         /* --db-read: the replica (db_read.h); NULL = none */
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    int port;               /* the port actually bound (PORT=0 picks one) */
    int in_flight;          /* requests dispatched and not yet answered */
    int draining;           /* SIGTERM received: no new connections */
    int unready;            /* SIGTERM received: /readyz fails (drain delay, then draining) */
    struct event *drain_delay;          /* ends the drain delay */
    struct proxy_trust *trust;          /* --trusted-proxy (proxy.h) */
    struct changes_heartbeat *heartbeat;    /* change listener's heartbeat (changes.h) */
    struct event *drain_check;
    struct forecast_worker *forecaster;   /* refits forecasts off the loop */
    struct ratelimit *limit_addr;   /* per client address; NULL = off */
    struct ratelimit *limit_token;  /* per bearer token; NULL = off */
    void *ssl_ctx;                  /* SSL_CTX when serving HTTPS */
    struct cache *tables_cache;     /* computed tables (server/tables_query.c) */
    struct xsec_store *xsec;        /* cross-sections profiles share (tables_xsec.h) */
    struct changes *changes;        /* the change notices' state (server/changes.c) */
    struct submit_catalogue *catalogue; /* metrics table, loaded on first use (routes_submissions.c) */
    unsigned long catalogue_changes;    /* change notices that may touch the metrics table */
    unsigned long catalogue_loaded_at;  /* catalogue_changes when the one kept was read */
    struct password_worker *passwords;  /* Argon2id off the loop (server/password.c) */
};

#endif

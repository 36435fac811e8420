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
struct submit_catalogue;

struct app {
    struct event_base *base;
    const struct config *cfg;
    struct db_pool *pool;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    int port;               /* the port actually bound (PORT=0 picks one) */
    int in_flight;          /* requests dispatched and not yet answered */
    int draining;           /* SIGTERM received: no new connections */
    struct event *drain_check;
    struct submit_catalogue *catalogue; /* metrics table, loaded on first use (routes_submissions.c) */
};

#endif

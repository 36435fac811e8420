#include "http.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "app.h"
#include "cache.h"
#include "changes.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "proxy.h"
#include "ratelimit.h"
#include "utf8.h"

static uint64_t next_request_id = 1;

json_t *http_error_json(const char *code, const char *message, json_t *details)
{
    json_t *err = json_pack("{s:s, s:s}", "code", code, "message", message);
    json_object_set_new(err, "details", details ? details : json_array());
    return json_pack("{s:o}", "error", err);
}

static int dump_to_evbuffer(const char *buf, size_t size, void *data)
{
    return evbuffer_add((struct evbuffer *)data, buf, size);
}

/* Headers every answer carries: the pages are self-contained, so the
 * policy allows nothing from elsewhere and no framing. */
static void add_common_headers(struct evkeyvalq *h)
{
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    evhttp_add_header(h, "Content-Security-Policy",
                      "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                      "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
}

/*
 * libevent answers some requests itself before our callback sees them: a
 * body over the limit (413), a malformed request line or headers (400), a
 * method it does not know (501).  Its answer is an HTML page; the contract
 * says every error is JSON.  libevent 2.1 has no hook for these, but it
 * calls evhttp_send_error through the PLT, so defining the function here
 * replaces it for libevent's own calls too (checked in the test suite by
 * sending an oversized body and a malformed request line).
 */
void evhttp_send_error(struct evhttp_request *req, int error, const char *reason)
{
    const char *code = error == 413 ? "payload_too_large"
                     : error == 404 ? "not_found"
                     : error == 501 ? "not_implemented"
                     : error == 405 ? "method_not_allowed"
                                    : "bad_request";
    const char *message = error == 413 ? "the request body is larger than the server accepts"
                        : error == 501 ? "the request method is not supported"
                        : error == 404 ? "no such resource"
                                       : "the request is not valid HTTP";
    (void)reason;
    json_t *body = http_error_json(code, message, NULL);
    struct evbuffer *buf = evbuffer_new();
    if (buf && body)
        json_dump_callback(body, dump_to_evbuffer, buf, JSON_COMPACT);
    json_decref(body);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Connection", "close");
    evhttp_add_header(h, "Content-Type", "application/json");
    add_common_headers(h);
    metrics_observe_request("unrouted", error, 0);
    log_msg(LOG_INFO, 0, "%d rejected before routing: %s", error, message);
    evhttp_send_reply(req, error, NULL, buf);
    if (buf)
        evbuffer_free(buf);
}

const char *http_param(const struct request *r, int i)
{
    return i >= 0 && i < HTTP_MAX_PARAMS ? r->params[i] : NULL;
}

const char *http_query(const struct request *r, const char *name)
{
    return evhttp_find_header(&r->query, name);
}

const char *http_header(const struct request *r, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

const char *http_body(struct request *r, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
    size_t n = evbuffer_get_length(in);
    /* A trailing NUL (not counted) lets parsers treat the body as a string. */
    evbuffer_add(in, "", 1);
    const char *p = (const char *)evbuffer_pullup(in, -1);
    *len = n;
    return p;
}

void http_add_header(struct request *r, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_PATCH: return "PATCH";
    default: return "OTHER";
    }
}

static void request_free(struct request *r)
{
    if (r->state_free && r->state)
        r->state_free(r->state);
    for (int i = 0; i < HTTP_MAX_PARAMS; i++)
        free(r->params[i]);
    evhttp_clear_headers(&r->query);
    free(r);
}

static void check_drained(struct app *app)
{
    if (app->draining && app->in_flight == 0)
        event_base_loopexit(app->base, NULL);
}

static void reply_sent(struct evhttp_request *req, void *arg)
{
    (void)req;
    struct app *app = arg;
    app->in_flight--;
    check_drained(app);
}

void http_reply_buffer(struct request *r, int status, const char *content_type,
                       struct evbuffer *body)
{
    struct app *app = r->app;
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
    evhttp_add_header(h, "X-Request-Id", r->request_id);
    /* An error is never a download: a route that named its file before it
     * found the request bad must not make the error a .csv on disk. */
    if (status >= 400)
        evhttp_remove_header(h, "Content-Disposition");
    if (content_type && !evhttp_find_header(h, "Content-Type"))
        evhttp_add_header(h, "Content-Type", content_type);
    add_common_headers(h);
    if (app->draining || app->unready)
        evhttp_add_header(h, "Connection", "close");

    double took = clock_seconds() - r->start;
    const char *label = r->route ? r->route->pattern : "unmatched";
    metrics_observe_request(label, status, took);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    log_msg(status >= 500 ? LOG_WARN : LOG_INFO, r->id, "%s %.200s %d %.1fms client=%s%s%s",
            method_name(evhttp_request_get_command(r->req)),
            path ? path : "?", status, took * 1000, r->client,
            r->adopted_id ? " id=" : "", r->adopted_id ? r->request_id : "");

    /* A request stays in flight until its reply has been written out, so
     * that a draining server does not close connections under replies. */
    struct evhttp_request *req = r->req;
    request_free(r);
    if (evhttp_request_get_connection(req)) {
        evhttp_request_set_on_complete_cb(req, reply_sent, app);
        evhttp_send_reply(req, status, NULL, body);
    } else {
        evhttp_send_reply(req, status, NULL, body);   /* client gone: frees req */
        reply_sent(NULL, app);
    }
}

void http_reply_text(struct request *r, int status, const char *content_type, const char *text,
                     size_t len)
{
    struct evbuffer *buf = evbuffer_new();
    if (buf)
        evbuffer_add(buf, text, len);
    http_reply_buffer(r, status, content_type, buf);
    if (buf)
        evbuffer_free(buf);
}

#define HTTP_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

char *http_json_text(json_t *doc, size_t *len)
{
    char *s = doc ? json_dumps(doc, HTTP_JSON_FLAGS) : NULL;
    json_decref(doc);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *body = realloc(s, n + 2);
    if (!body) {
        free(s);
        return NULL;
    }
    memcpy(body + n, "\n", 2);
    *len = n + 1;
    return body;
}

void http_reply_json(struct request *r, int status, json_t *body)
{
    struct evbuffer *buf = evbuffer_new();
    if (buf && body) {
        json_dump_callback(body, dump_to_evbuffer, buf, HTTP_JSON_FLAGS);
        evbuffer_add(buf, "\n", 1);
    }
    json_decref(body);
    http_reply_buffer(r, status, "application/json", buf);
    if (buf)
        evbuffer_free(buf);
}

void http_reply_error(struct request *r, int status, const char *code, const char *message,
                      json_t *details)
{
    http_reply_json(r, status, http_error_json(code, message, details));
}

void http_reply_db_error(struct request *r, const struct db_reply *reply)
{
    if (reply->unavailable) {
        log_msg(LOG_WARN, r->id, "database unavailable%s%s: %s", reply->sqlstate ? ": SQLSTATE " : "",
                reply->sqlstate ? reply->sqlstate : "", reply->error);
        http_add_header(r, "Retry-After", "2");
        http_reply_error(r, 503, "database_unavailable",
                         "the database is unavailable; try again shortly", NULL);
        return;
    }
    log_msg(LOG_ERROR, r->id, "database error %s: %s", reply->sqlstate ? reply->sqlstate : "",
            reply->error);
    http_reply_error(r, 500, "internal_error", "the server could not complete the request",
                     NULL);
}

/* While the change listener is down (or its heartbeat unheard) a kept
 * reply may miss a change: it is still served (a database outage must not
 * take cached answers away), but never as fresh: no-cache, and a Warning. */
void http_reply_cached(struct request *r, struct cache_entry *e, const char *vary)
{
    http_add_header(r, "ETag", cache_entry_etag(e));
    if (changes_live(r->app)) {
        http_add_header(r, "Cache-Control", cache_entry_cache_control(e));
    } else {
        http_add_header(r, "Cache-Control", "no-cache");
        http_add_header(r, "Warning", "110 sendbench \"Response is Stale\"");
        metrics_count("cached_replies_served_stale");
    }
    http_add_header(r, "Vary", vary);
    if (cache_etag_matches(http_header(r, "If-None-Match"), cache_entry_etag(e))) {
        http_reply_buffer(r, 304, NULL, NULL);
        return;
    }
    struct evbuffer *buf = evbuffer_new();
    if (!buf || cache_entry_add_to(e, buf) != 0) {
        if (buf)
            evbuffer_free(buf);
        http_reply_oom(r);
        return;
    }
    http_reply_buffer(r, 200, cache_entry_content_type(e), buf);
    evbuffer_free(buf);
}

void http_reply_oom(struct request *r)
{
    log_msg(LOG_ERROR, r->id, "out of memory");
    http_reply_error(r, 500, "internal_error", "out of memory", NULL);
}

static void request_query_done(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    request_query_cb done = r->query_done;
    r->query_done = NULL;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    done(r, reply->res);
}

void request_query(struct request *r, const char *sql, int nparams, const char *const *params,
                   request_query_cb done)
{
    r->query_done = done;
    if (db_pool_query(r->app->pool, sql, nparams, params, request_query_done, r) != 0) {
        r->query_done = NULL;
        http_reply_oom(r);
    }
}

/* Well-formed UTF-8 without control characters: everything else in a path
 * or query value is refused before it can reach a handler or PostgreSQL
 * (which rejects invalid UTF-8 with an error, not a 4xx). */
static int text_ok(const char *s)
{
    return utf8_text_ok(s, 0);
}

/* Matches a decoded path against a pattern, capturing {…} segments. */
static int route_match(const char *pattern, const char *path, char **params)
{
    int n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *end = strchr(s, '/');
            size_t len = end ? (size_t)(end - s) : strlen(s);
            if (len == 0 || n >= HTTP_MAX_PARAMS)
                goto nomatch;
            params[n] = strndup(s, len);
            if (!params[n])
                goto nomatch;
            n++;
            s += len;
            p = strchr(p, '}');
            if (!p)
                goto nomatch;
            p++;
            continue;
        }
        if (*p != *s)
            goto nomatch;
        p++;
        s++;
    }
    if (*p == '\0' && (*s == '\0' || (s[0] == '/' && s[1] == '\0')))
        return 1;
nomatch:
    for (int i = 0; i < n; i++) {
        free(params[i]);
        params[i] = NULL;
    }
    return 0;
}

static int method_bit(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:
    case EVHTTP_REQ_HEAD:
        return HTTP_GET;
    case EVHTTP_REQ_POST:
        return HTTP_POST;
    case EVHTTP_REQ_PUT:
        return HTTP_PUT;
    case EVHTTP_REQ_DELETE:
        return HTTP_DELETE;
    default:
        return 0;
    }
}

static void allow_header(struct request *r, int methods)
{
    char allow[64] = "";
    if (methods & HTTP_GET)
        strcat(allow, "GET, HEAD, ");
    if (methods & HTTP_POST)
        strcat(allow, "POST, ");
    if (methods & HTTP_PUT)
        strcat(allow, "PUT, ");
    if (methods & HTTP_DELETE)
        strcat(allow, "DELETE, ");
    if (*allow)
        allow[strlen(allow) - 2] = '\0';
    http_add_header(r, "Allow", allow);
}

/* Health and metrics stay reachable for monitoring whatever the limits. */
static int route_is_limited(const struct route *rt)
{
    return rt && strcmp(rt->pattern, "/healthz") != 0 && strcmp(rt->pattern, "/metrics") != 0 &&
           strcmp(rt->pattern, "/livez") != 0 && strcmp(rt->pattern, "/readyz") != 0;
}

/* Returns 1 when the request may go on; otherwise it has been answered
 * with 429.  Tokens are limited by a hash of the presented token, so a
 * token is never kept or logged in the clear. */
static int rate_limit_ok(struct request *r)
{
    struct app *app = r->app;
    int retry = 0, ok = 1;
    double now = clock_seconds();
    if (app->limit_addr) {
        char key[64];
        snprintf(key, sizeof key, "a:%s", r->client);
        ok = ratelimit_take(app->limit_addr, key, now, &retry);
    }
    const char *authz = http_header(r, "Authorization");
    if (ok && app->limit_token && authz && strncasecmp(authz, "Bearer ", 7) == 0) {
        unsigned char md[32];
        unsigned int mdlen = 0;
        char key[40] = "t:";
        if (EVP_Digest(authz + 7, strlen(authz + 7), md, &mdlen, EVP_sha256(), NULL)) {
            for (int i = 0; i < 12; i++)
                snprintf(key + 2 + 2 * i, 3, "%02x", md[i]);
            ok = ratelimit_take(app->limit_token, key, now, &retry);
        }
    }
    if (ok)
        return 1;
    char ra[16];
    snprintf(ra, sizeof ra, "%d", retry);
    http_add_header(r, "Retry-After", ra);
    metrics_count("rate_limited");
    http_reply_error(r, 429, "rate_limited",
                     "too many requests from this client or token; slow down and retry after "
                     "the number of seconds in Retry-After", NULL);
    return 0;
}

const char *http_client_address(const struct request *r)
{
    return r->client;
}

/* A proxy's request id is adopted when it is short and plain (it goes
 * into logs and a header). */
static int request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= 64 || !(isalnum((unsigned char)s[n]) || strchr("._:-", s[n])))
            return 0;
    return n > 0;
}

/* The client's address, and the request id: behind a trusted proxy its
 * X-Forwarded-For names the client and its X-Request-Id is kept, so that
 * one request has one id in the balancer's log and ours. */
static void request_identify(struct request *r)
{
    struct evhttp_connection *con = evhttp_request_get_connection(r->req);
    char *peer = NULL;
    ev_uint16_t port = 0;
    if (con)
        evhttp_connection_get_peer(con, &peer, &port);
    const char *xff[8];
    int nxff = 0;
    const char *proxy_id = NULL;
    struct evkeyvalq *in = evhttp_request_get_input_headers(r->req);
    int trusted = r->app->trust && proxy_is_trusted(r->app->trust, peer);
    for (struct evkeyval *kv = in->tqh_first; trusted && kv; kv = kv->next.tqe_next) {
        if (strcasecmp(kv->key, "X-Forwarded-For") == 0) {
            /* The last ones count (the proxies' own are appended last):
             * a client's extra headers must not push them out. */
            if (nxff == 8)
                memmove(xff, xff + 1, 7 * sizeof xff[0]);
            xff[nxff == 8 ? 7 : nxff++] = kv->value;
        }
        else if (strcasecmp(kv->key, "X-Request-Id") == 0)
            proxy_id = kv->value;
    }
    proxy_client_address(r->app->trust, peer, xff, nxff, r->client, sizeof r->client);
    if (proxy_id && request_id_ok(proxy_id)) {
        snprintf(r->request_id, sizeof r->request_id, "%s", proxy_id);
        r->adopted_id = 1;
    } else {
        log_request_id(r->id, r->request_id, sizeof r->request_id);
    }
}

/* The handler, once auth_resolve has set r->caller. */
static void run_route(struct request *r)
{
    r->route->fn(r);
}

static void dispatch(struct evhttp_request *req, void *arg)
{
    struct app *app = arg;
    struct request *r = calloc(1, sizeof *r);
    if (!r) {
        evhttp_send_error(req, 503, "out of memory");
        return;
    }
    r->req = req;
    r->app = app;
    r->id = next_request_id++;
    r->start = clock_seconds();
    request_identify(r);
    r->query.tqh_first = NULL; /* TAILQ_INIT without sys/queue.h */
    r->query.tqh_last = &r->query.tqh_first;
    app->in_flight++;

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!raw_path || !*raw_path)
        raw_path = "/";
    size_t dlen = 0;
    char *path = evhttp_uridecode(raw_path, 0, &dlen);
    if (!path || strlen(path) != dlen || raw_path[0] != '/' || !text_ok(path)) {
        free(path);
        http_reply_error(r, 400, "bad_path",
                         "the request path is not valid (NUL, control characters or invalid UTF-8)",
                         NULL);
        return;
    }
    const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
    int query_ok = !qs || evhttp_parse_query_str(qs, &r->query) == 0;
    for (struct evkeyval *kv = r->query.tqh_first; query_ok && kv; kv = kv->next.tqe_next)
        query_ok = text_ok(kv->key) && text_ok(kv->value);
    if (!query_ok) {
        free(path);
        http_reply_error(r, 400, "bad_query",
                         "the query string is not valid (control characters or invalid UTF-8)",
                         NULL);
        return;
    }

    int mbit = method_bit(evhttp_request_get_command(req));
    int allowed = 0;
    for (const struct route *rt = routes; rt->pattern; rt++) {
        char *params[HTTP_MAX_PARAMS] = {0};
        if (!route_match(rt->pattern, path, params))
            continue;
        if (rt->methods & mbit) {
            memcpy(r->params, params, sizeof params);
            r->route = rt;
            free(path);
            if (route_is_limited(rt) && !rate_limit_ok(r))
                return;
            /* A reply that needs a token is private: never kept by a
             * cache, also when it is a 401. */
            if (rt->access == ROUTE_TOKEN_REQUIRED || rt->access == ROUTE_ADMIN)
                http_add_header(r, "Cache-Control", "private, no-store");
            if (rt->access == ROUTE_ANONYMOUS)
                rt->fn(r);
            else
                auth_resolve(r, rt->access, run_route);
            return;
        }
        allowed |= rt->methods;
        for (int i = 0; i < HTTP_MAX_PARAMS; i++)
            free(params[i]);
    }
    free(path);
    if (allowed) {
        allow_header(r, allowed);
        http_reply_error(r, 405, "method_not_allowed",
                         "this method is not allowed on this resource", NULL);
        return;
    }
    http_reply_error(r, 404, "not_found", "no such resource", NULL);
}

/* Each accepted connection gets an OpenSSL bufferevent (libevent sets
 * its socket afterwards). */
static struct bufferevent *tls_bevcb(struct event_base *base, void *arg)
{
    SSL *ssl = SSL_new((SSL_CTX *)arg);
    if (!ssl)
        return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

static int tls_setup(struct app *app, char *err, size_t errlen)
{
    const struct config *cfg = app->cfg;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "TLS: cannot create a context");
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
        snprintf(err, errlen, "TLS: cannot load certificate %s: %s", cfg->tls_cert,
                 ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "TLS: cannot load key %s or it does not match the certificate",
                 cfg->tls_key);
        SSL_CTX_free(ctx);
        return -1;
    }
    app->ssl_ctx = ctx;
    evhttp_set_bevcb(app->http, tls_bevcb, ctx);
    return 0;
}

void http_server_free(struct app *app)
{
    if (app->http)
        evhttp_free(app->http);
    app->http = NULL;
    free(app->trust);
    app->trust = NULL;
    ratelimit_free(app->limit_addr);
    ratelimit_free(app->limit_token);
    app->limit_addr = app->limit_token = NULL;
    if (app->ssl_ctx)
        SSL_CTX_free(app->ssl_ctx);
    app->ssl_ctx = NULL;
}

int http_server_start(struct app *app, char *err, size_t errlen)
{
    const struct config *cfg = app->cfg;
    app->http = evhttp_new(app->base);
    if (!app->http) {
        snprintf(err, errlen, "cannot create the HTTP server");
        return -1;
    }
    if (cfg->tls_cert[0] && tls_setup(app, err, errlen) != 0)
        return -1;
    app->trust = calloc(1, sizeof *app->trust);
    if (!app->trust) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (proxy_trust_parse(app->trust, cfg->trusted_proxy, err, errlen) != 0)
        return -1;
    if (cfg->rate_limit_per_min > 0) {
        app->limit_addr = ratelimit_new(cfg->rate_limit_per_min, 65536);
        app->limit_token = ratelimit_new(cfg->rate_limit_per_min, 65536);
        if (!app->limit_addr || !app->limit_token) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    evhttp_set_max_body_size(app->http, cfg->max_body_bytes);
    evhttp_set_max_headers_size(app->http, cfg->max_header_bytes);
    evhttp_set_timeout(app->http, cfg->timeout_s);
    evhttp_set_allowed_methods(app->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(app->http, dispatch, app);

    app->sock = evhttp_bind_socket_with_handle(app->http, cfg->bind, (ev_uint16_t)cfg->port);
    if (!app->sock) {
        snprintf(err, errlen, "cannot listen on %s:%d (in use, or not an address here)",
                 cfg->bind, cfg->port);
        return -1;
    }
    evutil_socket_t fd = evhttp_bound_socket_get_fd(app->sock);
    /* Accepted sockets inherit TCP_NODELAY on Linux: without it a reply
     * larger than one segment waits ~40 ms for the client's delayed ACK. */
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        log_warn("http: cannot set TCP_NODELAY");
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            app->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            app->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return 0;
}

void http_server_stop_accepting(struct app *app)
{
    if (app->sock) {
        evhttp_del_accept_socket(app->http, app->sock);
        app->sock = NULL;
    }
    check_drained(app);
}

/*
 * limit_server: the fastest answer this machine's HTTP stack can give, the
 * "limit" side of the read benchmarks (bench/run.sh).
 *
 *   bin/limit_server --port N --body FILE [--headers FILE]
 *
 * One libevent evhttp loop on 127.0.0.1 (like bin/sendbench serve), the
 * listening socket with TCP_NODELAY (accepted sockets inherit it on Linux,
 * as in the server).  Every request gets 200 with the bytes of FILE as the
 * body; FILE is the body the real server sent for the endpoint under test,
 * fetched just before, and --headers FILE ("Name: value" lines, as
 * `curl -D` writes them) adds the same response headers, so both sides send
 * the same bytes.  No routing, no logging, no database, no allocation per
 * request beyond libevent's own: nothing a real handler could skip.
 *
 * Prints "port N" on stdout once listening; SIGTERM/SIGINT stop it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define MAX_HEADERS 64

struct limit {
    struct evbuffer *body;          /* the bytes to send, never drained */
    int n_headers;
    char *name[MAX_HEADERS];
    char *value[MAX_HEADERS];
};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n + 65536 > cap) {
            size_t ncap = cap ? cap * 2 : 131072;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Headers evhttp writes itself (or that describe another connection). */
static int header_skipped(const char *name)
{
    static const char *const skip[] = {"Content-Length", "Date", "Connection",
                                       "Transfer-Encoding", "Keep-Alive", NULL};
    for (int i = 0; skip[i]; i++)
        if (strcasecmp(name, skip[i]) == 0)
            return 1;
    return 0;
}

static int load_headers(struct limit *l, const char *path)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    if (!text)
        return -1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *colon = strchr(line, ':');
        if (!colon || strncmp(line, "HTTP/", 5) == 0)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (header_skipped(line))
            continue;
        if (l->n_headers == MAX_HEADERS)
            break;
        l->name[l->n_headers] = strdup(line);
        l->value[l->n_headers] = strdup(v);
        if (!l->name[l->n_headers] || !l->value[l->n_headers]) {
            free(text);
            return -1;
        }
        l->n_headers++;
    }
    free(text);
    return 0;
}

static void answer(struct evhttp_request *req, void *arg)
{
    struct limit *l = arg;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    for (int i = 0; i < l->n_headers; i++)
        evhttp_add_header(h, l->name[i], l->value[i]);
    /* evhttp drains the buffer it is given: hand it a reference-only copy
     * of the body (no byte copied). */
    struct evbuffer *out = evbuffer_new();
    if (!out) {
        evhttp_send_error(req, 503, "out of memory");
        return;
    }
    evbuffer_add_buffer_reference(out, l->body);
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

static void on_signal(evutil_socket_t sig, short events, void *arg)
{
    (void)sig;
    (void)events;
    event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
    const char *body_path = NULL, *headers_path = NULL;
    int port = 0;
    struct limit l = {0};

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--body") == 0 && i + 1 < argc)
            body_path = argv[++i];
        else if (strcmp(argv[i], "--headers") == 0 && i + 1 < argc)
            headers_path = argv[++i];
        else {
            fprintf(stderr, "usage: limit_server --port N --body FILE [--headers FILE]\n");
            return 2;
        }
    }
    if (!body_path || port < 0 || port > 65535) {
        fprintf(stderr, "usage: limit_server --port N --body FILE [--headers FILE]\n");
        return 2;
    }
    size_t len = 0;
    char *body = slurp(body_path, &len);
    if (!body) {
        fprintf(stderr, "limit_server: cannot read %s: %s\n", body_path, strerror(errno));
        return 1;
    }
    if (headers_path && load_headers(&l, headers_path) != 0) {
        fprintf(stderr, "limit_server: cannot read %s\n", headers_path);
        return 1;
    }
    struct event_base *base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    l.body = evbuffer_new();
    if (!http || !l.body || evbuffer_add(l.body, body, len) != 0) {
        fprintf(stderr, "limit_server: out of memory\n");
        return 1;
    }
    free(body);
    evhttp_set_gencb(http, answer, &l);
    struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(http, "127.0.0.1",
                                                                      (ev_uint16_t)port);
    if (!sock) {
        fprintf(stderr, "limit_server: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    evutil_socket_t fd = evhttp_bound_socket_get_fd(sock);
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
        fprintf(stderr, "limit_server: cannot set TCP_NODELAY: %s\n", strerror(errno));
        return 1;
    }
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    if (getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
        port = ntohs(sin.sin_port);
    printf("port %d\n", port);
    fflush(stdout);

    signal(SIGPIPE, SIG_IGN);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    if (!sigterm || !sigint || evsignal_add(sigterm, NULL) != 0 || evsignal_add(sigint, NULL) != 0) {
        fprintf(stderr, "limit_server: cannot handle signals\n");
        return 1;
    }
    event_base_dispatch(base);

    event_free(sigterm);
    event_free(sigint);
    evhttp_free(http);
    evbuffer_free(l.body);
    for (int i = 0; i < l.n_headers; i++) {
        free(l.name[i]);
        free(l.value[i]);
    }
    event_base_free(base);
    return 0;
}

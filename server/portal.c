#include "portal.h"

#include <event2/buffer.h>
#include <string.h>

#include "html.h"
#include "form.h"
#include "web.h"

int portal_page_begin(struct evbuffer *b, const char *title, const struct session_user *u)
{
    if (web_page_begin(b, title, NULL) != 0)
        return -1;
    if (!u)
        return 0;
    if (web_put(b, "<nav class=\"who\" aria-label=\"Your account\"><span>Signed in as ") != 0 ||
        html_escape(b, u->email) != 0 ||
        web_put(b, " (%s%s", session_role_name(u->role), u->authority[0] ? ", " : "") != 0 ||
        html_escape(b, u->authority_name) != 0 || web_put(b, ")</span>") != 0)
        return -1;
    if (u->role == ROLE_ADMIN) {
        if (web_put(b, "<a href=\"/admin\">Administration</a><a href=\"/admin/collection\">"
                       "Collection dashboard</a>") != 0)
            return -1;
    } else if (web_put(b, "<a href=\"/returns\">Quarterly returns</a>") != 0) {
        return -1;
    }
    if (web_put(b, "<form method=\"post\" action=\"/logout\" class=\"inline\">") != 0 ||
        form_csrf_field(b, u->csrf) != 0 ||
        web_put(b, "<button type=\"submit\" class=\"secondary\">Sign out</button></form></nav>") != 0)
        return -1;
    return 0;
}

void portal_reply_page(struct request *r, int status, struct evbuffer *b)
{
    if (!b) {
        http_reply_oom(r);
        return;
    }
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_buffer(r, status, "text/html; charset=utf-8", b);
    evbuffer_free(b);
}

void portal_end_page(struct request *r, int status, struct evbuffer *b, int bad)
{
    if (!bad && b)
        bad = web_page_end(b) != 0;
    if (bad && b) {
        evbuffer_free(b);
        b = NULL;
    }
    portal_reply_page(r, status, b);
}

void portal_redirect(struct request *r, const char *location)
{
    http_add_header(r, "Location", location);
    http_add_header(r, "Cache-Control", "no-store");
    static const char body[] = "See other\n";
    http_reply_text(r, 303, "text/plain; charset=utf-8", body, sizeof body - 1);
}

void portal_refuse(struct request *r, int status, const char *code, const char *message)
{
    const char *accept = http_header(r, "Accept");
    const char *ct = http_header(r, "Content-Type");
    int browser = (accept && strstr(accept, "text/html")) ||
                  (ct && strstr(ct, "application/x-www-form-urlencoded"));
    if (!browser) {
        http_add_header(r, "Cache-Control", "no-store");
        http_reply_error(r, status, code, message, NULL);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (!b || web_page_begin(b, "Not allowed", NULL) != 0 ||
        web_put(b, "<h1>%s</h1><p class=\"note\" data-error-code=\"%s\">",
                status == 403 ? "Not allowed" : status == 429 ? "Too many attempts"
                : status == 404 ? "Not found" : "Request not valid", code) != 0 ||
        html_escape(b, message) != 0 ||
        web_put(b, "</p><p><a href=\"/login\">Sign in</a> · <a href=\"/\">Home</a></p>") != 0 ||
        web_page_end(b) != 0) {
        if (b)
            evbuffer_free(b);
        b = NULL;
    }
    portal_reply_page(r, status, b);
}

void portal_need_sign_in(struct request *r)
{
    const char *accept = http_header(r, "Accept");
    if (accept && strstr(accept, "text/html")) {
        portal_redirect(r, "/login");
        return;
    }
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_error(r, 401, "unauthorized", "sign in first: GET /login", NULL);
}

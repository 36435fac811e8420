/*
 * Pieces shared by the pages of signed-in people (sign-in and set-up in
 * server/routes_login.c, the return in server/routes_returns.c, the admin
 * pages in server/routes_admin.c): replies that are never cached, redirects
 * after a form, the "signed in as" bar, and refusals as HTML pages.
 */
#ifndef SENDBENCH_PORTAL_H
#define SENDBENCH_PORTAL_H

#include "http.h"
#include "sessions.h"

struct evbuffer;

/* Opens a page (web_page_begin) and, when u is given, the bar with who is
 * signed in, the links of their role and the sign-out button (a form with
 * the CSRF token). */
int portal_page_begin(struct evbuffer *b, const char *title, const struct session_user *u)
    __attribute__((warn_unused_result));

/* Sends b (freed here) as text/html with Cache-Control: no-store.  NULL b
 * answers 500. */
void portal_reply_page(struct request *r, int status, struct evbuffer *b);

/* Ends the page in b (web_page_end) and sends it as portal_reply_page
 * does; bad (a write into b failed) or a failed end frees b and answers
 * 500. */
void portal_end_page(struct request *r, int status, struct evbuffer *b, int bad);

/* 303 See Other to location (a path on this site). */
void portal_redirect(struct request *r, const char *location);

/* A refusal as a page for browsers and the JSON error otherwise. */
void portal_refuse(struct request *r, int status, const char *code, const char *message);

/* Anyone not signed in who asks for a person's page: to /login. */
void portal_need_sign_in(struct request *r);

#endif

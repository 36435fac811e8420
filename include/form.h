/*
 * HTML forms: reading an application/x-www-form-urlencoded body (every
 * value well-formed UTF-8, no control characters other than newline and
 * tab) and the hidden CSRF field every form carries.
 */
#ifndef SENDBENCH_FORM_H
#define SENDBENCH_FORM_H

#include <event2/keyvalq_struct.h>
#include <stddef.h>

struct evbuffer;
struct request;

/* Parses body into fields (caller clears with evhttp_clear_headers, also on
 * failure; fields must be TAILQ-initialised, see form_init).  0, or -1 when
 * the body is not a form or a value is not acceptable text. */
int form_parse(const char *body, size_t len, struct evkeyvalq *fields)
    __attribute__((warn_unused_result));
void form_init(struct evkeyvalq *fields);

/* The request's body as a form: 0, or -1 (wrong Content-Type or bad body). */
int form_read(struct request *r, struct evkeyvalq *fields) __attribute__((warn_unused_result));

/* 1 when s is well-formed UTF-8 with no control characters except, when
 * multiline, newline, carriage return and tab. */
int form_text_ok(const char *s, int multiline);

/* <input type="hidden" name="csrf" value="..."> */
int form_csrf_field(struct evbuffer *b, const char *csrf) __attribute__((warn_unused_result));

#endif

/*
 * UTF-8, one rule (RFC 3629): what a well-formed sequence is, for every
 * text a client sends (paths and query values, form fields, submissions)
 * before it can reach a handler or PostgreSQL, which refuses invalid UTF-8
 * with an error rather than a 4xx.  Pure; tests/unit/test_utf8.c.
 */
#ifndef SENDBENCH_UTF8_H
#define SENDBENCH_UTF8_H

#include <stddef.h>

/* Length (1-4) of the well-formed sequence at s, or 0 when the bytes there
 * are not one: a stray continuation byte, an overlong form, a surrogate, a
 * code point beyond U+10FFFF, or a sequence cut short (by the string's end
 * too). */
size_t utf8_seq_len(const unsigned char *s);

/* 1 when s is well-formed UTF-8 with no control characters (U+0000-U+001F,
 * U+007F) except, when multiline, newline, carriage return and tab. */
int utf8_text_ok(const char *s, int multiline);

#endif

/* People's accounts (server/users.c): the CLI and what the admin page
 * shares with it.  The SQL is in sql/040_people.sql (user_create,
 * user_new_link, user_disable). */
#ifndef SENDBENCH_USERS_H
#define SENDBENCH_USERS_H

#include "auth.h"

/* 1 when email has the form local@domain (no spaces or controls, 3-254
 * characters).  Pure. */
int users_email_ok(const char *email);

/* A new set-up link secret and the bytea hex of its SHA-256.  0, or -1. */
int users_link_new(char secret[AUTH_SECRET_LEN + 1], char hex[67])
    __attribute__((warn_unused_result));

#endif

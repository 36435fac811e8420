/*
 * Passwords: Argon2id through libsodium (crypto_pwhash_str and
 * crypto_pwhash_str_verify), never a hash of our own; the policy a new
 * password must meet; and the worker thread that runs the hashing off the
 * event loop (one Argon2id call takes tens of milliseconds and 64 MiB by
 * design, far too long to block the loop).
 */
#ifndef SENDBENCH_PASSWORD_H
#define SENDBENCH_PASSWORD_H

#include <stddef.h>

struct event_base;

#define PASSWORD_MIN_LEN 10
#define PASSWORD_MAX_LEN 256
#define PASSWORD_HASH_LEN 128       /* crypto_pwhash_STRBYTES */

/* Initialises libsodium (idempotent, thread-safe).  0, or -1. */
int password_init(void) __attribute__((warn_unused_result));

/* NULL when pw is acceptable as a new password for the account email;
 * otherwise a sentence (static) saying why not.  Pure. */
const char *password_policy(const char *pw, const char *email);

/* Hashes pw into out (NUL-terminated "$argon2id$..." string) with
 * libsodium's interactive limits.  0, or -1 (out of memory). */
int password_hash(const char *pw, char out[PASSWORD_HASH_LEN]) __attribute__((warn_unused_result));

/* 1 when pw matches stored, 0 otherwise (also for a malformed stored). */
int password_verify(const char *stored, const char *pw);

/* ---- the worker (loop side) */
struct password_worker;

/* Called on the loop thread once the job is done.  For a hash job, ok is 1
 * and hash the new string (borrowed for the call); for a verify job, ok is
 * 1 on a match and hash is NULL.  ok is -1 when the job failed. */
typedef void (*password_cb)(int ok, const char *hash, void *arg);

/* Starts the thread; results come back through an event on base.  NULL
 * when out of resources.  Caller frees with password_worker_free (jobs not
 * yet done are dropped without their callbacks: free only after the loop
 * has drained its requests). */
struct password_worker *password_worker_new(struct event_base *base)
    __attribute__((warn_unused_result));
void password_worker_free(struct password_worker *w);

/* Queue a job (pw and stored are copied and wiped after use).  stored NULL
 * verifies against a dummy hash, so that an unknown account costs the same
 * time as a known one.  0, or -1 when out of memory (cb not called). */
int password_worker_hash(struct password_worker *w, const char *pw, password_cb cb, void *arg)
    __attribute__((warn_unused_result));
int password_worker_verify(struct password_worker *w, const char *stored, const char *pw,
                           password_cb cb, void *arg) __attribute__((warn_unused_result));

#endif

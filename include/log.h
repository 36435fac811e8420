/* Levelled, one-line-per-event logging to stderr. */
#ifndef SENDBENCH_LOG_H
#define SENDBENCH_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level printed; returns -1 for an unknown name. */
int log_set_level_name(const char *name) __attribute__((warn_unused_result));

/* This process's id among several servers (set once at start-up, before
 * threads start; at most 31 characters): request ids are "<instance>-<n>",
 * unique across instances. */
void log_set_instance(const char *id);

/* The id given to log_set_instance (borrowed; "" before). */
const char *log_instance(void);

/* Writes request n's id ("<instance>-<n>", or "<n>" before
 * log_set_instance) into out. */
void log_request_id(uint64_t n, char *out, size_t outlen);

/* reqid 0 means "not tied to a request". */
void log_msg(enum log_level level, uint64_t reqid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_msg(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, 0, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, 0, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, 0, __VA_ARGS__)

#endif

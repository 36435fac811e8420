/*
 * What the quarterly return's pages share (server/routes_returns_list.c,
 * server/routes_returns.c).
 */
#ifndef SENDBENCH_RETURNS_H
#define SENDBENCH_RETURNS_H

#include <stddef.h>

/* "2025-26 Q2" -> "/returns/2025-26%20Q2" (a checked period has no other
 * character to encode). */
void returns_period_path(const char *period, char *out, size_t outlen);

/* A return_status state in words ("awaiting approval"); borrowed. */
const char *returns_state_label(const char *state);

#endif

/* Monotonic time for durations (request timing, import phases). */
#ifndef SENDBENCH_CLOCK_H
#define SENDBENCH_CLOCK_H

/* Seconds on CLOCK_MONOTONIC: only differences mean anything. */
double clock_seconds(void);

#endif

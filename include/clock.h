/* Monotonic time for durations (request timing, import phases), and
 * today's date. */
#ifndef SENDBENCH_CLOCK_H
#define SENDBENCH_CLOCK_H

/* Seconds on CLOCK_MONOTONIC: only differences mean anything. */
double clock_seconds(void);

/* Today's date in UTC (the date a return is checked against). */
void clock_utc_date(int *year, int *month, int *day);

#endif

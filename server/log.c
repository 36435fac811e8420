#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};
static char instance[32];

void log_set_instance(const char *id)
{
    snprintf(instance, sizeof instance, "%s", id ? id : "");
}

const char *log_instance(void)
{
    return instance;
}

void log_request_id(uint64_t n, char *out, size_t outlen)
{
    if (instance[0])
        snprintf(out, outlen, "%s-%llu", instance, (unsigned long long)n);
    else
        snprintf(out, outlen, "%llu", (unsigned long long)n);
}

int log_set_level_name(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            min_level = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

/* One fprintf per line so that lines from threads do not interleave. */
void log_msg(enum log_level level, uint64_t reqid, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One event on one line, in printable ASCII, whatever the message
     * holds (paths and headers come from clients). */
    char clean[sizeof msg * 4];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < sizeof clean; p++) {
        if (*p >= 0x20 && *p < 0x7f)
            clean[o++] = (char)*p;
        else
            o += (size_t)snprintf(clean + o, sizeof clean - o, "\\x%02x", *p);
    }
    clean[o] = '\0';

    struct timespec ts;
    struct tm tm;
    char when[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    if (reqid) {
        char id[64];
        log_request_id(reqid, id, sizeof id);
        fprintf(stderr, "%s.%03ldZ %-5s req=%s %s\n", when, ts.tv_nsec / 1000000L,
                level_names[level], id, clean);
    } else {
        fprintf(stderr, "%s.%03ldZ %-5s %s\n", when, ts.tv_nsec / 1000000L,
                level_names[level], clean);
    }
}

#include "proxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Text to binary: IPv4, IPv6, and IPv4-mapped IPv6 taken as IPv4 (a dual
 * stack listener reports IPv4 peers as ::ffff:a.b.c.d). */
static int parse_addr(const char *s, int *family, unsigned char *out)
{
    if (inet_pton(AF_INET, s, out) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(out, mapped, 12) == 0) {
            memmove(out, out + 12, 4);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return 0;
    }
    return -1;
}

int proxy_trust_parse(struct proxy_trust *t, const char *list, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    const char *p = list ? list : "";
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ", \t");
        char item[80];
        if (len >= sizeof item) {
            snprintf(err, errlen, "trusted-proxy: \"%.40s...\" is not an address", p);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        p += len;
        if (t->n == PROXY_MAX_TRUSTED) {
            snprintf(err, errlen, "trusted-proxy: at most %d entries", PROXY_MAX_TRUSTED);
            return -1;
        }
        struct proxy_net *net = &t->nets[t->n];
        char *slash = strchr(item, '/');
        if (slash)
            *slash = '\0';
        if (parse_addr(item, &net->family, net->addr) != 0) {
            snprintf(err, errlen, "trusted-proxy: \"%s\" is not an IPv4 or IPv6 address", item);
            return -1;
        }
        int max = net->family == AF_INET ? 32 : 128;
        net->prefix = max;
        if (slash) {
            char *end = NULL;
            long bits = strtol(slash + 1, &end, 10);
            if (end == slash + 1 || *end || bits < 0 || bits > max) {
                snprintf(err, errlen, "trusted-proxy: \"%s/%s\": the prefix must be 0-%d", item,
                         slash + 1, max);
                return -1;
            }
            net->prefix = (int)bits;
        }
        t->n++;
    }
    return 0;
}

static int net_contains(const struct proxy_net *net, int family, const unsigned char *a)
{
    if (net->family != family)
        return 0;
    int full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp(net->addr, a, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (net->addr[full] & mask) == (a[full] & mask);
}

int proxy_is_trusted(const struct proxy_trust *t, const char *addr)
{
    int family;
    unsigned char a[16];
    if (!t || !addr || parse_addr(addr, &family, a) != 0)
        return 0;
    for (int i = 0; i < t->n; i++)
        if (net_contains(&t->nets[i], family, a))
            return 1;
    return 0;
}

/* The last comma-separated element of s[0..len) that ends before `end`,
 * trimmed, copied into out; returns where it starts (the new end), or NULL
 * when there is none left. */
static const char *last_element(const char *s, const char *end, char *out, size_t outlen)
{
    if (end <= s)
        return NULL;
    const char *start = end;
    while (start > s && start[-1] != ',')
        start--;
    const char *a = start, *b = end;
    while (a < b && isspace((unsigned char)*a))
        a++;
    while (b > a && isspace((unsigned char)b[-1]))
        b--;
    size_t n = (size_t)(b - a);
    if (n >= outlen)
        n = 0;   /* too long to be an address: refused below */
    memcpy(out, a, n);
    out[n] = '\0';
    return start > s ? start - 1 : s;
}

int proxy_client_address(const struct proxy_trust *t, const char *peer,
                         const char *const *xff, int nxff, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", peer && *peer ? peer : "unknown");
    if (!proxy_is_trusted(t, peer))
        return 0;
    int from_header = 0;
    /* Rightmost first: the last header's last element was added by the
     * proxy that talked to us. */
    for (int h = nxff - 1; h >= 0; h--) {
        const char *s = xff[h] ? xff[h] : "";
        const char *end = s + strlen(s);
        char item[PROXY_ADDR_LEN];
        int family;
        unsigned char bin[16];
        while ((end = last_element(s, end, item, sizeof item)) != NULL) {
            if (!item[0])
                continue;
            /* Not an address: the chain is broken here; the hop that
             * handed it to us is the last we can vouch for. */
            if (parse_addr(item, &family, bin) != 0)
                return from_header;
            snprintf(out, outlen, "%s", item);
            from_header = 1;
            if (!proxy_is_trusted(t, item))
                return 1;
        }
    }
    return from_header;
}

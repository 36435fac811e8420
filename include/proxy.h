/*
 * Behind a load balancer the TCP peer is the balancer, not the client.
 * The client's address is taken from X-Forwarded-For only when the peer is
 * one of the configured trusted proxies (--trusted-proxy), and then only as
 * far back as the chain stays trusted: walking the header from the right
 * (the hop nearest to us), the first address that is not a trusted proxy is
 * the client.  Anything a client writes further left is never believed.
 * Pure code (no libevent): unit-tested in tests/unit/test_proxy.c.
 */
#ifndef SENDBENCH_PROXY_H
#define SENDBENCH_PROXY_H

#include <stddef.h>

#define PROXY_MAX_TRUSTED 32
#define PROXY_ADDR_LEN 48       /* room for any IPv6 text form */

struct proxy_net {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;                 /* bits that must match */
};

struct proxy_trust {
    struct proxy_net nets[PROXY_MAX_TRUSTED];
    int n;
};

/* Parses a comma-separated list of addresses and CIDR networks
 * ("127.0.0.1, 10.0.0.0/8, ::1, fd00::/8"); "" trusts nobody.  Returns 0,
 * or -1 with a reason in err. */
int proxy_trust_parse(struct proxy_trust *t, const char *list, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* 1 when addr (text form) is inside one of the trusted networks. */
int proxy_is_trusted(const struct proxy_trust *t, const char *addr);

/* The client address of a request that arrived from peer with the given
 * X-Forwarded-For values (xff: every occurrence of the header in order,
 * nxff of them; may be 0).  Writes the address into out (at least
 * PROXY_ADDR_LEN bytes).  Returns 1 when it came from the header, 0 when
 * it is the peer itself. */
int proxy_client_address(const struct proxy_trust *t, const char *peer,
                         const char *const *xff, int nxff, char *out, size_t outlen);

#endif

#include "proxy.h"
#include "unit.h"

static void test_parse(void)
{
    struct proxy_trust t;
    char err[128];
    CHECK(proxy_trust_parse(&t, "", err, sizeof err) == 0 && t.n == 0);
    CHECK(proxy_trust_parse(&t, "127.0.0.1, 10.0.0.0/8,::1 fd00::/8", err, sizeof err) == 0);
    CHECK(t.n == 4);
    static const char *const bad[] = {"10.0.0.0/33", "nonsense", "10.0.0.1/", "::1/129",
                                      "1.2.3.4/x", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        CHECK(proxy_trust_parse(&t, bad[i], err, sizeof err) == -1);
        CHECK(strstr(err, "trusted-proxy") != NULL);
    }
}

static void test_trusted(void)
{
    struct proxy_trust t;
    char err[128];
    CHECK(proxy_trust_parse(&t, "127.0.0.1,10.1.0.0/16,fd00::/8,192.168.7.128/25", err,
                            sizeof err) == 0);
    static const struct { const char *addr; int want; } cases[] = {
        {"127.0.0.1", 1}, {"127.0.0.2", 0}, {"::ffff:127.0.0.1", 1}, {"10.1.255.3", 1},
        {"10.2.0.1", 0}, {"fd12::5", 1}, {"fe80::1", 0}, {"192.168.7.200", 1},
        {"192.168.7.100", 0}, {"", 0}, {"junk", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(proxy_is_trusted(&t, cases[i].addr) == cases[i].want);
    CHECK(proxy_is_trusted(NULL, "127.0.0.1") == 0);
}

static void test_client_address(void)
{
    struct proxy_trust t;
    char err[128], out[PROXY_ADDR_LEN];
    CHECK(proxy_trust_parse(&t, "127.0.0.1,10.0.0.0/8", err, sizeof err) == 0);
    static const struct {
        const char *peer;
        const char *h1, *h2;    /* X-Forwarded-For occurrences (NULL: absent) */
        const char *want;
        int from_header;
    } cases[] = {
        /* no proxy in front: the peer, whatever the header says */
        {"203.0.113.9", "1.2.3.4", NULL, "203.0.113.9", 0},
        {"127.0.0.1", NULL, NULL, "127.0.0.1", 0},
        /* one trusted proxy */
        {"127.0.0.1", "198.51.100.7", NULL, "198.51.100.7", 1},
        {"127.0.0.1", " 198.51.100.7 ", NULL, "198.51.100.7", 1},
        /* a client's own forged entries on the left are not believed */
        {"127.0.0.1", "6.6.6.6, 198.51.100.7", NULL, "198.51.100.7", 1},
        /* two trusted hops: the first untrusted from the right */
        {"127.0.0.1", "198.51.100.7, 10.0.0.5", NULL, "198.51.100.7", 1},
        {"127.0.0.1", "198.51.100.7", "10.0.0.5", "198.51.100.7", 1},
        {"127.0.0.1", "2001:db8::1", NULL, "2001:db8::1", 1},
        /* garbage from a trusted hop: the last hop we can vouch for */
        {"127.0.0.1", "nonsense", NULL, "127.0.0.1", 0},
        {"127.0.0.1", "nonsense, 10.0.0.5", NULL, "10.0.0.5", 1},
        {"127.0.0.1", "", NULL, "127.0.0.1", 0},
        {"127.0.0.1", ",,", NULL, "127.0.0.1", 0},
        /* every hop trusted: the leftmost */
        {"127.0.0.1", "10.0.0.1, 10.0.0.2", NULL, "10.0.0.1", 1},
        {"127.0.0.1", "198.51.100.7:4711", NULL, "127.0.0.1", 0},
        {"127.0.0.1", "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc", NULL,
         "127.0.0.1", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *xff[2] = {cases[i].h1, cases[i].h2};
        int n = cases[i].h2 ? 2 : cases[i].h1 ? 1 : 0;
        int got = proxy_client_address(&t, cases[i].peer, xff, n, out, sizeof out);
        if (strcmp(out, cases[i].want) != 0 || got != cases[i].from_header)
            fprintf(stderr, "case %zu: got %s (%d), want %s (%d)\n", i, out, got, cases[i].want,
                    cases[i].from_header);
        CHECK(strcmp(out, cases[i].want) == 0);
        CHECK(got == cases[i].from_header);
    }
}

int main(void)
{
    RUN(test_parse);
    RUN(test_trusted);
    RUN(test_client_address);
    return UNIT_DONE();
}

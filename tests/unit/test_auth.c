/* Token form and hashing (server/auth.c): the pure parts. */
#include <openssl/evp.h>

#include "auth.h"
#include "unit.h"

static void test_new_tokens_have_the_form_and_differ(void)
{
    char a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1];
    unsigned char ha[AUTH_HASH_LEN], hb[AUTH_HASH_LEN], again[AUTH_HASH_LEN];
    CHECK(auth_token_new(a, sizeof a, ha) == 0);
    CHECK(auth_token_new(b, sizeof b, hb) == 0);
    CHECK(strlen(a) == AUTH_TOKEN_LEN && strncmp(a, "sbk_", 4) == 0);
    CHECK(strcmp(a, b) != 0);
    CHECK(memcmp(ha, hb, AUTH_HASH_LEN) != 0);
    /* The hash of the presented token is the stored one. */
    CHECK(auth_token_hash(a, again) == 0);
    CHECK(memcmp(ha, again, AUTH_HASH_LEN) == 0);
    /* And it is plain SHA-256 of the token text. */
    unsigned char want[32];
    unsigned int n = 0;
    CHECK(EVP_Digest(a, strlen(a), want, &n, EVP_sha256(), NULL) == 1 && n == 32);
    CHECK(memcmp(want, ha, 32) == 0);
    char small[10];
    CHECK(auth_token_new(small, sizeof small, ha) == -1);
}

static void test_malformed_tokens_are_refused(void)
{
    static const char *const bad[] = {
        "", "sbk_", "sbk_short", "xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "sbk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",     /* 42 */
        "sbk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* 44 */
        "sbk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",    /* not base64url */
        "sbk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "sbk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ",
    };
    unsigned char h[AUTH_HASH_LEN];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (auth_token_hash(bad[i], h) != -1)
            fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        CHECK(auth_token_hash(bad[i], h) == -1);
    }
    CHECK(auth_token_hash("sbk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-", h) == 0);
    CHECK(auth_token_hash("sbk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_", h) == 0);
}

static void test_hash_hex_form(void)
{
    unsigned char h[AUTH_HASH_LEN];
    for (int i = 0; i < AUTH_HASH_LEN; i++)
        h[i] = (unsigned char)(i * 8 + 1);
    char hex[67];
    auth_hash_hex(h, hex);
    CHECK(strlen(hex) == 66);
    CHECK(strncmp(hex, "\\x01091119", 10) == 0);
    CHECK(strcmp(hex + 62, "f1f9") == 0);
}

static void test_may_act_for(void)
{
    struct auth_caller council = {7, 0, "E06000059", CALLER_COUNCIL, 0},
                       admin = {1, 1, "", CALLER_ADMIN, 0};
    CHECK(auth_may_act_for(&council, "E06000059"));
    CHECK(!auth_may_act_for(&council, "E06000058"));
    CHECK(!auth_may_act_for(&council, ""));
    CHECK(auth_may_act_for(&admin, "E06000058"));
}

int main(void)
{
    RUN(test_new_tokens_have_the_form_and_differ);
    RUN(test_malformed_tokens_are_refused);
    RUN(test_hash_hex_form);
    RUN(test_may_act_for);
    return UNIT_DONE();
}

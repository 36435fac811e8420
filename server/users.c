/* People's accounts: what the CLI (server/cli_user.c) and the admin page
 * (server/routes_admin.c) share. */
#include "users.h"

#include <string.h>

int users_email_ok(const char *email)
{
    size_t n = email ? strlen(email) : 0;
    const char *at = n ? strchr(email, '@') : NULL;
    if (n < 3 || n > 254 || !at || at == email || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)email[i] <= ' ' || email[i] == 0x7f)
            return 0;
    return 1;
}

int users_link_new(char secret[AUTH_SECRET_LEN + 1], char hex[67])
{
    unsigned char hash[AUTH_HASH_LEN];
    if (auth_random_text(secret) != 0 || auth_sha256(secret, AUTH_SECRET_LEN, hash) != 0)
        return -1;
    auth_hash_hex(hash, hex);
    return 0;
}


#include "db_errors.h"

#include <string.h>

static int is_code(const char *s)
{
    return s && strlen(s) == 5;
}

int db_sqlstate_reconnect(const char *s)
{
    if (!is_code(s))
        return 0;
    return strcmp(s, "25006") == 0 || strncmp(s, "08", 2) == 0 ||
           (strncmp(s, "57P0", 4) == 0 && s[4] >= '1' && s[4] <= '5');
}

int db_sqlstate_unavailable(const char *s)
{
    if (!is_code(s))
        return 0;
    return db_sqlstate_reconnect(s) || strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0;
}

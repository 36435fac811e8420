/* Codes: shape rules (see include/codes.h).  NULL is no code. */
#include "codes.h"

#include <string.h>

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* A nine-character ONS code: the letter E, a two-digit entity code, six
 * digits. */
static bool ons(const char *s, const char *entity)
{
    return s && strlen(s) == 9 && s[0] == 'E' && s[1] == entity[0] && s[2] == entity[1] &&
           digits(s + 1, 8);
}

bool code_is_ons_authority(const char *s)
{
    static const char *const entities[] = {"06", "08", "09", "10", "11"};
    for (size_t i = 0; i < sizeof entities / sizeof entities[0]; i++)
        if (ons(s, entities[i]))
            return true;
    return false;
}

bool code_is_dfe_authority(const char *s)
{
    return s && strlen(s) == 3 && digits(s, 3);
}

bool code_is_authority(const char *s)
{
    return code_is_ons_authority(s) || code_is_dfe_authority(s);
}

bool code_is_region(const char *s)
{
    return ons(s, "12");
}

bool code_is_england(const char *s)
{
    return s && strcmp(s, CODE_ENGLAND) == 0;
}

bool code_is_scope(const char *s)
{
    return code_is_ons_authority(s) || code_is_region(s) || code_is_england(s);
}

bool code_is_metric_id(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n < 2 || n > 63 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

bool code_is_row_id(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    return n >= 1 && n <= 18 && strspn(s, "0123456789") == n;
}

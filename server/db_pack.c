#include "db_pack.h"

#include <stdlib.h>
#include <string.h>

void *db_pack(size_t head, const char *sql, int nparams, const char *const *params,
              char ***params_out, char **sql_out)
{
    /* The pointers that follow the header are aligned as pointers. */
    size_t at = (head + sizeof(char *) - 1) / sizeof(char *) * sizeof(char *);
    size_t need = at + (size_t)nparams * sizeof(char *) + strlen(sql) + 1;
    for (int i = 0; i < nparams; i++)
        if (params[i])
            need += strlen(params[i]) + 1;
    char *block = calloc(1, need);
    if (!block)
        return NULL;
    char **ps = (char **)(void *)(block + at);
    char *p = (char *)(ps + nparams);
    for (int i = 0; i < nparams; i++) {
        if (!params[i]) {
            ps[i] = NULL;
            continue;
        }
        size_t len = strlen(params[i]) + 1;
        memcpy(p, params[i], len);
        ps[i] = p;
        p += len;
    }
    memcpy(p, sql, strlen(sql) + 1);
    *params_out = ps;
    *sql_out = p;
    return block;
}

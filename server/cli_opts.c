/* The command-line option tables of include/cli.h: one parser for every
 * command, so every command spells options, reports errors and accepts
 * --db the same way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The option named by a ("--name" or "--name=value"), or NULL; *value is
 * set to the text after '=' when there is one. */
static const struct cli_opt *find_option(const struct cli_opt *opts, size_t n, const char *a,
                                         const char **value)
{
    *value = NULL;
    for (size_t k = 0; k < n; k++) {
        if (opts[k].kind == CLI_ARG || opts[k].kind == CLI_ARGS)
            continue;
        size_t len = strlen(opts[k].name);
        if (strncmp(a + 2, opts[k].name, len) != 0)
            continue;
        if (a[2 + len] == '\0')
            return &opts[k];
        if (a[2 + len] == '=') {
            *value = a + 3 + len;
            return &opts[k];
        }
    }
    return NULL;
}

static int set_value(const char *cmd, const char *usage, const struct cli_opt *o, const char *v)
{
    if (o->kind == CLI_TEXT) {
        if (o->max > 0 && strlen(v) > (size_t)o->max)
            return cli_usage_error("%s: --%s is limited to %lld characters", cmd, o->name, o->max);
        *(const char **)o->out = v;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || !end || end == v || *end || x < o->min || x > o->max)
        return cli_usage_error("%s: --%s must be a whole number from %lld to %lld (%s)", cmd,
                               o->name, o->min, o->max, usage);
    *(long long *)o->out = x;
    return 0;
}

int cli_parse(const char *cmd, const char *usage, const struct cli_opt *opts, size_t n,
              int argc, char **argv, int first)
{
    unsigned char seen[64] = {0};
    size_t next_arg = 0;            /* the next CLI_ARG to fill, by index in opts */
    if (n > sizeof seen)
        return cli_usage_error("%s: too many options declared", cmd);
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--db") == 0 && i + 1 < argc) {
            i++;
            continue;
        }
        if (strncmp(a, "--db=", 5) == 0)
            continue;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            /* Nothing is open or allocated yet but a CLI_ARGS list: the
             * process ends here, as `sendbench --help` does. */
            printf("%s\n", usage);
            exit(0);
        }
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            const char *value;
            const struct cli_opt *o = find_option(opts, n, a, &value);
            if (!o)
                return cli_usage_error("%s: unknown option \"%.60s\" (%s)", cmd, a, usage);
            size_t k = (size_t)(o - opts);
            if (seen[k]++)
                return cli_usage_error("%s: --%s is given twice", cmd, o->name);
            if (o->kind == CLI_FLAG) {
                if (value)
                    return cli_usage_error("%s: --%s takes no value", cmd, o->name);
                *(int *)o->out = 1;
                continue;
            }
            if (!value) {
                if (i + 1 >= argc)
                    return cli_usage_error("%s: --%s needs a value (%s)", cmd, o->name, usage);
                value = argv[++i];
            }
            int rc = set_value(cmd, usage, o, value);
            if (rc)
                return rc;
            continue;
        }
        /* A positional argument: the next CLI_ARG, else the CLI_ARGS list. */
        while (next_arg < n && (opts[next_arg].kind != CLI_ARG || seen[next_arg]))
            next_arg++;
        if (next_arg < n) {
            seen[next_arg] = 1;
            *(const char **)opts[next_arg].out = a;
            continue;
        }
        const struct cli_opt *rest = NULL;
        for (size_t k = 0; k < n; k++)
            if (opts[k].kind == CLI_ARGS)
                rest = &opts[k];
        if (!rest)
            return cli_usage_error("%s: unexpected argument \"%.60s\" (%s)", cmd, a, usage);
        struct cli_args *list = rest->out;
        if (!list->v && !(list->v = calloc((size_t)argc, sizeof *list->v)))
            return cli_usage_error("%s: out of memory", cmd);
        list->v[list->n++] = a;
    }
    return 0;
}

void cli_args_free(struct cli_args *a)
{
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

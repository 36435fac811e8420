#include "import_csv.h"

#include <csv.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* Fields and field arrays are carved from large blocks (a 12,000-line file
 * has 200,000 cells), sized from the input so that one or two blocks hold a
 * whole file.  A block is mapped with MAP_POPULATE: its pages are made in
 * one system call rather than one page fault each, which on this kind of
 * virtual machine was a third of the time taken to read the largest DfE file
 * (docs/bench.md). */
struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

/* n bytes of fresh memory whose pages are made in one call (MAP_POPULATE). */
static void *pages_alloc(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* align: 1 for strings (not rounded up: most cells are a few bytes),
 * sizeof(char *) for field arrays; block: the size of a new block. */
static void *arena_alloc(void **arena, size_t n, size_t align, size_t block)
{
    struct arena_block *b = *arena;
    size_t at = b ? (b->used + align - 1) / align * align : 0;
    if (!b || at > b->cap || b->cap - at < n) {
        size_t cap = n > block ? n : block;
        struct arena_block *nb = pages_alloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        *arena = b = nb;
        at = 0;
    }
    void *p = (char *)b->data + at;
    b->used = at + n;
    return p;
}

static void arena_free(void *arena)
{
    struct arena_block *b = arena;
    while (b) {
        struct arena_block *next = b->next;
        munmap(b, sizeof *b + b->cap);
        b = next;
    }
}

struct reader {
    struct import_csv *out;
    size_t cap_record;
    char **field;           /* fields of the record being read (scratch array) */
    size_t nfield, cap_field;
    unsigned line;          /* physical line being fed to libcsv */
    size_t block;           /* arena block size for this input */
    int oom;
};

static char *trimmed_copy(void **arena, size_t block, const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    char *c = arena_alloc(arena, len + 1, 1, block);
    if (!c)
        return NULL;
    if (len)
        memcpy(c, s, len);
    c[len] = '\0';
    return c;
}

static void on_field(void *s, size_t len, void *data)
{
    struct reader *r = data;
    if (r->oom)
        return;
    if (r->nfield == r->cap_field) {
        size_t cap = r->cap_field ? r->cap_field * 2 : 32;
        char **f = realloc(r->field, cap * sizeof *f);
        if (!f) {
            r->oom = 1;
            return;
        }
        r->field = f;
        r->cap_field = cap;
    }
    char *c = trimmed_copy(&r->out->arena, r->block, s ? s : "", s ? len : 0);
    if (!c) {
        r->oom = 1;
        return;
    }
    r->field[r->nfield++] = c;
}

static void on_record(int term, void *data)
{
    (void)term;
    struct reader *r = data;
    if (r->oom)
        return;
    struct import_csv *out = r->out;
    if (out->nrecord == r->cap_record) {
        size_t cap = r->cap_record ? r->cap_record * 2 : 256;
        struct import_csv_record *n = realloc(out->record, cap * sizeof *n);
        if (!n) {
            r->oom = 1;
            return;
        }
        out->record = n;
        r->cap_record = cap;
    }
    /* The record gets a copy of the field array; the scratch one is reused. */
    char **fields = arena_alloc(&out->arena, (r->nfield ? r->nfield : 1) * sizeof *fields,
                                sizeof *fields, r->block);
    if (!fields) {
        r->oom = 1;
        return;
    }
    if (r->nfield)
        memcpy(fields, r->field, r->nfield * sizeof *fields);
    struct import_csv_record *rec = &out->record[out->nrecord++];
    rec->line = r->line;
    rec->nfield = r->nfield;
    rec->field = fields;
    r->nfield = 0;
}

static void reader_drop_partial(struct reader *r)
{
    free(r->field);
    r->field = NULL;
    r->nfield = r->cap_field = 0;
}

int import_csv_parse(const char *buf, size_t len, struct import_csv *out, char *err,
                     size_t errlen)
{
    struct csv_parser p;
    /* Copies of the cells plus their pointer arrays take about twice the
     * input. */
    size_t block = len < 32 * 1024 ? 64 * 1024 : len < 32 * 1024 * 1024 ? 2 * len : 64 * 1024 * 1024;
    struct reader r = {.out = out, .block = block};
    int rc = -1;
    out->nrecord = 0;
    out->record = NULL;
    out->arena = NULL;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Grow the cell buffer 64 KiB at a time, not libcsv's 128 bytes: a
     * huge cell would otherwise cost quadratic copying. */
    csv_set_blk_size(&p, 64 * 1024);
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        buf += 3;
        len -= 3;
    }
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t chunk = nl ? (size_t)(nl - (buf + pos)) + 1 : len - pos;
        r.line++;
        if (memchr(buf + pos, '\0', chunk)) {
            snprintf(err, errlen, "line %u: NUL byte (not a text CSV file)", r.line);
            goto done;
        }
        if (csv_parse(&p, buf + pos, chunk, on_field, on_record, &r) != chunk) {
            snprintf(err, errlen, "line %u: %s", r.line, csv_strerror(csv_error(&p)));
            goto done;
        }
        if (r.oom) {
            snprintf(err, errlen, "line %u: out of memory", r.line);
            goto done;
        }
        pos += chunk;
    }
    if (csv_fini(&p, on_field, on_record, &r) != 0) {
        snprintf(err, errlen, "line %u: unterminated quoted field at end of file", r.line);
        goto done;
    }
    if (r.oom) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    rc = 0;
done:
    reader_drop_partial(&r);
    csv_free(&p);
    if (rc != 0)
        import_csv_free(out);
    return rc;
}

int import_csv_read(const char *path, struct import_csv *out, char *err, size_t errlen)
{
    int rc = -1;
    char *buf = NULL;
    out->nrecord = 0;
    out->record = NULL;
    out->arena = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    /* One buffer of the file's size (plus one byte to see growth), its
     * pages made up front like the arena's. */
    struct stat st;
    size_t cap = fstat(fileno(f), &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 1 : 1 << 16;
    if (cap > IMPORT_CSV_MAX_BYTES)
        cap = IMPORT_CSV_MAX_BYTES;
    size_t len = 0;
    buf = pages_alloc(cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (;;) {
        if (len == cap) {     /* the file grew since fstat */
            if (cap >= IMPORT_CSV_MAX_BYTES) {
                snprintf(err, errlen, "file larger than %u bytes", IMPORT_CSV_MAX_BYTES);
                goto done;
            }
            size_t ncap = cap * 2 < IMPORT_CSV_MAX_BYTES ? cap * 2 : IMPORT_CSV_MAX_BYTES;
            char *n = pages_alloc(ncap);
            if (!n) {
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            memcpy(n, buf, len);
            munmap(buf, cap);
            buf = n;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "read error: %s", strerror(errno));
                goto done;
            }
            break;
        }
    }
    rc = import_csv_parse(buf, len, out, err, errlen);
done:
    if (buf)
        munmap(buf, cap);
    fclose(f);
    return rc;
}

void import_csv_free(struct import_csv *csv)
{
    free(csv->record);
    arena_free(csv->arena);
    csv->record = NULL;
    csv->nrecord = 0;
    csv->arena = NULL;
}

int import_csv_column(const struct import_csv *csv, const char *name)
{
    if (csv->nrecord == 0)
        return -1;
    const struct import_csv_record *h = &csv->record[0];
    for (size_t i = 0; i < h->nfield; i++)
        if (strcmp(h->field[i], name) == 0)
            return (int)i;
    return -1;
}

/* The importers' CSV reader: BOM, CRLF, quoting, line numbers, errors. */
#include <stdlib.h>

#include "import_csv.h"
#include "unit.h"

static int parse(const char *text, struct import_csv *csv, char *err, size_t errlen)
{
    return import_csv_parse(text, strlen(text), csv, err, errlen);
}

static void bom_crlf_and_quoted_empty_strings(void)
{
    struct import_csv csv;
    char err[200];
    const char *text = "\xEF\xBB\xBFtime_period,la_name,value\r\n"
                       "2022,\"\",\"\"\r\n"
                       "2021,\"Bristol, City of\", 12\r\n";
    CHECK(parse(text, &csv, err, sizeof err) == 0);
    CHECK(csv.nrecord == 3);
    if (csv.nrecord == 3) {
        CHECK_STR(csv.record[0].field[0], "time_period");   /* BOM gone */
        CHECK(csv.record[1].nfield == 3);
        CHECK_STR(csv.record[1].field[1], "");
        CHECK_STR(csv.record[1].field[2], "");
        CHECK_STR(csv.record[2].field[1], "Bristol, City of");
        CHECK_STR(csv.record[2].field[2], "12");            /* leading space gone */
        CHECK(csv.record[1].line == 2);
        CHECK(csv.record[2].line == 3);
        CHECK(import_csv_column(&csv, "value") == 2);
        CHECK(import_csv_column(&csv, "nope") == -1);
    }
    import_csv_free(&csv);
    CHECK(csv.record == NULL && csv.nrecord == 0);
}

static void line_numbers_skip_blank_lines_and_count_embedded_newlines(void)
{
    struct import_csv csv;
    char err[200];
    const char *text = "a,b\n\n1,\"two\nlines\"\n3,4";   /* no final newline */
    CHECK(parse(text, &csv, err, sizeof err) == 0);
    CHECK(csv.nrecord == 3);
    if (csv.nrecord == 3) {
        CHECK(csv.record[1].line == 4);     /* the record ends on line 4 */
        CHECK_STR(csv.record[1].field[1], "two\nlines");
        CHECK(csv.record[2].line == 5);
        CHECK_STR(csv.record[2].field[1], "4");
    }
    import_csv_free(&csv);
}

static void errors_name_the_line(void)
{
    static const struct {
        const char *text;
        const char *err;
    } t[] = {
        {"a,b\n1,\"unterminated\n", "line 2: unterminated"},    /* truncated file */
        {"a,b\n1,2\n3,x\"y\"\n", "line 3:"},                  /* quote inside a field */
        {"a,b\n1,2\0\n", "line 2: NUL byte"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct import_csv csv;
        char err[200] = "";
        size_t len = i == 2 ? 9 : strlen(t[i].text);
        CHECK(import_csv_parse(t[i].text, len, &csv, err, sizeof err) == -1);
        CHECK(strncmp(err, t[i].err, strlen(t[i].err)) == 0);
        if (strncmp(err, t[i].err, strlen(t[i].err)) != 0)
            fprintf(stderr, "  got \"%s\"\n", err);
        CHECK(csv.nrecord == 0 && csv.record == NULL);
    }
}

static void empty_input(void)
{
    struct import_csv csv;
    char err[200];
    CHECK(parse("", &csv, err, sizeof err) == 0);
    CHECK(csv.nrecord == 0);
    CHECK(parse("\xEF\xBB\xBF", &csv, err, sizeof err) == 0);
    CHECK(csv.nrecord == 0);
    import_csv_free(&csv);
}

static void missing_file(void)
{
    struct import_csv csv;
    char err[200];
    CHECK(import_csv_read("/nonexistent/sendbench.csv", &csv, err, sizeof err) == -1);
    CHECK(strstr(err, "cannot open") != NULL);
}

int main(void)
{
    RUN(bom_crlf_and_quoted_empty_strings);
    RUN(line_numbers_skip_blank_lines_and_count_embedded_newlines);
    RUN(errors_name_the_line);
    RUN(empty_input);
    RUN(missing_file);
    return UNIT_DONE();
}

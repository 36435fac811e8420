/* Typed download rows (sheet.c) as CSV, and as an XLSX workbook (xlsx.c)
 * read back here: the zip's central directory is walked and the parts are
 * inflated with zlib, so the test checks the XML Excel will read. */
#include "sheet.h"
#include "xlsx.h"

#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "unit.h"

static void test_numbers_and_symbols_as_csv(void)
{
    static const struct {
        double v;
        int dp;
        const char *want;
    } cases[] = {
        {3150, 0, "3150"},        {16.5, 1, "16.5"},       {2.25, 1, "2.3"},
        {-2.25, 1, "-2.3"},       {-0.04, 1, "0.0"},       {-0.4, 0, "0"},
        {52300000, 0, "52300000"}, {1.0 / 3, 2, "0.33"},   {1234.5678, SHEET_DP_ANY, "1234.5678"},
        {12.0, 9, "12.000000"},   {0.1, -7, "0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sheet *s = sheet_new("t");
        sheet_number(s, cases[i].v, cases[i].dp);
        sheet_end_row(s);
        size_t n = 0;
        const struct sheet_cell *c = sheet_row(s, 0, &n);
        CHECK(n == 1);
        CHECK_STR(c[0].text, cases[i].want);
        CHECK(c[0].number == 1);
        CHECK_NEAR(c[0].value, strtod(cases[i].want, NULL), 0);
        sheet_free(s);
    }
    struct sheet *s = sheet_new("t");
    sheet_text(s, "la_name");
    sheet_text(s, "value");
    sheet_text(s, "rank");
    sheet_end_row(s);
    sheet_text(s, "Bournemouth, Christchurch and Poole");
    sheet_number_or(s, 0, 0, 0, "c");
    sheet_int(s, 12);
    sheet_end_row(s);
    sheet_text(s, "say \"hi\"\nthere");
    sheet_number(s, NAN, 1);
    sheet_text(s, NULL);
    sheet_end_row(s);
    size_t len = 0;
    char *csv = sheet_csv_string(s, "\r\n", &len);
    CHECK_STR(csv, "la_name,value,rank\r\n\"Bournemouth, Christchurch and Poole\",c,12\r\n"
                   "\"say \"\"hi\"\"\nthere\",,\r\n");
    CHECK(csv && len == strlen(csv));
    free(csv);
    size_t n;
    const struct sheet_cell *c = sheet_row(s, 1, &n);
    CHECK(n == 3 && !c[1].number && c[2].number);
    sheet_free(s);

    s = sheet_new("a/b:c[1]*?\\ with a name far longer than thirty-one");
    CHECK_STR(sheet_name(s), "a-b-c-1---- with a name far lon");
    sheet_free(s);
}

/* ---- a minimal zip reader over the central directory ---- */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* The inflated part called name (caller frees), or NULL. */
static char *zip_part(const unsigned char *z, size_t len, const char *name)
{
    if (len < 22)
        return NULL;
    size_t eocd = len - 22;
    while (eocd > 0 && le32(z + eocd) != 0x06054b50)
        eocd--;
    if (le32(z + eocd) != 0x06054b50)
        return NULL;
    size_t entries = le16(z + eocd + 10), off = le32(z + eocd + 16);
    for (size_t i = 0; i < entries && off + 46 <= len; i++) {
        const unsigned char *h = z + off;
        if (le32(h) != 0x02014b50)
            return NULL;
        size_t method = le16(h + 10), csize = le32(h + 20), usize = le32(h + 24);
        size_t nlen = le16(h + 28), xlen = le16(h + 30), clen = le16(h + 32);
        size_t local = le32(h + 42);
        if (nlen == strlen(name) && memcmp(h + 46, name, nlen) == 0) {
            const unsigned char *lh = z + local;
            const unsigned char *data = lh + 30 + le16(lh + 26) + le16(lh + 28);
            char *out = malloc(usize + 1);
            if (!out)
                return NULL;
            if (method == 0) {
                memcpy(out, data, usize);
            } else {
                z_stream st = {0};
                st.next_in = (unsigned char *)data;
                st.avail_in = (uInt)csize;
                st.next_out = (unsigned char *)out;
                st.avail_out = (uInt)usize;
                if (inflateInit2(&st, -MAX_WBITS) != Z_OK) {
                    free(out);
                    return NULL;
                }
                int rc = inflate(&st, Z_FINISH);
                inflateEnd(&st);
                if (rc != Z_STREAM_END) {
                    free(out);
                    return NULL;
                }
            }
            out[usize] = '\0';
            return out;
        }
        off += 46 + nlen + xlen + clen;
    }
    return NULL;
}

static void test_workbook_read_back(void)
{
    struct sheet *s = sheet_new("ehcp_caseload");
    sheet_text(s, "la_name");
    sheet_text(s, "ehcp_caseload");
    sheet_text(s, "pct");
    sheet_end_row(s);
    sheet_text(s, "Dorset");
    sheet_number(s, 3150, 0);
    sheet_number(s, 52.55, 1);
    sheet_end_row(s);
    sheet_text(s, "Poole & <Bournemouth>");
    sheet_number_or(s, 0, 0, 0, "low");
    sheet_number(s, 1234.5678, SHEET_DP_ANY);
    sheet_end_row(s);
    sheet_text(s, "forecast");
    sheet_number_as(s, 3150.72, SHEET_DP_ANY, 0);
    sheet_end_row(s);
    const char *extra[] = {"period", "2024", NULL};
    struct xlsx_about about = {"Comparative table", "/api/v1/tables/ehcp_caseload?format=xlsx",
                               "Contains public sector information (OGL v3.0)", extra, 0};
    const struct sheet *sheets[] = {s};
    char err[200] = "";
    size_t len = 0, len2 = 0;
    unsigned char *x = xlsx_workbook(sheets, 1, &about, &len, err, sizeof err);
    unsigned char *x2 = xlsx_workbook(sheets, 1, &about, &len2, err, sizeof err);
    CHECK(x != NULL);
    CHECK(x2 != NULL);
    if (!x || !x2) {
        fprintf(stderr, "xlsx_workbook: %s\n", err);
        free(x);
        free(x2);
        sheet_free(s);
        return;
    }
    /* The same sheets give the same bytes (so the same ETag everywhere). */
    CHECK(len == len2 && memcmp(x, x2, len) == 0);
    CHECK(len > 4 && memcmp(x, "PK\003\004", 4) == 0);

    char *book = zip_part(x, len, "xl/workbook.xml");
    char *sheet1 = zip_part(x, len, "xl/worksheets/sheet1.xml");
    char *sheet2 = zip_part(x, len, "xl/worksheets/sheet2.xml");
    char *strings = zip_part(x, len, "xl/sharedStrings.xml");
    char *styles = zip_part(x, len, "xl/styles.xml");
    CHECK(book && sheet1 && sheet2 && strings && styles);
    if (book && sheet1 && sheet2 && strings && styles) {
        CHECK(strstr(book, "name=\"ehcp_caseload\"") != NULL);
        CHECK(strstr(book, "name=\"About\"") != NULL);
        /* Numbers as numbers; the symbol as a (shared) string. */
        CHECK(strstr(sheet1, "<c r=\"B2\" s=\"2\"><v>3150</v></c>") != NULL);
        CHECK(strstr(sheet1, "<c r=\"C2\" s=\"3\"><v>52.6</v></c>") != NULL);
        CHECK(strstr(sheet1, "<c r=\"C3\"><v>1234.5678</v></c>") != NULL);
        CHECK(strstr(sheet1, "<c r=\"B3\" t=\"s\">") != NULL);
        CHECK(strstr(sheet1, "<pane ySplit=\"1\"") != NULL);
        CHECK(strstr(sheet1, "<c r=\"B4\" s=\"2\"><v>3150.72</v></c>") != NULL);
        CHECK(strstr(sheet1, "<autoFilter ref=\"A1:C4\"") != NULL);
        CHECK(strstr(strings, "<t>low</t>") != NULL);
        CHECK(strstr(strings, "Poole &amp; &lt;Bournemouth&gt;") != NULL);
        CHECK(strstr(styles, "formatCode=\"#,##0\"") != NULL);
        CHECK(strstr(styles, "formatCode=\"#,##0.0\"") != NULL);
        /* The About sheet: attribution, extra pairs, symbols. */
        CHECK(strstr(strings, "Contains public sector information (OGL v3.0)") != NULL);
        CHECK(strstr(strings, "<t>symbol c</t>") != NULL);
        CHECK(strstr(strings, "<t>2024</t>") != NULL);
    }
    free(book);
    free(sheet1);
    free(sheet2);
    free(strings);
    free(styles);
    free(x);
    free(x2);

    /* No attribution, no workbook. */
    about.attribution = NULL;
    CHECK(xlsx_workbook(sheets, 1, &about, &len, err, sizeof err) == NULL);
    CHECK(strstr(err, "attribution") != NULL);
    sheet_free(s);
}

static void test_requested(void)
{
    CHECK(xlsx_requested("xlsx", NULL));
    CHECK(!xlsx_requested("csv", XLSX_CONTENT_TYPE));
    CHECK(xlsx_requested(NULL, "text/csv, " XLSX_CONTENT_TYPE));
    CHECK(!xlsx_requested(NULL, "text/csv"));
    CHECK(!xlsx_requested(NULL, NULL));
}

int main(void)
{
    RUN(test_numbers_and_symbols_as_csv);
    RUN(test_workbook_read_back);
    RUN(test_requested);
    return UNIT_DONE();
}

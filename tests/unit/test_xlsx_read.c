/* Reading an uploaded .xlsx return (server/xlsx_read.c): a workbook made by
 * libxlsxwriter (as Excel would save it) reads back as the CSV the form
 * takes; hand-made zips with hostile parts are refused with a reason. */
#include "xlsx_read.h"
#include "sheet.h"
#include "xlsx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "unit.h"

static void test_workbook_reads_as_csv(void)
{
    struct sheet *s = sheet_new("Return");
    sheet_text(s, "time_period");
    sheet_text(s, "new_la_code");
    sheet_text(s, "ehcp_caseload");
    sheet_text(s, "case_officers_fte");
    sheet_text(s, "note");
    sheet_end_row(s);
    sheet_text(s, "2025-26 Q2");
    sheet_text(s, "E06000059");
    sheet_int(s, 3160);
    sheet_number(s, 16.5, 1);
    sheet_text(s, "a \"quoted\", comma");
    sheet_end_row(s);
    const struct sheet *sheets[1] = {s};
    struct xlsx_about about = {"Return", "test", "attribution", NULL, 0};
    size_t len = 0;
    char err[200];
    unsigned char *x = xlsx_workbook(sheets, 1, &about, &len, err, sizeof err);
    CHECK(x != NULL);
    if (x) {
        char *csv = NULL;
        size_t n = 0;
        const char *why = "unset";
        CHECK(xlsx_read_csv((const char *)x, len, &csv, &n, &why) == 0);
        CHECK(why == NULL);
        const char *want = "time_period,new_la_code,ehcp_caseload,case_officers_fte,note\r\n"
                           "2025-26 Q2,E06000059,3160,16.5,\"a \"\"quoted\"\", comma\"\r\n";
        CHECK(csv && strcmp(csv, want) == 0 && n == strlen(want));
        if (csv && strcmp(csv, want) != 0)
            fprintf(stderr, "got: %s\n", csv);
        free(csv);
        /* every truncation of the file is refused, never read past */
        for (size_t cut = 0; cut < len; cut += 97) {
            char *part = malloc(cut ? cut : 1);
            memcpy(part, x, cut);
            CHECK(xlsx_read_csv(part, cut, &csv, &n, &why) == -1 && csv == NULL && why);
            free(part);
        }
    }
    free(x);
    sheet_free(s);
}

/* A zip of the given parts (name, content pairs), malloc'd. */
static char *make_zip(const char *const *parts, size_t n_parts, size_t *len)
{
    char path[] = "/tmp/sendbench-xlsx-test.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    close(fd);
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_TRUNCATE, &zerr);
    char *out = NULL;
    if (za) {
        for (size_t i = 0; i + 1 < 2 * n_parts; i += 2) {
            zip_source_t *src = zip_source_buffer(za, parts[i + 1], strlen(parts[i + 1]), 0);
            if (!src || zip_file_add(za, parts[i], src, ZIP_FL_OVERWRITE) < 0)
                zip_source_free(src);
        }
        if (zip_close(za) == 0) {
            FILE *f = fopen(path, "rb");
            if (f) {
                out = malloc(1 << 20);
                *len = out ? fread(out, 1, 1 << 20, f) : 0;
                fclose(f);
            }
        } else {
            zip_discard(za);
        }
    }
    unlink(path);
    return out;
}

static int refused(const char *const *parts, size_t n, const char *why_has)
{
    size_t len = 0;
    char *z = make_zip(parts, n, &len);
    if (!z)
        return 0;
    char *csv = NULL;
    size_t cl = 0;
    const char *why = NULL;
    int rc = xlsx_read_csv(z, len, &csv, &cl, &why);
    free(z);
    free(csv);
    if (rc == 0 || !why || !strstr(why, why_has)) {
        fprintf(stderr, "wanted a refusal with \"%s\", got rc %d why %s\n", why_has, rc,
                why ? why : "(null)");
        return 0;
    }
    return 1;
}

static void test_hostile_workbooks_refused(void)
{
    static const char SHEET_HEAD[] =
        "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>";
    char buf[4096];
    const char *p[4] = {"xl/worksheets/sheet1.xml", buf, NULL, NULL};

    snprintf(buf, sizeof buf, "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaa\">"
                              "<!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]><worksheet>&b;</worksheet>");
    CHECK(refused(p, 1, "DTD") || refused(p, 1, "entities"));
    snprintf(buf, sizeof buf, "%s<row r=\"1\"><c r=\"A1\" t=\"s\"><v>7</v></c></row>"
                              "</sheetData></worksheet>", SHEET_HEAD);
    CHECK(refused(p, 1, "shared string"));
    snprintf(buf, sizeof buf, "%s<row r=\"1\"><c r=\"ZZZ1\"><v>1</v></c></row></sheetData>"
                              "</worksheet>", SHEET_HEAD);
    CHECK(refused(p, 1, "64 columns"));
    snprintf(buf, sizeof buf, "%s<row r=\"5000\"><c><v>1</v></c></row></sheetData></worksheet>",
             SHEET_HEAD);
    CHECK(refused(p, 1, "1000 rows"));
    snprintf(buf, sizeof buf, "%s<row r=\"2\"><c><v>1</v></c></row><row r=\"1\"><c><v>1</v></c>"
                              "</row></sheetData></worksheet>", SHEET_HEAD);
    CHECK(refused(p, 1, "out of order"));
    snprintf(buf, sizeof buf, "%s<row r=\"1\"><c r=\"A1\"><v>1</v></c>", SHEET_HEAD);
    CHECK(refused(p, 1, "not well-formed"));
    snprintf(buf, sizeof buf, "%s</sheetData></worksheet>", SHEET_HEAD);
    CHECK(refused(p, 1, "empty"));
    const char *other[2] = {"xl/worksheets/sheet2.xml", "<worksheet/>"};
    CHECK(refused(other, 1, "no first sheet"));

    /* inline and shared strings, a formula's cached value, a gap */
    const char *ok[4] = {
        "xl/sharedStrings.xml",
        "<sst><si><t>time_period</t></si><si><r><t>new_la</t></r><r><t>_code</t></r>"
        "<rPh><t>x</t></rPh></si></sst>",
        "xl/worksheets/sheet1.xml",
        "<x:worksheet xmlns:x=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
        "<x:sheetData><x:row r=\"1\"><x:c r=\"A1\" t=\"s\"><x:v>0</x:v></x:c>"
        "<x:c r=\"B1\" t=\"s\"><x:v>1</x:v></x:c><x:c r=\"D1\" t=\"inlineStr\"><x:is><x:t>"
        "ehcp_caseload</x:t></x:is></x:c></x:row><x:row r=\"3\"><x:c r=\"A3\" t=\"str\">"
        "<x:f>A1</x:f><x:v>2025-26 Q2</x:v></x:c><x:c r=\"D3\"><x:v>3160</x:v></x:c>"
        "</x:row></x:sheetData></x:worksheet>"};
    size_t len = 0;
    char *z = make_zip(ok, 2, &len);
    CHECK(z != NULL);
    char *csv = NULL;
    size_t cl = 0;
    const char *why = NULL;
    CHECK(z && xlsx_read_csv(z, len, &csv, &cl, &why) == 0);
    CHECK(csv && strcmp(csv, "time_period,new_la_code,,ehcp_caseload\r\n2025-26 Q2,,,3160\r\n") == 0);
    if (csv && strcmp(csv, "time_period,new_la_code,,ehcp_caseload\r\n2025-26 Q2,,,3160\r\n") != 0)
        fprintf(stderr, "got: %s\n", csv);
    free(csv);
    free(z);

    const char *junk = "not a zip at all";
    CHECK(xlsx_read_csv(junk, strlen(junk), &csv, &cl, &why) == -1 && csv == NULL);
    CHECK(xlsx_read_csv(junk, 0, &csv, &cl, &why) == -1 && csv == NULL);
}

/* The first sheet is found through the workbook's relationships: here the
 * first tab (after a hidden one) is stored as sheet3.xml and the shared
 * strings under another name, as in a workbook whose sheets were moved. */
static void test_first_sheet_found_by_relationships(void)
{
    static const char RELS[] =
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
        "2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
    static const char WB[] =
        "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
        "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
        "<sheets><sheet name=\"Lists\" sheetId=\"4\" state=\"hidden\" r:id=\"rId9\"/>"
        "<sheet name=\"Return\" sheetId=\"3\" r:id=\"rId7\"/>"
        "<sheet name=\"Old\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
    static const char WB_RELS[] =
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
        "2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
        "<Relationship Id=\"rId9\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
        "2006/relationships/worksheet\" Target=\"worksheets/sheet2.xml\"/>"
        "<Relationship Id=\"rId7\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
        "2006/relationships/worksheet\" Target=\"/xl/worksheets/./sub/../sheet3.xml\"/>"
        "<Relationship Id=\"rId8\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
        "2006/relationships/sharedStrings\" Target=\"strings.xml\"/></Relationships>";
    static const char SHEET3[] =
        "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row>"
        "<row r=\"2\"><c r=\"A2\"><v>3160</v></c></row></sheetData></worksheet>";
    const char *parts[12] = {
        "_rels/.rels", RELS, "xl/workbook.xml", WB, "xl/_rels/workbook.xml.rels", WB_RELS,
        "xl/worksheets/sheet3.xml", SHEET3, "xl/strings.xml", "<sst><si><t>ehcp_caseload</t></si></sst>",
        "xl/worksheets/sheet1.xml",
        "<worksheet><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c></row></sheetData></worksheet>"};
    size_t len = 0;
    char *z = make_zip(parts, 6, &len);
    CHECK(z != NULL);
    char *csv = NULL;
    size_t cl = 0;
    const char *why = NULL;
    CHECK(z && xlsx_read_csv(z, len, &csv, &cl, &why) == 0);
    CHECK(csv && strcmp(csv, "ehcp_caseload\r\n3160\r\n") == 0);
    if (csv && strcmp(csv, "ehcp_caseload\r\n3160\r\n") != 0)
        fprintf(stderr, "got: %s\n", csv);
    free(csv);
    free(z);

    /* the relationship of the first sheet missing, or leaving the package */
    char rels[2048];
    parts[5] = rels;
    snprintf(rels, sizeof rels, "<Relationships><Relationship Id=\"rId1\" Type=\"x/worksheet\" "
                                "Target=\"worksheets/sheet1.xml\"/></Relationships>");
    CHECK(refused(parts, 6, "no first sheet"));
    snprintf(rels, sizeof rels, "<Relationships><Relationship Id=\"rId7\" Type=\"x/worksheet\" "
                                "Target=\"../../../etc/passwd\"/></Relationships>");
    CHECK(refused(parts, 6, "outside"));
    snprintf(rels, sizeof rels, "<Relationships><Relationship Id=\"rId7\" Type=\"x/worksheet\" "
                                "Target=\"worksheets/sheet9.xml\"/></Relationships>");
    CHECK(refused(parts, 6, "no first sheet"));
    /* a workbook without sheets */
    parts[3] = "<workbook><sheets/></workbook>";
    CHECK(refused(parts, 6, "no sheets"));
}

int main(void)
{
    RUN(test_workbook_reads_as_csv);
    RUN(test_hostile_workbooks_refused);
    RUN(test_first_sheet_found_by_relationships);
    return UNIT_DONE();
}

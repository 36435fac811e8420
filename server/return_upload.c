#include "return_upload.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "http.h"
#include "multipart.h"
#include "submit.h"
#include "xlsx_read.h"

int return_upload_is(struct request *r)
{
    char b[MULTIPART_MAX_BOUNDARY + 1];
    return multipart_boundary(http_header(r, "Content-Type"), b, sizeof b) == 0;
}

void return_upload_clear(struct return_upload *up)
{
    json_decref(up->figures);
    json_decref(up->errors);
    up->figures = up->errors = NULL;
}

/* The CSV parser names a figure's problem by its column; the form links a
 * problem to its input when it is named figures.METRIC. */
static void name_as_form(json_t *errors, const struct submit_catalogue *cat)
{
    size_t i;
    json_t *d;
    json_array_foreach(errors, i, d) {
        const char *f = json_string_value(json_object_get(d, "field"));
        if (!f)
            continue;
        for (size_t k = 0; k < cat->n; k++) {
            if (strcmp(cat->metrics[k].id, f) == 0) {
                char field[96];
                snprintf(field, sizeof field, "figures.%s", f);
                json_object_set_new(d, "field", json_string(field));
                break;
            }
        }
    }
}

int return_upload_read(struct request *r, const struct submit_catalogue *cat,
                       const struct submit_date *today, struct evkeyvalq *fields,
                       struct return_upload *up)
{
    memset(up, 0, sizeof *up);
    char boundary[MULTIPART_MAX_BOUNDARY + 1];
    struct multipart_form *form = NULL;
    const char *why = "the body is not multipart/form-data";
    if (multipart_boundary(http_header(r, "Content-Type"), boundary, sizeof boundary) != 0)
        goto refuse;
    form = malloc(sizeof *form);
    if (!form) {
        why = "out of memory";
        goto refuse;
    }
    size_t len = 0;
    const char *body = http_body(r, &len);
    if (multipart_parse(body, len, boundary, form, &why) != 0)
        goto refuse;
    const struct multipart_part *file = NULL;
    for (int i = 0; i < form->n; i++) {
        const struct multipart_part *p = &form->parts[i];
        if (strcmp(p->name, "file") == 0) {
            if (!file)
                file = p;
            continue;
        }
        if (p->len > 4096) {
            why = "a form field is too long";
            goto refuse;
        }
        char value[4097];
        memcpy(value, p->data, p->len);
        value[p->len] = '\0';
        if (strlen(value) != p->len || !form_text_ok(value, 0) ||
            evhttp_add_header(fields, p->name, value) != 0) {
            why = "a form field is not text";
            goto refuse;
        }
    }
    up->errors = json_array();
    if (!up->errors) {
        why = "out of memory";
        goto refuse;
    }
    if (!file || file->len == 0) {
        up->figures = json_object();
        submit_detail(up->errors, "file", "required", "choose a CSV or XLSX file to upload");
    } else {
        struct submit_doc sd;
        memset(&sd, 0, sizeof sd);
        /* An .xlsx (a zip: "PK\3\4") is read as its first sheet's CSV and
         * then checked exactly as an uploaded CSV (include/xlsx_read.h). */
        char *sheet = NULL;
        size_t sheet_len = 0;
        const char *xwhy = NULL;
        int is_xlsx = file->len >= 4 && memcmp(file->data, "PK\3\4", 4) == 0;
        if (is_xlsx && xlsx_read_csv(file->data, file->len, &sheet, &sheet_len, &xwhy) != 0) {
            up->figures = json_object();
            submit_detail(up->errors, "file", "xlsx", "%s", xwhy ? xwhy : "the workbook cannot be read");
            free(form);
            return up->figures ? 0 : (snprintf(up->reason, sizeof up->reason, "out of memory"), -1);
        }
        int rc = is_xlsx ? submit_parse_csv(sheet, sheet_len, cat, today, &sd, up->errors)
                         : submit_parse_csv(file->data, file->len, cat, today, &sd, up->errors);
        free(sheet);
        if (rc == SUBMIT_NOMEM) {
            submit_doc_clear(&sd);
            why = "out of memory";
            goto refuse;
        }
        up->figures = sd.figures ? json_incref(sd.figures) : json_object();
        snprintf(up->authority, sizeof up->authority, "%s", sd.authority);
        snprintf(up->period, sizeof up->period, "%s", sd.period);
        submit_doc_clear(&sd);
        name_as_form(up->errors, cat);
    }
    free(form);
    return up->figures ? 0 : (snprintf(up->reason, sizeof up->reason, "out of memory"), -1);
refuse:
    free(form);
    snprintf(up->reason, sizeof up->reason, "%s", why);
    return -1;
}

/* Downloads answered as they are made (include/download.h). */
#include "download.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>

#include "http.h"
#include "log.h"
#include "sheet.h"
#include "xlsx.h"

static void disposition(struct request *r, const char *name, const char *ext)
{
    char disp[200];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s.%s\"", name, ext);
    http_add_header(r, "Content-Disposition", disp);
    http_add_header(r, "Cache-Control", "no-store");
}

void download_reply(struct request *r, struct sheet *s, int xlsx, const char *name,
                    const struct xlsx_about *about)
{
    if (sheet_failed(s)) {
        sheet_free(s);
        http_reply_oom(r);
        return;
    }
    if (xlsx) {
        const struct sheet *sheets[] = {s};
        char err[200];
        size_t len = 0;
        unsigned char *x = xlsx_workbook(sheets, 1, about, &len, err, sizeof err);
        sheet_free(s);
        if (!x) {
            log_msg(LOG_ERROR, r->id, "download %s: %s", name, err);
            http_reply_error(r, 500, "internal_error", "the workbook could not be written", NULL);
            return;
        }
        disposition(r, name, "xlsx");
        http_reply_text(r, 200, XLSX_CONTENT_TYPE, (const char *)x, len);
        free(x);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    int bad = !b || sheet_csv(s, b, "\r\n") != 0;
    sheet_free(s);
    if (bad) {
        if (b)
            evbuffer_free(b);
        http_reply_oom(r);
        return;
    }
    disposition(r, name, "csv");
    http_reply_buffer(r, 200, "text/csv; charset=utf-8", b);
    evbuffer_free(b);
}

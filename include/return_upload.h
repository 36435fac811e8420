/*
 * The return form's upload: a browser posts the tidy CSV of the API
 * (docs/submissions.md, "Submitting CSV") as multipart/form-data with the
 * form's CSRF token.  The file is read with the API's own CSV parser
 * (submit_parse_csv), and the figures fill the form, checked as by
 * "Check": nothing is stored until the person presses "Submit for
 * approval" on the filled form (server/routes_returns.c).
 */
#ifndef SENDBENCH_RETURN_UPLOAD_H
#define SENDBENCH_RETURN_UPLOAD_H

#include <event2/keyvalq_struct.h>
#include <jansson.h>

struct request;
struct submit_catalogue;
struct submit_date;

struct return_upload {
    json_t *figures;        /* owned: metric -> number, the file's valid figures */
    json_t *errors;         /* owned: the file's problems, named as the form names
                               them (figures.METRIC for a metric's column) */
    char authority[16];     /* the file's new_la_code (ONS code or DfE number), or "" */
    char period[16];        /* the file's quarter, or "" */
    char reason[160];       /* why the body was refused (return -1) */
};

/* 1 when the request's body is multipart/form-data. */
int return_upload_is(struct request *r);

/* Reads the multipart body: its text parts into fields (as a urlencoded
 * form would give them; fields TAILQ-initialised, caller clears), and the
 * part "file" through submit_parse_csv into up (caller frees with
 * return_upload_clear, also on failure).  0, or -1 (up->reason says why)
 * when the body is not an acceptable multipart form or a text part is not
 * acceptable text; an unreadable file is no failure here: its problems are
 * in up->errors. */
int return_upload_read(struct request *r, const struct submit_catalogue *cat,
                       const struct submit_date *today, struct evkeyvalq *fields,
                       struct return_upload *up) __attribute__((warn_unused_result));

void return_upload_clear(struct return_upload *up);

#endif

/*
 * Personal data in a submission: field names and free-text patterns that
 * identify a child (names, dates of birth, UPNs, NHS numbers, postcodes).
 * sendbench accepts aggregate figures only; see docs/submissions.md.
 */
#include "submit.h"
#include "submit_doc.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

/* Field names that carry personal data, lower case without punctuation. */
static const char *const personal_keys[] = {
    "name", "firstname", "forename", "forenames", "givenname", "middlename", "surname",
    "lastname", "familyname", "fullname", "childname", "pupilname", "studentname",
    "dob", "dateofbirth", "birthdate", "birthday", "upn", "uniquepupilnumber", "uln",
    "nhsnumber", "nhsno", "nhs", "postcode", "postalcode", "zip", "address", "homeaddress",
    "addressline1", "street", "email", "phone", "telephone", "mobile", "gender", "sex",
    "ethnicity", NULL,
};

int submit_key_is_personal(const char *key)
{
    char norm[64];
    size_t n = 0;
    for (const char *k = key; *k && n + 1 < sizeof norm; k++)
        if (isalnum((unsigned char)*k))
            norm[n++] = (char)tolower((unsigned char)*k);
    norm[n] = '\0';
    if (strlen(key) > 60)
        return 0;
    for (const char *const *p = personal_keys; *p; p++)
        if (strcmp(norm, *p) == 0)
            return 1;
    return 0;
}

/*
 * Patterns in free text (POSIX extended regular expressions, case
 * insensitive; each is bounded by a non-alphanumeric character or the end).
 *   UPN: a letter and 12 digits (DfE Unique Pupil Number format)
 *   NHS number: 10 digits, optionally grouped 3-3-4 with spaces or dashes
 *   a day-precise date: dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy, dd/mm/yy, or
 *     yyyy-mm-dd; notes have no reason to carry one (periods are quarters),
 *     and a child's date of birth is exactly this shape
 *   a UK postcode: outward code and inward code (SW1A 1AA, M1 1AE, B33 8TH)
 */
static const struct { const char *re; const char *what; } personal_text[] = {
    {"(^|[^[:alnum:]])[a-z][0-9]{12}($|[^[:alnum:]])", "a UPN-like code"},
    {"(^|[^[:alnum:]])[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}($|[^[:alnum:]])",
     "an NHS-number-like 10-digit number"},
    {"(^|[^[:alnum:]])(0?[1-9]|[12][0-9]|3[01])[/.-](0?[1-9]|1[0-2])[/.-]([0-9]{4}|[0-9]{2})"
     "($|[^[:alnum:]])", "a date that looks like a date of birth"},
    {"(^|[^[:alnum:]])[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])($|[^[:alnum:]])",
     "a date that looks like a date of birth"},
    {"(^|[^[:alnum:]])[a-z]{1,2}[0-9][a-z0-9]? ?[0-9][a-z]{2}($|[^[:alnum:]])",
     "a postcode"},
};

int submit_text_has_personal_data(const char *text, const char **what)
{
    for (size_t i = 0; i < sizeof personal_text / sizeof personal_text[0]; i++) {
        regex_t re;
        if (regcomp(&re, personal_text[i].re, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
            continue;   /* cannot happen with constant patterns */
        int hit = regexec(&re, text, 0, NULL, 0) == 0;
        regfree(&re);
        if (hit) {
            *what = personal_text[i].what;
            return 1;
        }
    }
    return 0;
}

/* Walks every key of a parsed document; reports personal-data field names.
 * path is the dotted path of v. */
void submit_check_personal_keys(const json_t *v, const char *path, int depth, json_t *details)
{
    if (depth > SUBMIT_MAX_DEPTH)
        return;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)v, key, child) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s%s%.100s", path, *path ? "." : "", key);
            if (submit_key_is_personal(key))
                submit_detail(details, sub, "personal_data",
                              "\"%.60s\" looks like personal data: " AGGREGATE_ONLY, key);
            submit_check_personal_keys(child, sub, depth + 1, details);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            submit_check_personal_keys(child, sub, depth + 1, details);
        }
    } else if (json_is_string(v) && *path && strcmp(path, "notes") != 0) {
        const char *what;
        if (submit_text_has_personal_data(json_string_value(v), &what))
            submit_detail(details, path, "personal_data",
                          "contains %s: " AGGREGATE_ONLY, what);
    }
}


/*
 * The importers of `sendbench import` (include/import.h).  The order is the
 * order in which `import all` imports files of different kinds: SEN2 first
 * (it adds the authorities and the boundary register the others need), then
 * what matches authorities by code or name.  To add an importer, see
 * include/import.h and docs/import.md ("Adding an importer").
 */
#include "import.h"

#include <string.h>

const struct importer *const import_table[] = {
    &importer_sen2,
    &importer_neighbours,
    &importer_dsg,
    &importer_lait,
    &importer_money,
    NULL,
};

const struct importer *import_find(const char *name)
{
    for (const struct importer *const *i = import_table; *i; i++)
        if (strcmp((*i)->name, name) == 0)
            return *i;
    return NULL;
}

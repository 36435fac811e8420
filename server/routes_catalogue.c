/* Reference data: the metric catalogue and the authorities with their
 * statistical neighbours and boundary changes. */
#include <string.h>

#include "routes.h"

void route_metric_catalogue(struct request *r)
{
    http_add_header(r, "Cache-Control", "public, max-age=300");
    route_sql_json(r,
        "SELECT json_build_object('metrics', coalesce(json_agg(json_build_object("
        " 'id', id, 'label', label, 'unit', unit, 'dp', dp, 'polarity', polarity,"
        " 'kind', kind, 'annual_period', annual_period, 'submittable', submittable,"
        " 'description', description) ORDER BY sort_order), '[]'))"
        " FROM metrics",
        0, NULL, "no catalogue");
}

/* One authority as JSON; shared by the list and the single view. */
#define AUTHORITY_JSON \
    "json_build_object('code', a.new_la_code, 'old_la_code', a.old_la_code, 'name', a.name," \
    " 'region_code', a.region_code, 'region_name', a.region_name," \
    " 'valid_from', a.valid_from, 'valid_to', a.valid_to," \
    " 'neighbours', coalesce((SELECT json_agg(json_build_object('rank', n.rank," \
    "   'code', n.neighbour, 'name', b.name, 'closeness', n.closeness) ORDER BY n.rank)" \
    "   FROM statistical_neighbours n JOIN authorities b ON b.new_la_code = n.neighbour" \
    "   WHERE n.authority = a.new_la_code), '[]')," \
    " 'predecessors', coalesce((SELECT json_agg(json_build_object('code', s.predecessor," \
    "   'name', p.name, 'effective', s.effective) ORDER BY s.predecessor)" \
    "   FROM authority_successions s JOIN authorities p ON p.new_la_code = s.predecessor" \
    "   WHERE s.successor = a.new_la_code), '[]')," \
    " 'successors', coalesce((SELECT json_agg(json_build_object('code', s.successor," \
    "   'name', p.name, 'effective', s.effective) ORDER BY s.successor)" \
    "   FROM authority_successions s JOIN authorities p ON p.new_la_code = s.successor" \
    "   WHERE s.predecessor = a.new_la_code), '[]'))"

void route_authorities(struct request *r)
{
    http_add_header(r, "Cache-Control", "public, max-age=60");
    route_sql_json(r,
        "SELECT json_build_object('authorities', coalesce(json_agg(" AUTHORITY_JSON
        " ORDER BY a.name), '[]')) FROM authorities a",
        0, NULL, "no authorities");
}

/* {code} is the ONS code (E06000059) or the DfE number (838). */
void route_authority(struct request *r)
{
    const char *code = http_param(r, 0);
    const char *params[1] = {code};
    http_add_header(r, "Cache-Control", "public, max-age=60");
    route_sql_json(r,
        "SELECT " AUTHORITY_JSON " FROM authorities a"
        " WHERE a.new_la_code = $1 OR a.old_la_code = $1",
        1, params, "unknown authority code");
}

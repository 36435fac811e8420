/*
 * The import checks' flags (migration 020, include/import_quality.h) as the
 * CLI (`sendbench quality list|release`, server/cli_quality.c) and the
 * admin API (GET /api/v1/admin/quality, POST
 * /api/v1/admin/quality/{id}/release) read and release them: one SQL text
 * each, shared by both.
 */
#ifndef SENDBENCH_QUALITY_H
#define SENDBENCH_QUALITY_H

/* Every flag, oldest first.  $1: a status to keep ('quarantined',
 * 'released', 'queried') or NULL for all.  Columns: id, status, authority,
 * authority name, metric, period, version, rule, detail, file, line,
 * source, found at, released at, released by, reason. */
#define QUALITY_LIST_SQL                                                                    \
    "SELECT * FROM (SELECT q.id, CASE WHEN q.action = 'query' THEN 'queried'"                \
    "  WHEN r.quality_id IS NULL THEN 'quarantined' ELSE 'released' END AS status,"          \
    "  q.authority, a.name, q.metric, q.period, q.version, q.rule, q.detail, q.file_name,"   \
    "  q.line, q.source, to_char(q.found_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF'),"                \
    "  to_char(r.released_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF'), r.actor, r.reason"             \
    " FROM import_quality q JOIN authorities a ON a.new_la_code = q.authority"               \
    " LEFT JOIN import_quality_releases r ON r.quality_id = q.id) f"                         \
    " WHERE $1::text IS NULL OR f.status = $1 ORDER BY f.id"
#define QUALITY_LIST_NCOL 16

/* Releases quarantined flag $1 (bigint) with reason $2 by actor $3 (token
 * $4 or NULL), audited, in one statement.  One row: the flag's action
 * (NULL: no such flag), whether it had been released before, and whether
 * this statement released it. */
#define QUALITY_RELEASE_SQL                                                                 \
    "WITH q AS (SELECT id, authority, metric, period, version, rule, action"                 \
    "  FROM import_quality WHERE id = $1::bigint),"                                          \
    " before AS (SELECT 1 FROM import_quality_releases WHERE quality_id = $1::bigint),"      \
    " rel AS (INSERT INTO import_quality_releases (quality_id, reason, actor, token_id)"     \
    "  SELECT id, $2, $3, $4::bigint FROM q WHERE action = 'quarantine'"                     \
    "   AND NOT EXISTS (SELECT 1 FROM before) RETURNING quality_id),"                        \
    " a AS (INSERT INTO audit_log (token_id, actor, action, authority, detail)"              \
    "  SELECT $4::bigint, $3, 'quality release', q.authority,"                               \
    "   jsonb_build_object('quality_id', q.id, 'metric', q.metric, 'period', q.period,"      \
    "    'version', q.version, 'rule', q.rule, 'reason', $2::text)"                          \
    "  FROM q JOIN rel ON rel.quality_id = q.id)"                                            \
    " SELECT (SELECT action FROM q), EXISTS (SELECT 1 FROM before),"                         \
    "  EXISTS (SELECT 1 FROM rel)"

/* A release reason: 1-2000 characters after trimming (the table's CHECK). */
#define QUALITY_REASON_MAX 2000

#endif

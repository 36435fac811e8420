-- The server's sessions run as sendbench_app (SET ROLE through the
-- connection's options, see --db-role): it reads everything and writes
-- data, but owns nothing, so it cannot create, alter or drop schema
-- objects.  Migrations and imports run as the owner (the login that runs
-- `sendbench migrate`).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sendbench_app') THEN
        CREATE ROLE sendbench_app NOLOGIN;
    END IF;
END $$;

-- The owner's login may switch to the role (a superuser may anyway).
GRANT sendbench_app TO CURRENT_USER;

GRANT USAGE ON SCHEMA public TO sendbench_app;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO sendbench_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO sendbench_app;
-- What the server writes: append-only history, and the audit log.
GRANT INSERT ON submissions, observations, audit_log TO sendbench_app;
-- The forecast worker keeps the latest forecasts (and runs as this role).
GRANT INSERT, UPDATE ON forecasts, forecast_runs TO sendbench_app;
-- Tables created by later migrations are readable by default; each grants
-- any writes it needs.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO sendbench_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO sendbench_app;

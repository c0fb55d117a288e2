-- Fleetwatch's two database roles, created once when the PostgreSQL container initialises an
-- empty data directory (the postgres image runs /docker-entrypoint-initdb.d/*.sql as POSTGRES_USER,
-- connected to POSTGRES_DB). Passwords come from the container's environment:
--   FLEETWATCH_OWNER_PASSWORD    fleetwatch_owner: owns the database, its tables and the ledger's
--                                triggers; runs migrations (DATABASE_OWNER_URL). Not a superuser.
--   FLEETWATCH_RUNTIME_PASSWORD  fleetwatch: what web, worker and beat connect as (DATABASE_URL).
--                                LOGIN only: owns nothing, may not create anything; the owner's
--                                migrations grant it what it may do (SELECT and INSERT only on
--                                the ledger).
-- The test suite's roles differ in one way: there the owner is a superuser (.ci/postgres-roles),
-- because the test harness empties the ledger with session_replication_role.
\set ON_ERROR_STOP on

\getenv owner_password FLEETWATCH_OWNER_PASSWORD
\getenv runtime_password FLEETWATCH_RUNTIME_PASSWORD
\if :{?owner_password}
\else
    \set owner_password ''
\endif
\if :{?runtime_password}
\else
    \set runtime_password ''
\endif
SELECT :'owner_password' = '' AS owner_password_missing,
       :'runtime_password' = '' AS runtime_password_missing \gset
\if :owner_password_missing
    DO $$ BEGIN RAISE EXCEPTION 'FLEETWATCH_OWNER_PASSWORD is not set (docker/.env)'; END $$;
\endif
\if :runtime_password_missing
    DO $$ BEGIN RAISE EXCEPTION 'FLEETWATCH_RUNTIME_PASSWORD is not set (docker/.env)'; END $$;
\endif

CREATE ROLE fleetwatch_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
    PASSWORD :'owner_password';
CREATE ROLE fleetwatch LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT
    PASSWORD :'runtime_password';

-- The owner owns the database, and with it the public schema (owned by pg_database_owner since
-- PostgreSQL 15), so migrations can create tables, functions and triggers there.
ALTER DATABASE :"DBNAME" OWNER TO fleetwatch_owner;
-- Only the two roles may connect, and nobody but the owner may create objects.
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"DBNAME" TO fleetwatch;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

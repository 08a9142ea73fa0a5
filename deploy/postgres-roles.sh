#!/bin/sh
# PostgreSQL's first start (docker-entrypoint-initdb.d): the two roles of audit/dbroles.py and the database.
# mes_owner runs migrations and owns every table; mes_app is what the web, workers and beat use: no
# superuser, owning nothing, so it cannot disable a trigger, set session_replication_role or TRUNCATE.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE mes_owner LOGIN PASSWORD '${MES_DB_OWNER_PASSWORD}';
CREATE ROLE mes_app LOGIN PASSWORD '${MES_DB_APP_PASSWORD}' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE mes OWNER mes_owner;
SQL

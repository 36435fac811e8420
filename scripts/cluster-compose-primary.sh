#!/bin/sh
# docker-entrypoint-initdb.d step of the primary (docker-compose.yml): the
# standby may stream from it as user sendbench.
set -e
echo "host replication sendbench all scram-sha-256" >>"$PGDATA/pg_hba.conf"

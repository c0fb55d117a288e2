#!/bin/sh
# One image, several roles. Usage: entrypoint.sh ROLE [arguments passed on to the role's program]
#
#   web                    collect static files, then serve fleetwatch.wsgi with gunicorn on :8000
#                          (extra arguments go to gunicorn; WEB_CONCURRENCY sets its worker count)
#   worker                 a Celery worker on the checks and sweep queues; run as many as you like,
#                          on as many machines as you like (extra arguments go to `celery worker`)
#   beat                   the Celery beat scheduler, schedules stored in the database; exactly one
#                          per deployment
#   migrate                apply migrations as the owner role (DATABASE_OWNER_URL), then exit
#   manage ARGS            python manage.py ARGS, e.g. `manage audit_verify` or `manage audit_head`
#   healthcheck ROLE       exit 0 when this container's web, worker or beat is healthy
#
# Anything else is run as given, e.g. `sh`.
set -eu

# The image keeps the project in /app and this script in /app/docker; working from the project
# root makes manage.py and the relative paths in settings resolve the same way everywhere.
cd "$(dirname "$0")/.."

BEAT_PIDFILE=/tmp/fleetwatch-beat.pid
LOG_LEVEL=${LOG_LEVEL:-INFO}

role=${1:-web}
if [ "$#" -gt 0 ]; then
    shift
fi

healthcheck() {
    case "${1:-}" in
    web)
        # /health/ reports the database, storage and broker. The request carries a Host that
        # ALLOWED_HOSTS accepts and says it came through the TLS proxy, so production's HTTPS
        # redirect does not answer it instead.
        exec python - <<'PY'
import os
import sys
import urllib.request

hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",")]
host = next((h.lstrip(".") for h in hosts if h and h != "*"), "localhost")
request = urllib.request.Request(
    "http://127.0.0.1:8000/health/", headers={"Host": host, "X-Forwarded-Proto": "https"}
)
try:
    with urllib.request.urlopen(request, timeout=8) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # 503 (unhealthy), refused connection, timeout
    print(f"web unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
PY
        ;;
    worker)
        # The worker answers a ping over the broker under its default node name, celery@HOSTNAME.
        exec celery -A fleetwatch inspect ping --timeout 10 \
            --destination "celery@${HOSTNAME:-$(hostname)}" >/dev/null
        ;;
    beat)
        pid=$(cat "$BEAT_PIDFILE" 2>/dev/null) || exit 1
        kill -0 "$pid" 2>/dev/null || exit 1
        # Beat is only useful while it can reach the database (its schedules) and the broker.
        exec python manage.py healthcheck >/dev/null
        ;;
    *)
        echo "usage: entrypoint.sh healthcheck web|worker|beat" >&2
        exit 2
        ;;
    esac
}

case "$role" in
web)
    python manage.py collectstatic --noinput --verbosity 0
    # /dev/shm keeps gunicorn's worker heartbeat off the container's overlay filesystem, where a
    # slow write can make the arbiter think a worker hung.
    exec gunicorn fleetwatch.wsgi \
        --bind 0.0.0.0:8000 \
        --worker-tmp-dir /dev/shm \
        --access-logfile - \
        "$@"
    ;;
worker)
    # The queue names are settings (FLEETWATCH_CHECKS_QUEUE, FLEETWATCH_SWEEP_QUEUE); pass -Q to
    # dedicate a worker to one of them.
    exec celery -A fleetwatch worker \
        -Q "${FLEETWATCH_CHECKS_QUEUE:-checks},${FLEETWATCH_SWEEP_QUEUE:-sweep}" \
        --loglevel "$LOG_LEVEL" "$@"
    ;;
beat)
    # One beat per container: a pidfile left by an earlier run of this container is stale.
    rm -f "$BEAT_PIDFILE"
    exec celery -A fleetwatch beat \
        --scheduler django_celery_beat.schedulers:DatabaseScheduler \
        --pidfile "$BEAT_PIDFILE" --loglevel "$LOG_LEVEL" "$@"
    ;;
migrate)
    if [ -z "${DATABASE_OWNER_URL:-}${DATABASE_OWNER_URL_FILE:-}" ]; then
        echo "migrate: DATABASE_OWNER_URL is not set; migrations run as the owner role" \
             "(see README, \"Database roles\")" >&2
        exit 2
    fi
    exec python manage.py migrate --database owner --noinput "$@"
    ;;
manage)
    exec python manage.py "$@"
    ;;
healthcheck)
    healthcheck "$@"
    ;;
*)
    exec "$role" "$@"
    ;;
esac

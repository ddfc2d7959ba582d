#!/bin/sh
# Run the one service named by FANGFEI_SERVICE in this container (the five event services and the
# web console). The compose `keys` and `oncall-gateway` services run infra/docker/keys.py and
# infra/docker/oncall_gateway.py with this image instead (their own `entrypoint:`).
# `exec` replaces this shell, so the SIGTERM of `docker stop` reaches nameko itself, which stops
# its entrypoints gracefully (the consumer never commits a half-applied batch).
set -eu

service="${FANGFEI_SERVICE:-}"
case "$service" in
    intake) class=IntakeService ;;
    roster) class=RosterService ;;
    escalation) class=EscalationService ;;
    ledger) class=LedgerService ;;
    notification) class=NotificationService ;;
    console) class=ConsoleService ;;
    *)
        echo "FANGFEI_SERVICE must be one of: intake roster escalation ledger notification console (got '$service')" >&2
        exit 64
        ;;
esac

cd /app
exec nameko run --config infra/nameko/config.yaml "services.${service}.service:${class}" "$@"

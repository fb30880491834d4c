#!/usr/bin/env bash
# Start Redis and MariaDB if they are not answering (machines of this kind start them before a
# session; CI and a restarted machine may not have them). Idempotent.
set -euo pipefail
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
for _ in $(seq 1 60); do
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "Redis or MariaDB did not start" >&2
exit 1

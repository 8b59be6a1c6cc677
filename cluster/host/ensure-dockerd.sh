#!/usr/bin/env bash
# Start Docker Engine in the background when no engine answers. Machines of this
# workplace have no init system running dockerd, and every session's processes end
# when it stops, so each run (a person's, CI's) must bring its own engine.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "kubegate: dockerd not found; install it with: apt-get install -y docker.io" >&2
  exit 1
fi
log=/var/log/kubegate-dockerd.log
# A dockerd killed with the session leaves its pid file and containerd socket behind.
rm -f /var/run/docker.pid /run/docker/containerd/containerd.pid 2>/dev/null || true
nohup dockerd >>"$log" 2>&1 </dev/null &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 1
done
echo "kubegate: dockerd did not answer within 60 s; see $log" >&2
exit 1

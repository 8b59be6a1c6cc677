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
# What the host looked like before this engine existed, so `kubegate down` can stop the engine
# it started and put the host back: its packet-filter rules (dockerd adds chains, NAT and a DROP
# policy on FORWARD), IPv4 forwarding (dockerd turns it on) and whether docker0 existed.
state=/run/kubegate/dockerd
mkdir -p "$state"
if [[ ! -f $state/started ]]; then
  iptables-save >"$state/iptables.before" 2>/dev/null || true
  cat /proc/sys/net/ipv4/ip_forward >"$state/ip_forward.before" 2>/dev/null || true
  if ip link show docker0 >/dev/null 2>&1; then echo yes; else echo no; fi >"$state/docker0.before"
fi
# A dockerd killed with the session leaves its pid file and containerd socket behind.
rm -f /var/run/docker.pid /run/docker/containerd/containerd.pid 2>/dev/null || true
nohup dockerd >>"$log" 2>&1 </dev/null &
echo $! >"$state/started"
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 1
done
echo "kubegate: dockerd did not answer within 60 s; see $log" >&2
exit 1

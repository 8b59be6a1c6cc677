#!/bin/sh
# Start Qpid Broker-J for kubegate's `msg` service.
#
# Credentials: the single SASL PLAIN user is named by KUBEGATE_MSG_USERNAME with password
# KUBEGATE_MSG_PASSWORD (in Kubernetes both come from the Secret `msg-credentials`). They are
# never written to a file by this script: initial-config.json holds the placeholders
# ${KUBEGATE_MSG_USERNAME} / ${KUBEGATE_MSG_PASSWORD}, which Broker-J resolves from the
# environment when it loads the config. The broker's configuration store is in memory
# (--store-type Memory), so every start applies the initial config afresh: a changed Secret
# takes effect on the next pod start, and no config.json is persisted under QPID_WORK.
#
# Tunables (env): QPID_WORK (default /var/lib/qpid, a volume), KUBEGATE_MSG_AMQP_PORT (5672),
# KUBEGATE_MSG_HEAP (256m), JAVA_OPTS (appended).
set -eu
if [ -z "${KUBEGATE_MSG_USERNAME:-}" ] || [ -z "${KUBEGATE_MSG_PASSWORD:-}" ]; then
  echo "kubegate-msg: KUBEGATE_MSG_USERNAME and KUBEGATE_MSG_PASSWORD must be set (from the Secret msg-credentials, keys username and password)" >&2
  exit 64
fi
QPID_HOME=${QPID_HOME:-/opt/qpid-broker}
QPID_WORK=${QPID_WORK:-/var/lib/qpid}
mkdir -p "$QPID_WORK"
# shellcheck disable=SC2086 # JAVA_OPTS is a list of words by design
exec java \
  -Xmx"${KUBEGATE_MSG_HEAP:-256m}" -XX:MaxDirectMemorySize=256m \
  -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
  -XX:+ExitOnOutOfMemoryError \
  -DQPID_HOME="$QPID_HOME" -DQPID_WORK="$QPID_WORK" \
  ${JAVA_OPTS:-} \
  -cp "$QPID_HOME/lib/*" org.apache.qpid.server.Main \
  --store-type Memory \
  --initial-config-path "${KUBEGATE_MSG_INITIAL_CONFIG:-/etc/kubegate/msg/initial-config.json}" \
  --config-property "qpid.amqp_port=${KUBEGATE_MSG_AMQP_PORT:-5672}"

#!/usr/bin/env bash
# Three instances of the counter bot on one Redis, behind the sandbox's round-robin
# hook group, on loopback: a redis-server with its append-only file, the sandbox (the
# local Crisp, playing the load balancer), and `crisp_plugin run plugin.toml` three
# times, each with its own HOOK_PORT. Ctrl-C stops them all.
#
# Ports: REDIS_PORT (6390), SANDBOX_PORT (8787), HOOK_PORTS ("8081 8082 8083").
set -euo pipefail
cd "$(dirname "$0")"
python=${PYTHON:-python}
redis_port=${REDIS_PORT:-6390}
sandbox_port=${SANDBOX_PORT:-8787}
read -r -a hook_ports <<< "${HOOK_PORTS:-8081 8082 8083}"

export REDIS_URL=redis://127.0.0.1:$redis_port/0
export CRISP_API_URL=http://127.0.0.1:$sandbox_port
export CRISP_IDENTIFIER=demo-identifier CRISP_KEY=demo-key CRISP_HOOK_SECRET=demo-secret
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
data=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait; rm -rf "$data"' EXIT

wait_port() {  # until something listens on 127.0.0.1:$1
  until "$python" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; do
    sleep 0.1
  done
}

redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly yes \
  --dir "$data" --logfile "" >/dev/null &
urls=()
for port in "${hook_ports[@]}"; do urls+=("http://127.0.0.1:$port/crisp/hooks"); done
group=$(IFS=,; echo "${urls[*]}")
"$python" -m crisp_plugin sandbox --port "$sandbox_port" --identifier "$CRISP_IDENTIFIER" \
  --key "$CRISP_KEY" --secret "$CRISP_HOOK_SECRET" --hook-group "bots=$group" >/dev/null &
wait_port "$redis_port"
wait_port "$sandbox_port"
for port in "${hook_ports[@]}"; do
  HOOK_PORT=$port "$python" -m crisp_plugin run plugin.toml &
done
echo "chat at $CRISP_API_URL/ : each answer numbered #1, #2, ... whichever instance took it"
wait

#!/usr/bin/env bash
# Three instances of the counter bot on one Redis, behind the sandbox's round-robin
# hook group, on loopback. Stop everything with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")"
python=${PYTHON:-python}

export REDIS_URL=redis://127.0.0.1:6390/0
export CRISP_IDENTIFIER=demo-identifier CRISP_KEY=demo-key CRISP_HOOK_SECRET=demo-secret
export CRISP_API_URL=http://127.0.0.1:8787
trap 'kill 0' EXIT

redis-server --port 6390 --save "" --appendonly yes --dir "$(mktemp -d)" >/dev/null &
"$python" -m crisp_plugin sandbox --port 8787 \
  --identifier "$CRISP_IDENTIFIER" --key "$CRISP_KEY" --secret "$CRISP_HOOK_SECRET" \
  --hook-group bots=http://127.0.0.1:8081/crisp/hooks,http://127.0.0.1:8082/crisp/hooks,http://127.0.0.1:8083/crisp/hooks &
for port in 8081 8082 8083; do
  HOOK_PORT=$port "$python" -m crisp_plugin run plugin.toml &
done
echo "chat at http://127.0.0.1:8787/ : every answer is numbered #1, #2, ... whichever instance took it"
wait

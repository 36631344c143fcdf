#!/usr/bin/env bash
# Monitoring assets: promtool accepts the scrape config and the alert rules; the Grafana dashboard is
# valid JSON; and every metric the rules and the dashboard use is one a daemon exports (its name appears
# in the sources where the metric is registered).
set -euo pipefail
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
M=$ROOT/infra/monitoring
(cd "$M" && promtool check config prometheus.yml)
promtool check rules "$M/alerts.yml"
jq -e '.panels | length > 0' "$M/grafana-dashboard.json" >/dev/null
used=$(cat "$M/alerts.yml" "$M/grafana-dashboard.json" | grep -oE 'bytefreezer_[a-z0-9_]+' | sed -E 's/_(bucket|count|sum)$//' | sort -u)
fail=0; n=0
for m in $used; do
  n=$((n+1))
  grep -rqF "\"$m\"" "$ROOT"/common "$ROOT"/proxy "$ROOT"/receiver "$ROOT"/piper "$ROOT"/packer \
    || { echo "FAIL: $m is used in infra/monitoring but no daemon exports it"; fail=1; }
done
echo "monitoring: $n metric names checked"
exit $fail

#!/bin/sh
# spotcheck exec step: passes when the partner's database holds the delivered event.
#
# spotcheck writes the step's exchange as JSON on stdin (see docs/exec.md); this
# script takes the webhook id from it and looks for the row the partner's worker
# writes. Needs jq and psql, and DATABASE_URL in the environment.
#
#   check-db.sh           at least one row for the webhook id
#   check-db.sh --once    exactly one row (a redelivery must not be stored twice)
#
# Exit 0 passes the step (the first line printed is shown as a note); anything else
# fails the check with what was printed.
set -eu

id=$(jq -r '.webhook_id // empty')
if [ -z "$id" ]; then
  echo "no webhook id in the exchange (is this step after a send?)"
  exit 1
fi

count_rows() {
  # The id is passed as a psql variable and quoted by psql (:'id'): never pasted into SQL.
  psql "$DATABASE_URL" -X -q -t -A -v ON_ERROR_STOP=1 -v id="$id" <<'SQL'
select count(*) from webhook_events where id = :'id';
SQL
}

# The endpoint answers first and processes later: poll for up to about 8 s
# (keep exec_timeout in the scenario above that).
tries=0
while :; do
  rows=$(count_rows)
  if [ "$rows" -ge 1 ]; then
    break
  fi
  tries=$((tries + 1))
  if [ "$tries" -ge 16 ]; then
    echo "no row in webhook_events for webhook id $id after 8 s"
    exit 1
  fi
  sleep 0.5
done

if [ "${1:-}" = "--once" ] && [ "$rows" -ne 1 ]; then
  echo "webhook id $id is stored $rows times: deduplicate on the webhook id"
  exit 1
fi
echo "webhook id $id stored ($rows row)"

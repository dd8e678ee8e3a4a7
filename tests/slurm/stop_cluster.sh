#!/usr/bin/env bash
# Stop exactly what start_cluster.sh recorded in $SLURM_TEST_DIR/started (daemons by PID, our symlinks).
R=${SLURM_TEST_DIR:-/tmp/presyn-slurm-test}
[ -f "$R/started" ] || { echo "stop_cluster.sh: nothing recorded in $R/started"; exit 0; }
if grep -q '^pid slurmctld' "$R/started"; then
  scancel --partition=presyntest 2>/dev/null || true   # our private partition only
fi
# reverse order: slurmd, slurmctld, munged
tac "$R/started" | while read -r kind name value; do
  case $kind in
    pid)
      # only a live process that still is that daemon (a stale record's PID may have been reused)
      if kill -0 "$value" 2>/dev/null && [ "$(cat /proc/"$value"/comm 2>/dev/null)" = "$name" ]; then
        kill "$value" && echo "stopped $name (pid $value)"
        for i in $(seq 40); do kill -0 "$value" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$value" 2>/dev/null && { kill -9 "$value"; echo "killed $name (pid $value)"; }
      fi ;;
    link)
      [ "$(readlink "$name" 2>/dev/null)" = "$R/$(basename "$name")" ] && rm -f "$name" && echo "removed $name" ;;
  esac
done
rm -f "$R/started"
true

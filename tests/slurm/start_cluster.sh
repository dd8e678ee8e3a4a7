#!/usr/bin/env bash
# Start a throw-away single-node SLURM cluster (node "localhost", partition "presyntest") as root
# on Debian 12 without systemd; installs slurmctld/slurmd/slurm-client/munge with apt-get if absent.
# Records what it started in $SLURM_TEST_DIR/started (stop_cluster.sh stops exactly those).
# Refuses to run beside another slurmctld/slurmd or a foreign /etc/slurm/slurm.conf.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
R=${SLURM_TEST_DIR:-/tmp/presyn-slurm-test}
PKGS="slurmctld slurmd slurm-client munge"

if [ "$(id -u)" != 0 ]; then echo "start_cluster.sh: must run as root (CI does)" >&2; exit 2; fi
need=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
  echo "installing:$need"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
fi
for port in 6817 6818; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    echo "start_cluster.sh: port $port is in use (another SLURM running?); not starting a second one" >&2; exit 3
  fi
done

rm -rf "$R/state" "$R/log"
mkdir -p "$R/state/ctld" "$R/state/slurmd" "$R/log"
: > "$R/started"
cp "$HERE/gres.conf" "$R/gres.conf"
# node line from the real hardware (slurmd -C), renamed localhost; advertise half the RAM
HW=$(slurmd -C | head -1 | sed -e 's/^NodeName=[^ ]* //' -e 's/ *RealMemory=[0-9]*//' -e 's/ *UpTime=.*//')
MEM=$(( $(free -m | awk '/^Mem:/{print $2}') / 2 ))
sed -e "s#@DIR@#$R#g" \
    -e "s/^NodeName=localhost .*/NodeName=localhost NodeAddr=127.0.0.1 $HW RealMemory=$MEM Gres=gpu:1 State=UNKNOWN/" \
    "$HERE/slurm.conf.in" > "$R/slurm.conf"

mkdir -p /etc/slurm
for f in slurm.conf gres.conf; do
  if [ -e "/etc/slurm/$f" ] && [ "$(readlink "/etc/slurm/$f" 2>/dev/null)" != "$R/$f" ]; then
    echo "start_cluster.sh: /etc/slurm/$f exists and is not ours; refusing to overwrite it" >&2; exit 4
  fi
  ln -sfn "$R/$f" "/etc/slurm/$f"
  echo "link /etc/slurm/$f" >> "$R/started"
done

# munge: key from Debian's postinst (create if missing); start munged unless one already runs
[ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
install -d -o munge -g munge -m 0755 /run/munge
if { [ -f /run/munge/munged.pid ] && kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null; }; then
  echo "munged already running (pid $(cat /run/munge/munged.pid)): using it, will not stop it"
else
  runuser -u munge -- /usr/sbin/munged
  echo "pid munged $(cat /run/munge/munged.pid)" >> "$R/started"
fi
munge -n | unmunge >/dev/null

slurmctld -f "$R/slurm.conf"
for i in $(seq 20); do [ -s "$R/state/slurmctld.pid" ] && break; sleep 0.5; done
echo "pid slurmctld $(cat "$R/state/slurmctld.pid")" >> "$R/started"
slurmd -f "$R/slurm.conf" -N localhost
for i in $(seq 20); do [ -s "$R/state/slurmd.pid" ] && break; sleep 0.5; done
echo "pid slurmd $(cat "$R/state/slurmd.pid")" >> "$R/started"
for i in $(seq 60); do sinfo -h -n localhost -o %t 2>/dev/null | grep -qE '^(idle|mix)' && break; sleep 1; done
scontrol update nodename=localhost state=resume 2>/dev/null || true
sinfo
# smoke test: one batch job through sbatch
JID=$(sbatch --parsable -o "$R/log/smoke-%j.out" --wrap hostname)
for i in $(seq 30); do squeue -h -j "$JID" -t all -o %T | grep -q COMPLETED && break; sleep 1; done
state=$(squeue -h -j "$JID" -t all -o %T)
[ "$state" = COMPLETED ] || { echo "smoke sbatch job $JID is $state" >&2; exit 5; }
echo "SLURM up: smoke job $JID $state; started: $(grep -c . "$R/started") items ($R/started)"

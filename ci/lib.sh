# shellcheck shell=bash
# shellcheck disable=SC2034 # constants are used by the scripts that source this file
# Shared helpers for the engine scripts under ci/ (install-engines, engines-up, engines-down,
# test-images). Sourced, never run. Everything here is bash with `set -euo pipefail` in force.

# Versions of the engines built from source through the Go module proxy.
BERTH_NERDCTL_VERSION=v1.7.7
BERTH_BUILDKIT_VERSION=v0.29.0

# Where engines-up keeps what it started: pid files and generated configs under /run, logs on
# disk (a failed CI run is read afterwards). /run is NOT a tmpfs on these machines: what a
# session leaves there is still there when CI boots the machine again, so every pid file is
# checked against the process name (pid_alive) and every socket is probed, never trusted.
BERTH_CI_STATE=/run/berth-ci
BERTH_CI_LOGS=/var/log/berth-ci

# Our containerd listens on its own address, never the standard /run/containerd one: dockerd
# 20.10 adopts whatever socket file it finds at /run/containerd/containerd.sock when it starts
# (it only checks that the file exists), so a socket left there by a containerd that was
# killed with the session makes the machine's dockerd hang at the next boot (seen in CI:
# `docker info` timed out). nerdctl finds this address in /etc/nerdctl/nerdctl.toml.
BERTH_CONTAINERD_ROOT=/var/lib/containerd
BERTH_CONTAINERD_STATE=/run/berth-containerd
BERTH_CONTAINERD_SOCK=$BERTH_CONTAINERD_STATE/containerd.sock
# The standard address, which dockerd adopts (see above).
BERTH_DOCKERD_ADOPTS_SOCK=/run/containerd/containerd.sock
# BuildKit's default address, the last one nerdctl 1.7 probes
# (/run/buildkit-<namespace>/buildkitd.sock, then /run/buildkit/buildkitd.sock).
BERTH_BUILDKIT_ADDR=unix:///run/buildkit/buildkitd.sock
BERTH_NERDCTL_NAMESPACE=default
# A closed loopback port given to buildkitd as its HTTP(S) proxy, so that it never reaches a
# registry (see ci/engines-up). Port 9 is "discard", not served on these machines.
BERTH_BUILDKIT_NO_REGISTRY_PROXY=http://127.0.0.1:9
# Debian's containernetworking-plugins installs here; nerdctl defaults to /opt/cni/bin.
BERTH_CNI_PATH=/usr/lib/cni

BERTH_GO=${BERTH_GO:-/usr/local/go/bin/go}
BERTH_GOBIN=${BERTH_GOBIN:-/usr/local/bin}

# /usr/local/bin first: that is where the Go-built engines go.
case ":$PATH:" in *:/usr/local/bin:*) ;; *) PATH=/usr/local/bin:$PATH ;; esac
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
export PATH

berth_prog=${0##*/}

log() { printf '%s: %s\n' "$berth_prog" "$*"; }
warn() { printf '%s: warning: %s\n' "$berth_prog" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$berth_prog" "$*" >&2
  exit 1
}

need_root() {
  [[ $(id -u) == 0 ]] || die "must run as root (it installs packages / starts system daemons)"
}

# now: seconds since the epoch with a fraction, for timings in messages.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# wait_until DESC LOGFILE TRIES INTERVAL CMD...
# Runs CMD (each attempt capped at 10 s) until it succeeds, at most TRIES times with INTERVAL
# seconds between attempts and never longer than TRIES*INTERVAL+10 seconds in all. On
# failure it names the log file and shows its tail.
wait_until() {
  local desc=$1 logfile=$2 tries=$3 interval=$4
  shift 4
  local deadline i start
  start=$(now)
  deadline=$((SECONDS + $(awk -v t="$tries" -v i="$interval" 'BEGIN { printf "%d", t * i + 1 }') + 10))
  for ((i = 1; i <= tries; i++)); do
    if timeout 10 "$@" >/dev/null 2>&1; then
      log "$desc: ready after $(elapsed "$start") ($i probes)"
      return 0
    fi
    ((SECONDS < deadline)) || break
    sleep "$interval"
  done
  printf '%s: error: %s: not ready after %s and %d probes; its log is %s\n' \
    "$berth_prog" "$desc" "$(elapsed "$start")" "$((i > tries ? tries : i))" "$logfile" >&2
  if [[ -f $logfile ]]; then
    printf '%s: last lines of %s:\n' "$berth_prog" "$logfile" >&2
    tail -n 20 "$logfile" | sed 's/^/    /' >&2
  fi
  return 1
}

# pid_alive PIDFILE EXPECTED_COMM: true if the pid in PIDFILE runs a live (not zombie)
# process named EXPECTED_COMM (guards against a recycled pid). Prints the pid.
pid_alive() {
  local pidfile=$1 comm=$2 pid
  [[ -s $pidfile ]] || return 1
  # written before this boot (/run outlives reboots here): its pid means nothing now
  local boot mtime
  boot=$(awk '/^btime/ { print $2 }' /proc/stat)
  mtime=$(stat -c %Y "$pidfile")
  ((mtime >= boot)) || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/comm && $(<"/proc/$pid/comm") == "$comm" ]] || return 1
  # a killed daemon stays a zombie until PID 1 reaps it (seconds here): that is dead too
  local stat
  stat=$(<"/proc/$pid/stat") 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z && ${stat:0:1} != X ]] || return 1
  printf '%s\n' "$pid"
}

# socket_answers SOCKET: true if something accepts connections on the unix socket SOCKET.
socket_answers() {
  [[ -S $1 ]] || return 1
  python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX); s.settimeout(2)
try: s.connect(sys.argv[1])
except OSError: sys.exit(1)' "$1"
}

# write_if_changed FILE CONTENT: rewrites FILE only when CONTENT differs, so that an
# unchanged config keeps its mtime. Prints whether it changed anything.
write_if_changed() {
  local file=$1 content=$2
  if [[ -f $file ]] && [[ $(<"$file") == "$content" ]]; then
    log "$file: up to date"
    return 0
  fi
  mkdir -p "$(dirname "$file")"
  printf '%s\n' "$content" >"$file.tmp.$$"
  mv -f "$file.tmp.$$" "$file"
  log "$file: written"
}

#!/usr/bin/env bash
# A real Rekor transparency log on 127.0.0.1 for ksk's integration tests
# (docs/transparency.md): MariaDB (Debian's mariadb-server, a private
# datadir), Trillian's log server and signer, and rekor-server with a signing
# key made here, all under .rekor/ in the repository (git-ignored).
#
#   eval "$(scripts/rekor.sh start)"   # build if needed, start, print the exports
#   scripts/rekor.sh env               # print the exports of a running server
#   scripts/rekor.sh status            # what runs
#   scripts/rekor.sh stop              # stop what start started
#
# start prints only `export KSK_REKOR_URL=... KSK_REKOR_KEY=...` on stdout;
# progress goes to stderr. It is idempotent: built binaries, the database,
# the tree and the key are kept, and running processes are left running.
# As root it installs mariadb-server with apt-get when missing. Every
# process listens on 127.0.0.1 only (rekor-server's metrics port, :2112, is
# hard-wired in rekor and not used here), and every process it starts is
# stopped by pid, from the pid files under .rekor/run.
#
# Environment: KSK_REKOR_DIR (default .rekor), KSK_REKOR_PORT (3380; the
# Trillian ports are the next four: log server RPC and HTTP, signer RPC
# and HTTP).
set -euo pipefail
cd "$(dirname "$0")/.."

TRILLIAN_VERSION=v1.8.0 # go 1.26.0
REKOR_VERSION=v1.5.4    # go 1.25.11; v1.5.5 needs go 1.27
DIR=${KSK_REKOR_DIR:-$PWD/.rekor}
case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac
PORT=${KSK_REKOR_PORT:-3380}
TL_RPC=$((PORT + 1)) TL_HTTP=$((PORT + 2)) TS_RPC=$((PORT + 3)) TS_HTTP=$((PORT + 4))
BIN=$DIR/bin RUN=$DIR/run LOGS=$DIR/log
SOCK=$RUN/mysqld.sock
URL=http://127.0.0.1:$PORT
MYSQL_URI="trillian@unix($SOCK)/trillian"

say() { printf 'rekor.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# alive NAME: the process of NAME's pid file runs.
alive() {
	local f=$RUN/$1.pid pid
	[ -s "$f" ] || return 1
	pid=$(cat "$f")
	kill -0 "$pid" 2>/dev/null || return 1
	# A recycled pid is not ours: the command line must name the binary.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

# launch NAME COMMAND ARGS...: start a daemon in its own session, logging
# to .rekor/log/NAME.log, and record its pid.
launch() {
	local name=$1
	shift
	if alive "$name" "$(basename "$1")"; then
		say "$name already running (pid $(cat "$RUN/$name.pid"))"
		return
	fi
	setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
	echo $! >"$RUN/$name.pid"
	say "$name started (pid $!, log $LOGS/$name.log)"
}

# wait_for WHAT SECONDS COMMAND...: retry COMMAND until it succeeds.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	die "$what did not come up within ${secs}s; see $LOGS/"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

need_packages() {
	local missing=()
	command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
	command -v openssl >/dev/null || missing+=(openssl)
	command -v curl >/dev/null || missing+=(curl)
	[ ${#missing[@]} -eq 0 ] && return
	if [ "$(id -u)" -ne 0 ]; then
		die "missing ${missing[*]}: run as root, or: sudo apt-get install ${missing[*]}"
	fi
	say "installing ${missing[*]} with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
}

build() {
	local want="trillian $TRILLIAN_VERSION rekor $REKOR_VERSION" t0=$SECONDS
	if [ -x "$BIN/rekor-server" ] && [ -x "$BIN/trillian_log_server" ] && [ -x "$BIN/trillian_log_signer" ] &&
		[ -x "$BIN/createtree" ] && [ "$(cat "$BIN/VERSIONS" 2>/dev/null)" = "$want" ]; then
		return
	fi
	say "building $want into $BIN (a few minutes with a cold module cache)"
	mkdir -p "$BIN"
	# GOTOOLCHAIN=auto fetches a newer Go through the module proxy only if
	# the local one is older than these modules need.
	GOBIN=$BIN GOTOOLCHAIN=auto GOFLAGS=-trimpath go install \
		"github.com/google/trillian/cmd/trillian_log_server@$TRILLIAN_VERSION" \
		"github.com/google/trillian/cmd/trillian_log_signer@$TRILLIAN_VERSION" \
		"github.com/google/trillian/cmd/createtree@$TRILLIAN_VERSION" >&2
	GOBIN=$BIN GOTOOLCHAIN=auto GOFLAGS=-trimpath go install \
		"github.com/sigstore/rekor/cmd/rekor-server@$REKOR_VERSION" >&2
	echo "$want" >"$BIN/VERSIONS"
	say "built in $((SECONDS - t0))s"
}

mysql_cli() { mariadb --no-defaults --socket="$SOCK" -u root "$@"; }

start_mariadb() {
	local mariadbd=mariadbd user
	command -v mariadbd >/dev/null || mariadbd=/usr/sbin/mariadbd
	user=$(id -un)
	if [ ! -d "$DIR/mysql/mysql" ]; then
		say "initialising MariaDB in $DIR/mysql"
		rm -rf "$DIR/mysql"
		mariadb-install-db --no-defaults --datadir="$DIR/mysql" --user="$user" \
			--auth-root-authentication-method=socket --auth-root-socket-user="$user" \
			--skip-test-db >"$LOGS/mariadb-install.log" 2>&1 ||
			die "mariadb-install-db failed; see $LOGS/mariadb-install.log"
	fi
	launch mariadb "$mariadbd" --no-defaults --datadir="$DIR/mysql" --socket="$SOCK" \
		--pid-file="$RUN/mysqld.pid.internal" --skip-networking --user="$user" \
		--log-error="$LOGS/mariadb.err" --innodb-buffer-pool-size=64M --skip-log-bin
	wait_for MariaDB 60 mysql_cli -e 'SELECT 1'
	mysql_cli -e "CREATE DATABASE IF NOT EXISTS trillian;
		CREATE USER IF NOT EXISTS 'trillian'@'localhost';
		GRANT ALL ON trillian.* TO 'trillian'@'localhost';"
	if [ -z "$(mysql_cli -N -e "SHOW TABLES FROM trillian LIKE 'Trees'")" ]; then
		local dir
		dir=$(cd / && GOTOOLCHAIN=auto go mod download -json "github.com/google/trillian@$TRILLIAN_VERSION" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
		[ -f "$dir/storage/mysql/schema/storage.sql" ] || die "trillian schema not found in the module cache ($dir)"
		say "creating the trillian schema"
		mysql_cli trillian <"$dir/storage/mysql/schema/storage.sql"
	fi
}

start() {
	need_packages
	mkdir -p "$RUN" "$LOGS"
	chmod 700 "$DIR"
	build
	local spec name bin p
	for spec in rekor:rekor-server:$PORT trillian_log_server:trillian_log_server:$TL_RPC:$TL_HTTP \
		trillian_log_signer:trillian_log_signer:$TS_RPC:$TS_HTTP; do
		IFS=: read -r name bin p <<<"$spec"
		alive "$name" "$bin" && continue
		for p in ${p//:/ }; do
			port_free "$p" || die "port $p on 127.0.0.1 is in use; choose others with KSK_REKOR_PORT"
		done
	done
	local t0=$SECONDS
	start_mariadb
	local common=(--storage_system=mysql "--mysql_uri=$MYSQL_URI" --quota_system=noop)
	launch trillian_log_server "$BIN/trillian_log_server" "${common[@]}" \
		--rpc_endpoint="127.0.0.1:$TL_RPC" --http_endpoint="127.0.0.1:$TL_HTTP"
	launch trillian_log_signer "$BIN/trillian_log_signer" "${common[@]}" --force_master \
		--rpc_endpoint="127.0.0.1:$TS_RPC" --http_endpoint="127.0.0.1:$TS_HTTP" \
		--sequencer_interval=50ms --batch_size=100
	wait_for "trillian_log_server" 30 curl -sf "http://127.0.0.1:$TL_HTTP/healthz"
	if [ ! -s "$DIR/treeid" ]; then
		"$BIN/createtree" --admin_server="127.0.0.1:$TL_RPC" --display_name=ksk-test \
			--max_root_duration=1h >"$DIR/treeid.tmp" 2>>"$LOGS/createtree.log" ||
			die "createtree failed; see $LOGS/createtree.log"
		mv "$DIR/treeid.tmp" "$DIR/treeid"
		say "created tree $(cat "$DIR/treeid")"
	fi
	if [ ! -s "$DIR/rekor.pub" ]; then
		(umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/rekor.key")
		openssl ec -in "$DIR/rekor.key" -pubout -out "$DIR/rekor.pub" 2>/dev/null
		say "made the Rekor signing key $DIR/rekor.key"
	fi
	launch rekor "$BIN/rekor-server" serve --log_type=prod \
		--rekor_server.address=127.0.0.1 --port="$PORT" --rekor_server.hostname=ksk-test-rekor \
		--trillian_log_server.address=127.0.0.1 --trillian_log_server.port="$TL_RPC" \
		--trillian_log_server.tlog_id="$(cat "$DIR/treeid")" \
		--rekor_server.signer="$DIR/rekor.key" \
		--enable_retrieve_api=false --enable_attestation_storage=false \
		--enabled_api_endpoints=getLogInfo,getPublicKey,getLogProof,createLogEntry,getLogEntryByIndex,getLogEntryByUUID
	wait_for rekor-server 60 curl -sf "$URL/api/v1/log"
	# The key the server signs with must be the one pinned.
	curl -sf "$URL/api/v1/log/publicKey" | cmp -s - "$DIR/rekor.pub" ||
		die "the server's public key is not $DIR/rekor.pub"
	say "Rekor ready at $URL in $((SECONDS - t0))s (tree $(cat "$DIR/treeid"), key $DIR/rekor.pub)"
	print_env
}

print_env() { printf 'export KSK_REKOR_URL=%s KSK_REKOR_KEY=%s\n' "$URL" "$DIR/rekor.pub"; }

# stop_pids NAME...: SIGTERM the processes of the pid files, wait for them
# (SIGKILL after 30s), remove the pid files.
stop_pids() {
	local name pid i
	local -a names=() pids=()
	for name in "$@"; do
		[ -s "$RUN/$name.pid" ] || continue
		pid=$(cat "$RUN/$name.pid")
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			names+=("$name") pids+=("$pid")
		else
			rm -f "$RUN/$name.pid"
		fi
	done
	for i in "${!pids[@]}"; do
		pid=${pids[$i]} name=${names[$i]}
		for ((n = 0; n < 300; n++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			say "$name (pid $pid) did not stop in 30s: killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$RUN/$name.pid"
		say "stopped $name (pid $pid)"
	done
}

# The database goes last: the others write to it until they exit.
stop() {
	stop_pids rekor trillian_log_signer trillian_log_server
	stop_pids mariadb
}

status() {
	local name bin rc=0
	for name in mariadb:mariadbd trillian_log_server:trillian_log_server trillian_log_signer:trillian_log_signer rekor:rekor-server; do
		bin=${name#*:} name=${name%%:*}
		if alive "$name" "$bin"; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else
			echo "$name: stopped"
			rc=1
		fi
	done
	return $rc
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
env)
	curl -sf "$URL/api/v1/log" >/dev/null || die "no Rekor answers at $URL: run scripts/rekor.sh start"
	print_env
	;;
*)
	echo "usage: $0 start|stop|status|env" >&2
	exit 2
	;;
esac

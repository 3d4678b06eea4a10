#!/usr/bin/env bash
# cluster.sh start|stop: a local cluster on loopback for `make cluster`.
# etcd, one PostgreSQL that the nodes share, and three caiquan nodes; their
# data, logs and pid files under .cluster/ (or $CLUSTER_DIR). Every listener
# is on 127.0.0.1, and every connection between them is TLS with
# certificates from `caiquan cert` in .cluster/certs (a throwaway CA made on
# first start): the nodes talk mutual TLS, etcd requires client
# certificates, PostgreSQL is reached with sslmode=verify-full. See
# docs/cluster-security.md.
set -euo pipefail

DIR=${CLUSTER_DIR:-.cluster}
BIN=${CAIQUAN_BIN:-bin/caiquan}
NODES=${NODES:-3}
ETCD_CLIENT=127.0.0.1:${ETCD_PORT:-23791}
ETCD_PEER=127.0.0.1:${ETCD_PEER_PORT:-23792}
HTTP_BASE=${HTTP_BASE:-8180}     # node i serves on HTTP_BASE+i
ADMIN_BASE=${ADMIN_BASE:-8190}   # its admin API on ADMIN_BASE+i (token in $DIR/nodeI.admin-token)
METRICS_BASE=${METRICS_BASE:-9190} # its /metrics on METRICS_BASE+i
BIND_BASE=${BIND_BASE:-8200}     # and talks to the other nodes on BIND_BASE+i
PG_PORT=${PG_PORT:-25432}
CERTS=$DIR/certs

# wait_for TIMEOUT_S CMD...: run CMD every 0.1 s until it succeeds.
wait_for() {
	local tries=$(($1 * 10)); shift
	while ! "$@" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# pg runs one of PostgreSQL's tools; as root, as the postgres user, which
# PostgreSQL requires.
pg() {
	local bin
	bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$bin/$1" "${@:2}"
	else
		"$bin/$1" "${@:2}"
	fi
}

# make_certs makes the development CA and the one certificate every
# listener here uses: it names the cluster (what nodes check) and
# 127.0.0.1 (what etcd's and PostgreSQL's clients check).
make_certs() {
	[ -f "$CERTS/node.pem" ] || "$BIN" cert -dir "$CERTS" -name caiquan -hosts 127.0.0.1,localhost >/dev/null
}

start_postgres() {
	local data=$DIR/pg abs
	abs=$(cd "$DIR" && pwd)
	if [ ! -d "$data" ]; then
		mkdir -p "$data"
		[ "$(id -u)" != 0 ] || chown postgres "$data"
		pg initdb -D "$data" -A trust -U postgres -E UTF8 >"$DIR/pg-init.log"
		# TCP connections must be TLS.
		printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n' >"$data/pg_hba.conf"
	fi
	# PostgreSQL wants its key private and owned by its own user.
	cp "$CERTS/node.pem" "$DIR/pg-server.crt"
	cp "$CERTS/node-key.pem" "$DIR/pg-server.key"
	chmod 600 "$DIR/pg-server.key"
	if [ "$(id -u)" = 0 ]; then
		chown postgres "$DIR" "$DIR/pg-server.crt" "$DIR/pg-server.key" "$data/pg_hba.conf"
	fi
	pg pg_ctl -D "$data" -l "$DIR/pg.log" -w -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$abs -c ssl=on -c ssl_cert_file=$abs/pg-server.crt -c ssl_key_file=$abs/pg-server.key" start >/dev/null
	echo "postgres   postgres://postgres@127.0.0.1:$PG_PORT/postgres (TLS)"
}

stop_postgres() {
	[ -f "$DIR/pg/postmaster.pid" ] || return 0
	pg pg_ctl -D "$DIR/pg" -m fast -w stop >/dev/null || true
}

start() {
	mkdir -p "$DIR"
	if alive "$DIR/etcd.pid"; then
		echo "cluster: already running (make cluster-stop first)" >&2
		exit 1
	fi
	make_certs
	local ca=$CERTS/ca.pem cert=$CERTS/node.pem key=$CERTS/node-key.pem
	etcd --name caiquan --data-dir "$DIR/etcd" \
		--listen-client-urls "https://$ETCD_CLIENT" --advertise-client-urls "https://$ETCD_CLIENT" \
		--cert-file "$cert" --key-file "$key" --client-cert-auth --trusted-ca-file "$ca" \
		--listen-peer-urls "http://$ETCD_PEER" --initial-advertise-peer-urls "http://$ETCD_PEER" \
		--initial-cluster "caiquan=http://$ETCD_PEER" >"$DIR/etcd.log" 2>&1 &
	echo $! >"$DIR/etcd.pid"
	if ! wait_for 20 grep -q "ready to serve client requests" "$DIR/etcd.log"; then
		echo "cluster: etcd did not start; see $DIR/etcd.log" >&2
		exit 1
	fi
	echo "etcd       https://$ETCD_CLIENT (client certificates required)"
	start_postgres
	for i in $(seq 1 "$NODES"); do
		"$BIN" -listen "127.0.0.1:$((HTTP_BASE + i))" -admin-listen "127.0.0.1:$((ADMIN_BASE + i))" \
			-admin-token-file "$DIR/node$i.admin-token" -metrics-listen "127.0.0.1:$((METRICS_BASE + i))" \
			-cluster-provider etcd -cluster-etcd-endpoints "$ETCD_CLIENT" \
			-cluster-bind "127.0.0.1:$((BIND_BASE + i))" \
			-cluster-tls-cert-file "$cert" -cluster-tls-key-file "$key" -cluster-tls-ca-file "$ca" \
			-cluster-etcd-tls-cert-file "$cert" -cluster-etcd-tls-key-file "$key" -cluster-etcd-tls-ca-file "$ca" \
			-auth-mode anonymous -store postgres \
			-postgres-url "postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=verify-full&sslrootcert=$ca" \
			>"$DIR/node$i.out" 2>"$DIR/node$i.log" &
		echo $! >"$DIR/node$i.pid"
	done
	for i in $(seq 1 "$NODES"); do
		if ! wait_for 30 grep -q "^cluster members" "$DIR/node$i.out"; then
			echo "cluster: node $i did not start; see $DIR/node$i.log" >&2
			exit 1
		fi
		echo "node $i     http://127.0.0.1:$((HTTP_BASE + i))/  admin http://127.0.0.1:$((ADMIN_BASE + i)) (caiquan admin -addr 127.0.0.1:$((ADMIN_BASE + i)) -token-file $DIR/node$i.admin-token)  metrics http://127.0.0.1:$((METRICS_BASE + i))/metrics  cluster 127.0.0.1:$((BIND_BASE + i)) (mutual TLS)"
	done
	echo "logs in $DIR/, certificates in $CERTS/; make cluster-stop stops them"
}

# stop ends the processes named by pid files (SIGTERM, SIGKILL after 20 s):
# the nodes first, so that they leave etcd before it goes.
stop() {
	stop_pids "$DIR"/node*.pid
	stop_pids "$DIR"/etcd.pid
	stop_postgres
	echo "cluster stopped"
}

stop_pids() {
	local pids=() f
	for f in "$@"; do
		[ -f "$f" ] || continue
		if alive "$f"; then
			kill -TERM "$(cat "$f")"
			pids+=("$f")
		else
			rm -f "$f"
		fi
	done
	for f in ${pids[@]+"${pids[@]}"}; do
		if ! wait_for 20 eval "! kill -0 $(cat "$f")"; then
			echo "cluster: $(basename "$f" .pid) did not stop on SIGTERM; killing it" >&2
			kill -KILL "$(cat "$f")" 2>/dev/null || true
		fi
		rm -f "$f"
	done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

#!/bin/sh
# Makes throwaway certificates for deploy/compose.yaml in DIR (default
# deploy/certs): a CA, the game listener's certificate (localhost and the
# node names), one certificate per node for the cluster's mutual TLS,
# valid for both ends of a connection, and etcd's server and client ones. For trying things on one machine;
# real deployments take certificates from their own CA.
#
#   deploy/certs.sh [DIR]
set -eu
dir=${1:-$(dirname "$0")/certs}
mkdir -p "$dir"
cd "$dir"
days=30

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
	-subj "/CN=caiquan throwaway CA" -keyout ca.key -out ca.crt 2>/dev/null

issue() { # name subjectAltName extendedKeyUsage
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$1" -keyout "$1.key" -out "$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=%s\nkeyUsage=digitalSignature\n' "$2" "$3" > "$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" \
		-extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

issue game "DNS:localhost,IP:127.0.0.1,DNS:node1,DNS:node2,DNS:node3" serverAuth
# Peers check each other against the cluster's name (cluster_name).
for n in node1 node2 node3; do
	issue "$n" "DNS:$n,DNS:caiquan" serverAuth,clientAuth
done
# etcd's server certificate, and the client certificate every node (and
# etcd's own health check) shows it.
issue etcd "DNS:etcd,DNS:localhost,IP:127.0.0.1" serverAuth
issue etcd-client "DNS:etcd-client" clientAuth
rm -f ca.srl
# The containers run as uid 10001 and must read the keys; these are
# throwaway keys on one machine. The CA's key is not needed by anyone.
chmod 644 ./*.crt game.key node*.key etcd.key etcd-client.key
chmod 600 ca.key
echo "certificates in $dir: ca.crt, game.crt/key, node1..3.crt/key, etcd.crt/key, etcd-client.crt/key"

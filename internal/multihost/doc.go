// Package multihost runs a cluster on real addresses on one machine: each
// game node, each etcd member and PostgreSQL in a network namespace of its
// own, joined by veth pairs to a bridge in the root namespace, on a
// 10.77.N.0/24 picked free for each lab. The nodes bind their host's
// address and talk mutual TLS with throwaway certificates (package
// devcert). The root namespace holds the bridge's address, so a test's
// players there reach every node's game listener.
//
// Faults act on the real network and processes: Cut and Partition add
// blackhole routes inside namespaces (a member cut off this way is cut off
// for protoactor's system messages too, which middleware never sees);
// Proc.Signal(SIGSTOP) pauses a node; Proc.Kill kills one; Delay proxies
// a member's TCP through a userspace proxy that holds each chunk back, and
// can make the link lossy (stalls of a retransmission timeout, resets).
//
// Everything a lab makes carries its id in its name; Close removes it, and
// New first sweeps labs whose owner died without closing them (their pid
// files are under /run/caiquan-multihost). It needs root and iproute2.
package multihost

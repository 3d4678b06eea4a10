// Package cluster joins this process to a protoactor-go cluster and wraps
// the part of it the game uses.
//
// Contract:
//
//   - Start checks that the membership provider answers before anything
//     else (etcd: a read with the caller's deadline; an error names the
//     endpoints), binds the remote, and joins. Members lists who is in.
//
//   - Call is the one way to ask a grain: it honours ctx's deadline,
//     retries with backoff after timeouts, dead letters and failed
//     lookups, and may therefore deliver a message more than once. Every
//     message sent through Call must be idempotent.
//
//   - Fenced is closed once this member finds itself cut off: it stalled
//     longer than PauseLimit, etcd dropped or re-made its registration, etcd
//     did not answer for longer than the lease, or it vanished from its own
//     member list. A fenced member's Call refuses (ErrFenced); the server
//     stops taking players, drains and exits for a supervisor to start a
//     fresh member. Rejoining in place is not possible: the others block
//     the old member id for good (below).
//
//   - With Config.TLS, the remote's gRPC server and dials are mutual TLS:
//     a peer is accepted only with a certificate the CA signed that names
//     the cluster (Config.Name as a DNS SAN); addresses are not checked.
//     Without it the cluster port is plain gRPC that anyone who reaches it
//     can drive (list and kill actors, or crash the process, below), so
//     Validate refuses a Bind beyond loopback without TLS, an etcd
//     endpoint beyond loopback without Config.EtcdTLS, and automanaged
//     anywhere but loopback.
//
//   - Stop leaves and shuts the actor system down, bounded by its ctx.
//
//   - Place, Lobby, Player, RoomHosts, MaySeat and Live place the game's
//     shared actors (actors.Placement): rendezvous hashing over the member
//     addresses, the same answer on every member with the same list.
//
// The game does not use grains. Its lobby, room hosts and player
// directories are plain named actors on every member, addressed by remote
// PIDs at the member that Place picks. Grains would bring the hazards below
// (a fixed 5 s lookup, state lost on every re-activation) for no gain: the
// game's state is soft (the lobby's queue, repeated by every waiting
// session), confined to one round (a room, which stays where it started),
// or in the store (a player). Deadlines and retries live with the messages
// that need them, each idempotent: a waiting session repeats its join every
// second (keyed by a ticket); a session asks for its player every second
// while attaching; a room repeats ApplyRound (keyed by round id) until
// every player confirms; the lobby takes a room back from a host that has
// not confirmed it within a second. Call remains for grain requests
// (caiquan.ping, and whatever needs a grain later).
//
// Goroutines: the pause watch, and with etcd the probe of our own key; both
// end in Stop. Call runs a goroutine per attempt (and per lookup, which may
// outlive the call by up to 5 s, see below).
//
// # What protoactor-go does (v0.0.0-20240822202345-3c0e61ca19c9)
//
// Read in its source; paths are under the module's root.
//
// Lookup timeout. The disthash identity lookup asks the owner's placement
// actor with a fixed 5 s (cluster/identitylookup/disthash/manager.go:121)
// and returns nil on any error; cluster.Request retries up to 3 times with
// its own 5 s request timeout (cluster/default_context.go:59-84,
// cluster/grain.go:28-32, cluster/cluster_config_context.go:12). No call
// takes a context. Call runs the lookup in a goroutine and returns at the
// caller's deadline; TestCallHonoursDeadline shows 300 ms against a
// stopped owner.
//
// Placement. The caller picks the owner by rendezvous hashing over its own
// member list (disthash/manager.go:109-116, cluster/rendezvous.go:32-67);
// the owner's placement actor activates whatever it is asked to, without
// checking that it is the owner (disthash/placement_actor.go:211-246). Two
// members with different member lists can therefore activate the same
// identity twice.
//
// Re-activation loses state. On every topology change the placement actor
// poisons each grain it no longer owns (disthash/placement_actor.go:257-272),
// and a later request spawns a fresh actor from the kind's props
// (placement_actor.go:231-233). A grain also dies with its member. Whatever
// must survive lives in messages or a store, never only in a grain's fields.
//
// Blocking is for ever. A member that leaves the provider's list is put on
// the block list (cluster/member_list.go:142-145) and filtered out of every
// later topology (member_list.go:196-200); the block list only grows
// (remote/blocklist.go:31-38). A member that stalls past the etcd lease
// (fixed 3 s, cluster/clusterproviders/etcd/etcd_provider.go:50) has its
// key deleted; after it resumes, the provider's keep-alive loop grants a
// new lease and registers it again (etcd_provider.go:133-189), but the
// others keep it blocked. Its own provider deletes itself from its member
// map on the delete event (etcd_provider.go:257-265) and skips its own
// re-registration (etcd_provider.go:247-249), so it drops out of its own
// member list too; nothing tells the game. Blocked peers' messages are
// still delivered: the reader answers Blocked but keeps reading
// (remote/endpoint_reader.go:214-237) and the writer ignores the answer
// (remote/endpoint_writer.go:121). Fencing turns this into an exit.
//
// Heartbeat expiry. Each member blocks peers whose gossip heartbeat it has
// not received for HeartbeatExpiration (cluster/gossiper.go:351-378),
// measured by the local receive time, so a member resuming from a long
// pause sees every peer as expired and blocks them all: it goes on alone.
// With etcd the gossip ids (the actor system id) differ from the member
// ids ("NAME@ID", etcd/etcd_provider.go:71 and node.go:68-80), so this
// block never filters the etcd member list; with automanaged the ids agree
// (automanaged/automanaged.go:382-383) and it does. ClusterTopology.Blocked
// is never filled in, so a member never learns that the others blocked it
// (member_list.go:49, getTopologyChanges).
//
// Start-up and shutdown. StartMember panics on a provider error
// (cluster/cluster.go:107-109) and sleeps 1 s at its end (cluster.go:111);
// the remote panics if it cannot bind (remote/server.go:62-65). The etcd
// provider calls etcd with context.TODO everywhere (etcd_provider.go:154,
// 217, 226, 327), so against an unreachable etcd it waits for ever; Start
// probes with a deadline first. Shutdown(graceful) shuts the actor system
// down first, then deregisters, then sleeps 2 s "to wait ownership
// transferring" (cluster.go:141-158, the sleep at :148), and stops the
// identity lookup twice (:146, :150). Stop bounds all of it with its ctx.
//
// Unknown message types. The receiving end looks the type name up in the
// protobuf registry and ignores the error (remote/proto_serializer.go:29-35):
// a type the receiver has not linked in is a nil-pointer panic in the gRPC
// stream handler, which nothing recovers, so the receiving process dies. A
// message that is not a protobuf message is dropped by the sender with a
// log line (remote/endpoint_writer.go:217-221) and its Request times out.
// Every message that crosses nodes must be a protobuf type linked into
// every node's binary (one messages package, one binary).
//
// Automanaged binds its health endpoint to 0.0.0.0 (automanaged.go:181,
// :344); we hand it an echo server with our own listener on PeerListen,
// and timeouts echo's server lacks. The endpoint is plain HTTP with no
// way to authenticate a peer, hence loopback only.
//
// TLS. remote.WithDialOptions replaces the remote's default dial options
// (grpc.WithInsecure, remote/config.go:13), and the remote dials only
// through them (remote/endpoint_writer.go:82). A reply travels on a
// connection the answering member dials back to the asker's advertised
// address, so an asker must also serve TLS the others accept.
//
// Data races. Under -race the library reports races of its own: the grpc
// logger set by every remote start (remote/server.go:61), the etcd
// provider's unsynchronised shutdown flag (etcd_provider.go:117 against
// :168 and :177), the member list read without its lock
// (member_list.go:124-126, :228 against :147), the block list
// (remote/blocklist.go:27-29 and :42-44 read without the lock), and the
// endpoint manager's stop. Tests that run the cluster layer are therefore
// built without -race (process_test.go, make test-cluster).
package cluster

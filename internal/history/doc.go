// Package history records what game clients saw during a fault run and
// checks it against the server's promises.
//
// A history is JSON lines of Event, one stream per client (its uid) in the
// order that client saw things: connect and reconnect, hi (the standing
// the server loaded), join, start (the round id, the seats with their
// standings, the round time), choice, result or void (with the round id),
// disconnect, and stop (the client quit on purpose). Optional settle
// events name the node that settled a round. After the run the harness
// adds the store's final Record of every player.
//
// Check reads both and reports every Anomaly, by kind:
//
//   - double-end: a client saw two ends (result or void) of one round;
//   - split-end: one round ended with two different results for two
//     clients, or settle events name two nodes: the round was settled
//     twice (a void for one seat beside a result for the others is a
//     seat whose player could not store the round: void-applied and
//     lost-write check what the store holds);
//   - double-seat: a player sat in two rounds at once, seen by one client
//     (a start while its round was open) or across clients (a round that
//     seated it started before the earliest seen end of another);
//   - late-end: a client connected through its round's deadline plus
//     Options.Grace saw no end by then;
//   - rules: a result does not follow package rules from the standings
//     at start, or a void changed a standing;
//   - lost-write: a standing the server showed later (a start's seats, a
//     reconnect's hi, the store's final record) is not the client's last
//     result, with no round in between whose end the client missed;
//   - void-applied: the store holds a round the client was told was void.
//
// A round open when its client disconnected is not checked for its end:
// the client cannot see it. Until the client sees a standing again, its
// chain of standings is not checked either.
package history

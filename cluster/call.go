package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/proto"
)

// Caller sends a request to a grain and waits for its answer. It is the
// one way this project talks to grains: protoactor's own Request waits on
// fixed timeouts (a 5 s lookup, disthash/manager.go:121) whatever the
// caller's deadline.
//
// Call may deliver msg more than once: it retries after a timeout or a
// dead letter, and a timeout does not say whether the grain got the
// message. Every message sent through Call must therefore be idempotent,
// e.g. carry the id of what it applies (a round id) so that the grain
// applies it once.
type Caller interface {
	Call(ctx context.Context, kind, identity string, msg proto.Message) (proto.Message, error)
}

var _ Caller = (*Node)(nil)

// Errors of Call, besides ctx's own.
var (
	// ErrFenced: this member has cut itself off and sends nothing more.
	ErrFenced = errors.New("cluster: this member is fenced")
	// errNoOwner: no member hosts the kind (yet); retried.
	errNoOwner = errors.New("cluster: no member hosts this kind")
)

// Retry pacing of Call.
const (
	minBackoff = 20 * time.Millisecond
	maxBackoff = 500 * time.Millisecond
	// maxAttempt bounds one attempt, so that a call with a long deadline
	// still retries (on the new owner, once the member list changed)
	// after a member that stopped answering.
	maxAttempt = 2 * time.Second
)

// Call asks the grain kind/identity, activating it where the member list
// places it, and returns its answer. It returns by ctx's deadline (or
// DefaultCallTimeout when ctx has none), retrying with backoff after
// timeouts, dead letters and failed lookups. Errors after ctx ended wrap
// ctx.Err(). Read Caller about idempotency.
func (n *Node) Call(ctx context.Context, kind, identity string, msg proto.Message) (proto.Message, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCallTimeout)
		defer cancel()
	}
	backoff := minBackoff
	var last error
	for attempt := 1; ; attempt++ {
		if n.isFenced.Load() {
			return nil, ErrFenced
		}
		res, err := n.try(ctx, kind, identity, msg)
		if err == nil {
			return res, nil
		}
		if !retryable(err) {
			return nil, fmt.Errorf("cluster: call %s/%s: %w", kind, identity, err)
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster: call %s/%s: %w after %d attempts (last: %v)", kind, identity, ctx.Err(), attempt, last)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// try is one attempt: find the grain's PID, then ask it.
func (n *Node) try(ctx context.Context, kind, identity string, msg proto.Message) (proto.Message, error) {
	pid, err := n.lookup(ctx, kind, identity)
	if err != nil {
		return nil, err
	}
	timeout := min(time.Until(deadline(ctx)), maxAttempt)
	if timeout <= 0 {
		return nil, ctx.Err()
	}
	type result struct {
		res any
		err error
	}
	done := make(chan result, 1)
	f := n.system.Root.RequestFuture(pid, msg, timeout)
	go func() {
		res, err := f.Result()
		done <- result{res, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil {
		// The PID may belong to a grain or member that is gone.
		n.c.PidCache.RemoveByValue(identity, kind, pid)
		return nil, r.err
	}
	res, ok := r.res.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("answer %T is not a protobuf message", r.res)
	}
	return res, nil
}

// lookup finds the PID of kind/identity: from the cache, or by asking the
// owner's placement actor to activate it. The library's lookup waits up
// to 5 s whatever ctx says (disthash/manager.go:121); it goes on in its
// goroutine while we return at ctx's end.
func (n *Node) lookup(ctx context.Context, kind, identity string) (*actor.PID, error) {
	if pid, ok := n.c.PidCache.Get(identity, kind); ok {
		return pid, nil
	}
	found := make(chan *actor.PID, 1)
	go func() { found <- n.c.Get(identity, kind) }()
	select {
	case pid := <-found:
		if pid == nil {
			return nil, errNoOwner
		}
		n.c.PidCache.Set(identity, kind, pid)
		return pid, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// retryable reports the errors after which another attempt may succeed.
func retryable(err error) bool {
	switch {
	case errors.Is(err, errNoOwner),
		errors.Is(err, actor.ErrTimeout), errors.Is(err, actor.ErrDeadLetter),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return true
	}
	return err == remote.ErrTimeout || err == remote.ErrDeadLetter
}

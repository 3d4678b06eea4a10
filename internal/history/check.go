package history

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/caiquan/caiquan/rules"
)

// Anomaly kinds; doc.go says what each means.
const (
	DoubleEnd   = "double-end"
	SplitEnd    = "split-end"
	DoubleSeat  = "double-seat"
	LateEnd     = "late-end"
	Rules       = "rules"
	LostWrite   = "lost-write"
	VoidApplied = "void-applied"
)

// Anomaly is one broken promise.
type Anomaly struct {
	Kind   string
	Client string
	Round  string
	At     time.Time
	Detail string
}

func (a Anomaly) String() string {
	return fmt.Sprintf("%s %s client=%s round=%s: %s", a.At.UTC().Format("15:04:05.000"), a.Kind, a.Client, a.Round, a.Detail)
}

// Options tune the checker.
type Options struct {
	// Grace is how long after its deadline a round may take to end for a
	// connected client; zero means 5 s.
	Grace time.Duration
}

// Report is the checker's verdict.
type Report struct {
	// Rounds counts the rounds at least one client saw end.
	Rounds    int
	Anomalies []Anomaly
}

// Count returns the anomalies of each kind.
func (r Report) Count() map[string]int {
	out := map[string]int{}
	for _, a := range r.Anomalies {
		out[a.Kind]++
	}
	return out
}

// standing is a player's total and streak, and whether it is known.
type standing struct {
	rules.Standing
	known bool
}

// openRound is a round a client saw start and not yet end.
type openRound struct {
	id       string
	at       time.Time
	deadline time.Time // start + round time
	seats    []Seat
}

// ending is what one client saw at a round's end.
type ending struct {
	client string
	at     time.Time
	what   string // "void" or the result's seats, canonical
}

// roundSpan is a round as every client saw it.
type roundSpan struct {
	start time.Time // earliest start seen
	end   time.Time // earliest end seen; zero if none
	uids  []string
}

// clientState follows one client through its events.
type clientState struct {
	uid       string
	me        standing   // the standing the client knows it has
	cur       *openRound // the open round
	ended     map[string]string
	missed    []string // rounds whose end the client missed since its last result
	allMissed map[string]bool
	// waiting: a join is out and no start came back. blind: since the
	// last result the client left while waiting, so the server may have
	// seated it in a round it never saw.
	waiting, blind bool
	voided         map[string]bool
	lastRound      string // the round of the last result seen; "" for the first hi
	last           standing
	stopped        bool
	lastAt         time.Time
}

type checker struct {
	opt     Options
	out     []Anomaly
	spans   map[string]*roundSpan
	ends    map[string][]ending
	settled map[string]map[string]bool // round -> nodes that settled it
	clients map[string]*clientState
}

func (c *checker) report(kind, client, round string, at time.Time, format string, args ...any) {
	c.out = append(c.out, Anomaly{Kind: kind, Client: client, Round: round, At: at, Detail: fmt.Sprintf(format, args...)})
}

// Check reads a history and the store's final records and returns every
// anomaly, ordered by time.
func Check(events []Event, store []Record, opt Options) Report {
	if opt.Grace == 0 {
		opt.Grace = 5 * time.Second
	}
	c := &checker{opt: opt, spans: map[string]*roundSpan{}, ends: map[string][]ending{},
		settled: map[string]map[string]bool{}, clients: map[string]*clientState{}}
	var order []string
	for _, e := range events {
		if e.Kind == Settle {
			if c.settled[e.Round] == nil {
				c.settled[e.Round] = map[string]bool{}
			}
			c.settled[e.Round][e.Node] = true
			continue
		}
		cs := c.clients[e.Client]
		if cs == nil {
			cs = &clientState{uid: e.Client, ended: map[string]string{}, voided: map[string]bool{}, allMissed: map[string]bool{}}
			c.clients[e.Client] = cs
			order = append(order, e.Client)
		}
		c.step(cs, e)
	}
	for _, uid := range order {
		c.finish(c.clients[uid])
	}
	c.checkEnds()
	c.checkSeats()
	c.checkStore(store)
	sort.SliceStable(c.out, func(i, j int) bool { return c.out[i].At.Before(c.out[j].At) })
	rounds := 0
	for _, s := range c.spans {
		if !s.end.IsZero() {
			rounds++
		}
	}
	return Report{Rounds: rounds, Anomalies: c.out}
}

// step applies one event of a client.
func (c *checker) step(cs *clientState, e Event) {
	cs.lastAt = e.At
	switch e.Kind {
	case Hi:
		seen := rules.Standing{Total: e.Total, Streak: e.Streak}
		if cs.me.known && cs.certain() && seen != cs.me.Standing {
			c.report(LostWrite, cs.uid, cs.lastRound, e.At, "hi shows total %d streak %d, the last result showed %d %d",
				seen.Total, seen.Streak, cs.me.Total, cs.me.Streak)
		}
		if cs.certain() {
			cs.me = standing{seen, true}
			if !cs.last.known {
				cs.last = cs.me
			}
		}
	case Join:
		cs.waiting = true
	case Start:
		cs.waiting = false
		c.start(cs, e)
	case Result, Void:
		c.end(cs, e)
	case Disconnect, Stop:
		c.leave(cs, e)
	}
}

func (c *checker) start(cs *clientState, e Event) {
	if cs.cur != nil {
		c.report(DoubleSeat, cs.uid, e.Round, e.At, "start of %s while %s (started %s) was open",
			e.Round, cs.cur.id, cs.cur.at.UTC().Format("15:04:05.000"))
		cs.missed = append(cs.missed, cs.cur.id)
		cs.allMissed[cs.cur.id] = true
	}
	r := &openRound{id: e.Round, at: e.At, deadline: e.At.Add(time.Duration(e.RoundMs) * time.Millisecond), seats: e.Seats}
	cs.cur = r
	span := c.spans[e.Round]
	if span == nil {
		span = &roundSpan{start: e.At}
		for _, s := range e.Seats {
			span.uids = append(span.uids, s.UID)
		}
		c.spans[e.Round] = span
	}
	if e.At.Before(span.start) {
		span.start = e.At
	}
	mine, ok := seatOf(e.Seats, cs.uid)
	if !ok {
		c.report(Rules, cs.uid, e.Round, e.At, "start does not seat the client")
		return
	}
	seen := rules.Standing{Total: mine.Total, Streak: mine.Streak}
	switch {
	case cs.me.known && cs.certain() && seen != cs.me.Standing:
		c.report(LostWrite, cs.uid, e.Round, e.At, "start shows total %d streak %d, the last result (%s) showed %d %d",
			seen.Total, seen.Streak, cs.lastRound, cs.me.Total, cs.me.Streak)
	case cs.me.known && seen.Total < cs.me.Total:
		c.report(LostWrite, cs.uid, e.Round, e.At, "start shows total %d, below the %d of the last result (%s)",
			seen.Total, cs.me.Total, cs.lastRound)
	}
}

func (c *checker) end(cs *clientState, e Event) {
	what := "void"
	if e.Kind == Result {
		what = canonical(e.Seats)
	}
	if span := c.spans[e.Round]; span != nil && (span.end.IsZero() || e.At.Before(span.end)) {
		span.end = e.At
	}
	c.ends[e.Round] = append(c.ends[e.Round], ending{client: cs.uid, at: e.At, what: what})
	if prev, ok := cs.ended[e.Round]; ok {
		c.report(DoubleEnd, cs.uid, e.Round, e.At, "a second end (%s) after %s", short(what), short(prev))
		return
	}
	cs.ended[e.Round] = what
	if cs.cur == nil || cs.cur.id != e.Round {
		open := "none"
		if cs.cur != nil {
			open = cs.cur.id
		}
		c.report(DoubleEnd, cs.uid, e.Round, e.At, "an end of a round that is not the open one (%s)", open)
		return
	}
	r := cs.cur
	cs.cur = nil
	if late := e.At.Sub(r.deadline); late > c.opt.Grace {
		c.report(LateEnd, cs.uid, e.Round, e.At, "ended %v after its deadline", late.Round(time.Millisecond))
	}
	if e.Kind == Void {
		cs.voided[e.Round] = true
		if mine, ok := seatOf(r.seats, cs.uid); ok {
			cs.me = standing{rules.Standing{Total: mine.Total, Streak: mine.Streak}, true}
		}
		return
	}
	c.checkRules(cs.uid, r, e)
	if mine, ok := seatOf(e.Seats, cs.uid); ok {
		cs.me = standing{rules.Standing{Total: mine.Total, Streak: mine.Streak}, true}
		cs.last, cs.lastRound, cs.missed, cs.blind = cs.me, e.Round, nil, false
	}
}

// checkRules settles the round again from the standings at start and the
// choices in the result.
func (c *checker) checkRules(uid string, r *openRound, e Event) {
	if len(e.Seats) != len(r.seats) {
		c.report(Rules, uid, e.Round, e.At, "result has %d seats, start had %d", len(e.Seats), len(r.seats))
		return
	}
	prev := make([]rules.Standing, len(e.Seats))
	hands := make([]rules.Hand, len(e.Seats))
	for i, s := range e.Seats {
		at, ok := seatOf(r.seats, s.UID)
		if !ok {
			c.report(Rules, uid, e.Round, e.At, "result names %s, who was not seated", s.UID)
			return
		}
		if s.Choice < 0 || s.Choice > 3 {
			c.report(Rules, uid, e.Round, e.At, "%s chose %d", s.UID, s.Choice)
			return
		}
		prev[i] = rules.Standing{Total: at.Total, Streak: at.Streak}
		hands[i] = rules.Hand(s.Choice)
	}
	for i, want := range rules.Settle(prev, hands) {
		s := e.Seats[i]
		if s.Score != want.RoundScore || s.Total != want.Total || s.Streak != want.Streak {
			c.report(Rules, uid, e.Round, e.At, "%s (choice %d, from total %d streak %d) got score %d total %d streak %d, the rules give %d %d %d",
				s.UID, s.Choice, prev[i].Total, prev[i].Streak, s.Score, s.Total, s.Streak, want.RoundScore, want.Total, want.Streak)
		}
	}
}

func (c *checker) leave(cs *clientState, e Event) {
	if e.Kind == Stop {
		cs.stopped = true
	}
	if cs.waiting {
		cs.waiting, cs.blind = false, true
	}
	r := cs.cur
	if r == nil {
		return
	}
	cs.cur = nil
	if e.At.Sub(r.deadline) > c.opt.Grace {
		c.report(LateEnd, cs.uid, r.id, e.At, "no end %v after its deadline, still connected", e.At.Sub(r.deadline).Round(time.Millisecond))
	}
	cs.missed = append(cs.missed, r.id)
	cs.allMissed[r.id] = true
}

// finish ends a client's stream: what is still open counts as left at
// its last event.
func (c *checker) finish(cs *clientState) {
	if cs.cur != nil {
		c.leave(cs, Event{At: cs.lastAt, Kind: Stop})
	}
}

// checkEnds finds rounds that ended differently for two clients or were
// settled on two nodes.
func (c *checker) checkEnds() {
	for id, es := range c.ends {
		// A void for one seat beside a result for the others is a round
		// whose player actor could not store it for that seat: what the
		// store holds is checked as void-applied and lost-write.
		var first *ending
		for i := range es {
			e := &es[i]
			if e.what == "void" {
				continue
			}
			if first == nil {
				first = e
				continue
			}
			if e.what != first.what {
				c.report(SplitEnd, e.client, id, e.at, "ended as %s here and as %s for %s", short(e.what), short(first.what), first.client)
				break
			}
		}
	}
	for id, nodes := range c.settled {
		if len(nodes) > 1 {
			var names []string
			for n := range nodes {
				names = append(names, n)
			}
			sort.Strings(names)
			at := time.Time{}
			if s := c.spans[id]; s != nil {
				at = s.start
			}
			c.report(SplitEnd, "", id, at, "settled on %s", strings.Join(names, " and "))
		}
	}
}

// checkSeats finds players seated in two rounds that overlap: one started
// before the earliest seen end of the other. Rounds nobody saw end are left
// out, as their end is unknown.
func (c *checker) checkSeats() {
	byUID := map[string][]string{}
	for id, s := range c.spans {
		if s.end.IsZero() {
			continue
		}
		for _, u := range s.uids {
			if c.clients[u] != nil {
				byUID[u] = append(byUID[u], id)
			}
		}
	}
	for u, ids := range byUID {
		sort.Slice(ids, func(i, j int) bool { return c.spans[ids[i]].start.Before(c.spans[ids[j]].start) })
		for i := 1; i < len(ids); i++ {
			a, b := c.spans[ids[i-1]], c.spans[ids[i]]
			if b.start.Before(a.end) {
				c.report(DoubleSeat, u, ids[i], b.start, "seated in %s, which started before %s ended (at %s)",
					ids[i], ids[i-1], a.end.UTC().Format("15:04:05.000"))
			}
		}
	}
}

// checkStore compares each client's last known standing with its final record.
func (c *checker) checkStore(store []Record) {
	recs := map[string]Record{}
	for _, r := range store {
		recs[r.UID] = r
	}
	uids := make([]string, 0, len(c.clients))
	for u := range c.clients {
		uids = append(uids, u)
	}
	sort.Strings(uids)
	for _, u := range uids {
		cs := c.clients[u]
		rec, ok := recs[u]
		if !ok {
			if cs.lastRound != "" {
				c.report(LostWrite, u, cs.lastRound, cs.lastAt, "the store has no record; the last result showed total %d", cs.last.Total)
			}
			continue
		}
		for _, a := range rec.Recent {
			if cs.voided[a.Round] {
				c.report(VoidApplied, u, a.Round, cs.lastAt, "the store holds a round shown as void (score %d)", a.Score)
			}
		}
		if !cs.last.known {
			continue
		}
		after := rec.Recent
		if cs.lastRound != "" {
			i := slices.IndexFunc(rec.Recent, func(a Applied) bool { return a.Round == cs.lastRound })
			if i < 0 {
				c.report(LostWrite, u, cs.lastRound, cs.lastAt, "the store does not hold the last result's round (total %d)", cs.last.Total)
				continue
			}
			after = rec.Recent[i+1:]
		}
		for _, a := range after {
			if !cs.allMissed[a.Round] && !cs.voided[a.Round] && !cs.blind {
				c.report(LostWrite, u, a.Round, cs.lastAt, "the store holds round %s after the last result, which the client never saw start", a.Round)
			}
		}
		want := cs.last.Standing
		if len(after) > 0 {
			l := after[len(after)-1]
			want = rules.Standing{Total: l.Total, Streak: l.Streak}
		}
		if got := (rules.Standing{Total: rec.Total, Streak: rec.Streak}); got != want {
			c.report(LostWrite, u, cs.lastRound, cs.lastAt, "the store holds total %d streak %d, want %d %d (last result and the rounds after it)",
				got.Total, got.Streak, want.Total, want.Streak)
		}
	}
}

// certain reports whether the client knows its standing: no round it
// missed the end of, and no round it may have been seated in unseen,
// since its last result.
func (cs *clientState) certain() bool { return len(cs.missed) == 0 && !cs.blind }

func seatOf(seats []Seat, uid string) (Seat, bool) {
	for _, s := range seats {
		if s.UID == uid {
			return s, true
		}
	}
	return Seat{}, false
}

// canonical renders a result's seats in uid order, so that two clients'
// copies of one result compare equal.
func canonical(seats []Seat) string {
	s := slices.Clone(seats)
	sort.Slice(s, func(i, j int) bool { return s[i].UID < s[j].UID })
	var b strings.Builder
	for _, x := range s {
		fmt.Fprintf(&b, "%s:%d/%d/%d/%d ", x.UID, x.Choice, x.Score, x.Total, x.Streak)
	}
	return strings.TrimSpace(b.String())
}

func short(what string) string {
	if what == "void" {
		return "void"
	}
	return "result [" + what + "]"
}

package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Kind names what a client saw or did.
type Kind string

const (
	Connect    Kind = "connect"    // the first socket opened; Node
	Reconnect  Kind = "reconnect"  // a later socket opened; Node
	Hi         Kind = "hi"         // the server's greeting; Total, Streak
	Join       Kind = "join"       // the client asked for a round
	Start      Kind = "start"      // Round, RoundMs, Seats (choice and score zero)
	Choice     Kind = "choice"     // Round, Choice
	Result     Kind = "result"     // Round, Seats
	Void       Kind = "void"       // Round
	Disconnect Kind = "disconnect" // the socket dropped
	Stop       Kind = "stop"       // the client quit on purpose
	Settle     Kind = "settle"     // a node settled Round (server side; Client is empty)
)

// Event is one line of a history.
type Event struct {
	At      time.Time `json:"at"`
	Client  string    `json:"client,omitempty"`
	Kind    Kind      `json:"ev"`
	Node    string    `json:"node,omitempty"`
	Round   string    `json:"round,omitempty"`
	RoundMs int64     `json:"roundMs,omitempty"`
	Seats   []Seat    `json:"seats,omitempty"`
	Choice  int32     `json:"choice,omitempty"`
	Total   int32     `json:"total,omitempty"`
	Streak  int32     `json:"streak,omitempty"`
	Reason  string    `json:"reason,omitempty"` // a void's, as the server gave it
}

// Seat is one player of a round: its standing at start, or its choice,
// round score and new standing in a result.
type Seat struct {
	UID    string `json:"uid"`
	Choice int32  `json:"choice,omitempty"`
	Score  int32  `json:"score,omitempty"`
	Total  int32  `json:"total"`
	Streak int32  `json:"streak"`
}

// Record is one player's record as the store holds it at the end.
type Record struct {
	UID    string    `json:"uid"`
	Total  int32     `json:"total"`
	Streak int32     `json:"streak"`
	Rounds int       `json:"rounds"`
	Recent []Applied `json:"recent"` // the rounds it applied last, oldest first
}

// Applied is one round a record holds.
type Applied struct {
	Round  string `json:"round"`
	Score  int32  `json:"score"`
	Total  int32  `json:"total"`
	Streak int32  `json:"streak"`
}

// Recorder writes events as JSON lines; many clients share one.
type Recorder struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error
	now func() time.Time
}

// NewRecorder writes to w.
func NewRecorder(w io.Writer) *Recorder {
	return &Recorder{enc: json.NewEncoder(w), now: time.Now}
}

// Add stamps e with the time unless it has one, and writes it.
func (r *Recorder) Add(e Event) {
	if e.At.IsZero() {
		e.At = r.now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = r.enc.Encode(e)
	}
}

// Err is the first write error.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// ReadEvents reads a history of JSON lines.
func ReadEvents(rd io.Reader) ([]Event, error) {
	var out []Event
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("history: line %d: %w", n, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// ReadRecords reads store records, one JSON object a line.
func ReadRecords(rd io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("history: record line %d: %w", n, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// WriteRecords writes records as JSON lines, for ReadRecords.
func WriteRecords(w io.Writer, records []Record) error {
	enc := json.NewEncoder(w)
	for _, r := range records {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

package rules

import "time"

// Waiter is a player in the queue, in the order they joined.
type Waiter struct {
	UID   string
	Since time.Time
}

// Table is one room to open: humans in queue order and how many bots to add.
type Table struct {
	UIDs []string
	Bots int
}

// Match seats the queue at time now. Humans are seated with each other as
// soon as size of them wait. Once the oldest of the rest has waited botFill,
// all of the rest are seated together and bots fill the empty seats. It
// returns the tables to open, who still waits, and when to call Match again
// (the zero time when nobody waits).
func Match(queue []Waiter, now time.Time, size int, botFill time.Duration) (tables []Table, rest []Waiter, wake time.Time) {
	for len(queue) >= size {
		tables = append(tables, Table{UIDs: uids(queue[:size])})
		queue = queue[size:]
	}
	if len(queue) == 0 {
		return tables, nil, time.Time{}
	}
	due := queue[0].Since.Add(botFill)
	if now.Before(due) {
		return tables, queue, due
	}
	tables = append(tables, Table{UIDs: uids(queue), Bots: size - len(queue)})
	return tables, nil, time.Time{}
}

func uids(ws []Waiter) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.UID
	}
	return out
}

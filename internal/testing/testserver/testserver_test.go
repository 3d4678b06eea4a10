package testserver

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// TestStartServesAndStops: the server listens on the port it printed, takes
// the flags it was given, and is gone after Stop.
func TestStartServesAndStops(t *testing.T) {
	s := Start(t, "-round-time", "2s")
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("URL = %q", s.URL)
	}
	if err := s.Healthy(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if s.Alive() {
		t.Fatal("server still alive after Stop")
	}
	if s.Healthy() == nil {
		t.Fatal("Healthy() = nil after Stop")
	}
	s.Stop() // a second Stop (and the cleanup's) does nothing
}

// TestBadFlagFailsStart: a server that exits at once is reported, with its
// reason in the log.
func TestBadFlagFailsStart(t *testing.T) {
	var ft fakeT
	ft.T = t
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { recover() }() // fakeT's FailNow panics to end Start
		Start(&ft, "-round-time", "50ms")
	}()
	select {
	case <-done:
	case <-time.After(launchTimeout + 5*time.Second):
		t.Fatal("Start did not return")
	}
	ft.runCleanups()
	if !ft.failed {
		t.Fatal("Start with a bad flag did not fail the test")
	}
	if !strings.Contains(ft.logs.String(), "round_time") {
		t.Fatalf("the failure does not show the server's log naming round_time:\n%s", ft.logs.String())
	}
}

// fakeT records failures and cleanups instead of ending the real test.
type fakeT struct {
	*testing.T
	failed   bool
	cleanups []func()
	logs     strings.Builder
}

type failNow struct{}

func (f *fakeT) Helper()                        {}
func (f *fakeT) Failed() bool                   { return f.failed }
func (f *fakeT) Cleanup(fn func())              { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Errorf(format string, a ...any) { f.failed = true; f.Logf(format, a...) }
func (f *fakeT) Fatalf(format string, a ...any) {
	f.Errorf(format, a...)
	panic(failNow{})
}
func (f *fakeT) Logf(format string, a ...any) {
	f.logs.WriteString(strings.TrimSpace(fmt.Sprintf(format, a...)) + "\n")
}

func (f *fakeT) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

package admin

import (
	"errors"
	"testing"
)

type fakeCheckpoints struct{ names []string }

func (f *fakeCheckpoints) Checkpoint(name string) (string, error) {
	for _, n := range f.names {
		if n == name {
			return "", ErrCheckpointExists
		}
	}
	if name == "fail" {
		return "", errors.New("disk on fire")
	}
	f.names = append(f.names, name)
	return "/ck/" + name, nil
}

// POST /store/checkpoint: a plain name or 400, before the store is asked;
// a used name 409; a store without checkpoints 409; the token applies.
func TestCheckpoint(t *testing.T) {
	ts, s := serve(t, newFake(), "tok")
	if status, body := call(t, ts, "POST", "/store/checkpoint", "tok", `{"name":"a"}`); status != 409 || body["code"] != "not_supported" {
		t.Errorf("without a checkpointer: %d %v", status, body)
	}
	f := &fakeCheckpoints{}
	s.HandleCheckpoints(f)
	if status, _ := call(t, ts, "POST", "/store/checkpoint", "", `{"name":"a"}`); status != 401 {
		t.Errorf("without the token: %d", status)
	}
	for _, bad := range []string{`{"name":"../a"}`, `{"name":"/etc"}`, `{"name":"a/b"}`, `{"name":".."}`, `{"name":""}`,
		`{"name":"a\u0000b"}`, `{"name":"ä"}`, `{"path":"x"}`, `[]`} {
		if status, body := call(t, ts, "POST", "/store/checkpoint", "tok", bad); status != 400 {
			t.Errorf("%s: %d %v; want 400", bad, status, body)
		}
	}
	if len(f.names) != 0 {
		t.Fatalf("the store was asked for %v", f.names)
	}
	if status, body := call(t, ts, "POST", "/store/checkpoint", "tok", `{"name":"nightly-2026.12.01"}`); status != 200 || body["path"] != "/ck/nightly-2026.12.01" {
		t.Errorf("good name: %d %v", status, body)
	}
	if status, body := call(t, ts, "POST", "/store/checkpoint", "tok", `{"name":"nightly-2026.12.01"}`); status != 409 || body["code"] != "exists" {
		t.Errorf("used name: %d %v", status, body)
	}
	if status, body := call(t, ts, "POST", "/store/checkpoint", "tok", `{"name":"fail"}`); status != 500 || body["code"] != "checkpoint_failed" {
		t.Errorf("failing store: %d %v", status, body)
	}
}

package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/metrics"
)

// delaying is the fake live set with a real inventory's delays.
type delaying struct {
	*fakeActors
	inv *actors.Inventory
}

func (d delaying) SetDelay(spec actors.DelaySpec) error { return d.inv.SetDelay(spec) }
func (d delaying) Delays() []actors.Delay               { return d.inv.Delays() }

// TestDelayAPI: POST /delay sets a kind's delay and GET /delay lists it;
// by 0s ends it; bad kinds, durations and bodies get 400 with a reason
// and change nothing; without the token nothing is set.
func TestDelayAPI(t *testing.T) {
	a := delaying{newFake(), actors.NewInventory(metrics.New())}
	ts, _ := serve(t, a, testToken)
	c := &Client{Addr: strings.TrimPrefix(ts.URL, "http://"), Token: testToken}

	st, err := c.Delay(DelayRequest{Kind: "room", By: "200ms", For: "30s"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Delays) != 1 || st.Delays[0].Kind != "room" || st.Delays[0].By != 200*time.Millisecond {
		t.Fatalf("after POST: %+v", st)
	}
	if until := time.Until(st.Delays[0].Until); until < 25*time.Second || until > 30*time.Second {
		t.Errorf("the delay ends in %v, want about 30 s", until)
	}

	for _, bad := range []string{
		`{"kind":"castle","by":"200ms","for":"30s"}`,
		`{"kind":"room","by":"fast","for":"30s"}`,
		`{"kind":"room","by":"-1s","for":"30s"}`,
		`{"kind":"room","by":"1m","for":"30s"}`,
		`{"kind":"room","by":"200ms","for":"2h"}`,
		`{"kind":"room","by":"200ms"}`,
		`{"kind":"room","by":"200ms","for":"30s","extra":1}`,
		`not json`,
		`{"kind":"room","by":"0s","drop":1.5,"for":"30s"}`,
		`{"kind":"room","by":"0s","drop":-0.1,"for":"30s"}`,
		`{"kind":"room","by":"0s","drop":"half","for":"30s"}`,
		`{"kind":"room","by":"0s","drop":0.5}`,
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/delay", strings.NewReader(bad))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e APIError
		json.NewDecoder(res.Body).Decode(&e)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("POST /delay %s: %s, want 400", bad, res.Status)
		}
		if field := map[bool]string{true: "drop", false: "for"}[strings.Contains(bad, `"for"`)]; strings.Contains(bad, `"drop"`) && !strings.Contains(e.Message, field) {
			t.Errorf("POST /delay %s: %q does not name %s", bad, e.Message, field)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/delay", strings.NewReader(`{"kind":"lobby","by":"1s","for":"1m"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /delay without the token: %s, want 401", res.Status)
	}

	if st, err = c.Delays(); err != nil || len(st.Delays) != 1 || st.Delays[0].Kind != "room" {
		t.Fatalf("GET /delay after the bad requests: %+v, %v", st, err)
	}
	if st, err = c.Delay(DelayRequest{Kind: "room", By: "0s"}); err != nil || len(st.Delays) != 0 {
		t.Fatalf("by 0s should end the delay: %+v, %v", st, err)
	}
	if st, err = c.Delay(DelayRequest{Kind: "player", By: "0s", Drop: 0.25, Seed: 9, For: "1m"}); err != nil ||
		len(st.Delays) != 1 || st.Delays[0].Drop != 0.25 || st.Delays[0].Seed != 9 || st.Delays[0].By != 0 {
		t.Fatalf("a drop alone: %+v, %v", st, err)
	}
	if st, err = c.Delay(DelayRequest{Kind: "player", Drop: 0}); err != nil || len(st.Delays) != 0 {
		t.Fatalf("drop 0 with no delay should end it: %+v, %v", st, err)
	}
}

// TestDelayNotImplemented: a server whose actors cannot delay says so.
func TestDelayNotImplemented(t *testing.T) {
	ts, _ := serve(t, newFake(), testToken)
	c := &Client{Addr: strings.TrimPrefix(ts.URL, "http://"), Token: testToken}
	if _, err := c.Delay(DelayRequest{Kind: "room", By: "1s", For: "1s"}); err == nil || !strings.Contains(err.Error(), "no_delay") {
		t.Fatalf("got %v, want no_delay", err)
	}
}

// TestChaosDelaySpecs: POST /chaos with bad delays gets 400 naming the
// field; a server that cannot delay answers 501; a run of delays alone
// opens a window every tick, reports them, and its stop ends the delay it
// left in force.
func TestChaosDelaySpecs(t *testing.T) {
	a := delaying{newFake(), actors.NewInventory(metrics.New())}
	ts, _ := serve(t, a, testToken)
	c := &Client{Addr: strings.TrimPrefix(ts.URL, "http://"), Token: testToken}
	ok := ChaosDelays{Kinds: []string{"room"}, By: "200ms", For: "1s"}
	for _, bad := range []struct {
		field string
		d     ChaosDelays
	}{
		{"delays.kinds", ChaosDelays{By: "200ms", For: "1s"}},
		{"delays.kinds", ChaosDelays{Kinds: []string{"castle"}, By: "200ms", For: "1s"}},
		{"delays.by", ChaosDelays{Kinds: []string{"room"}, By: "slow", For: "1s"}},
		{"delays.by", ChaosDelays{Kinds: []string{"room"}, By: "1m", For: "1s"}},
		{"delays.by", ChaosDelays{Kinds: []string{"room"}, By: "0s", For: "1s"}},
		{"delays.drop", ChaosDelays{Kinds: []string{"room"}, Drop: 2, For: "1s"}},
		{"delays.for", ChaosDelays{Kinds: []string{"room"}, By: "200ms"}},
		{"delays.share", ChaosDelays{Kinds: []string{"room"}, By: "200ms", For: "1s", Share: 1.5}},
	} {
		_, err := c.StartChaos(ChaosRequest{Kinds: []string{"bot"}, Every: "10ms", For: "1s", Delays: &bad.d})
		var e APIError
		if !errors.As(err, &e) || e.Code != "bad_request" || !strings.HasPrefix(e.Message, bad.field+":") {
			t.Errorf("delays %+v: %v, want bad_request naming %s", bad.d, err, bad.field)
		}
	}

	plain, _ := serve(t, newFake(), testToken)
	pc := &Client{Addr: strings.TrimPrefix(plain.URL, "http://"), Token: testToken}
	if _, err := pc.StartChaos(ChaosRequest{Every: "10ms", For: "1s", Delays: &ok}); err == nil || err.(APIError).Code != "no_delay" {
		t.Errorf("delays on a server that cannot delay: %v, want no_delay", err)
	}

	st, err := c.StartChaos(ChaosRequest{Every: "10ms", For: "1h", Seed: 1, Delays: &ok})
	if err != nil || st.Delays == nil || st.Delays.Share != 1 {
		t.Fatalf("a run of delays alone: %+v, %v; want share 1", st, err)
	}
	for end := time.Now().Add(5 * time.Second); st.Windows["room"] < 3 && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		st, _ = c.Chaos()
	}
	if st.Windows["room"] < 3 || st.Total != 0 {
		t.Fatalf("windows %v, kills %d: want windows only", st.Windows, st.Total)
	}
	if ds := a.Delays(); len(ds) != 1 || ds[0].By != 200*time.Millisecond {
		t.Fatalf("delays during the run: %+v", ds)
	}
	if _, err := c.StopChaos(); err != nil {
		t.Fatal(err)
	}
	if ds := a.Delays(); len(ds) != 0 {
		t.Errorf("delays after the run was stopped: %+v", ds)
	}
}

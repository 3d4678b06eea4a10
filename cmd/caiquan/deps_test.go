package main

import (
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// TestNetworkDependenciesCurrent keeps the libraries on the cluster port's
// path at or above the releases that fixed known attacks on it: x/net's
// HTTP/2 CONTINUATION flood (fixed in v0.23.0) and grpc's own fixes up to
// v1.79.3. A downgrade through go.mod (say, by another dependency's
// requirement after go mod tidy) fails here.
func TestNetworkDependenciesCurrent(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info in the test binary")
	}
	want := map[string]string{
		"golang.org/x/net":       "v0.23.0",
		"google.golang.org/grpc": "v1.79.3",
	}
	for _, d := range info.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		min, ok := want[d.Path]
		if !ok {
			continue
		}
		delete(want, d.Path)
		if less(d.Version, min) {
			t.Errorf("%s is %s, want at least %s", d.Path, d.Version, min)
		}
	}
	for path := range want {
		t.Errorf("%s is not linked in; this test no longer guards it", path)
	}
}

// less compares vMAJOR.MINOR.PATCH versions; pre-release suffixes count
// as the release they precede.
func less(a, b string) bool {
	pa, pb := parts(a), parts(b)
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return strings.Contains(a, "-") && !strings.Contains(b, "-")
}

func parts(v string) [3]int {
	var out [3]int
	v, _, _ = strings.Cut(strings.TrimPrefix(v, "v"), "-")
	for i, p := range strings.SplitN(v, ".", 3) {
		out[i], _ = strconv.Atoi(p)
	}
	return out
}

package cluster

import "testing"

func TestMemberHTTPAddr(t *testing.T) {
	tests := []struct {
		m    Member
		want string
		ok   bool
	}{
		{Member{Address: "10.0.0.5:4000", Kinds: []string{PingKind, HTTPKindDef(8080).Kind}}, "10.0.0.5:8080", true},
		{Member{Address: "[::1]:4000", Kinds: []string{HTTPKindDef(80).Kind}}, "[::1]:80", true},
		{Member{Address: "10.0.0.5:4000", Kinds: []string{PingKind}}, "", false},             // published none
		{Member{Address: "10.0.0.5:4000", Kinds: []string{"caiquan.http:99999"}}, "", false}, // no such port
		{Member{Address: "10.0.0.5:4000", Kinds: []string{"caiquan.http:x"}}, "", false},
		{Member{Address: "nohostport", Kinds: []string{HTTPKindDef(80).Kind}}, "", false},
	}
	for _, tc := range tests {
		got, ok := tc.m.HTTPAddr()
		if got != tc.want || ok != tc.ok {
			t.Errorf("%+v: %q %v; want %q %v", tc.m, got, ok, tc.want, tc.ok)
		}
	}
}

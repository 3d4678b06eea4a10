package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env is a fake environment for Load, with auth_mode anonymous unless kv
// says otherwise.
func env(kv ...string) func(string) string {
	m := map[string]string{"CAIQUAN_AUTH_MODE": "anonymous"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func writeYAML(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "caiquan.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadDefaults(t *testing.T) {
	got, err := Load(nil, env())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, anon()) {
		t.Errorf("Load with nothing = %+v, want anon()", got)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeYAML(t, "room_size: 3\nround_time: 4s\nallowed_origins: [https://file.example]\nallow_no_origin: false\n")
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want func(*Config)
	}{
		{"file", []string{"-config", file}, env(),
			func(c *Config) {
				c.RoomSize, c.RoundTime, c.AllowedOrigins, c.AllowNoOrigin = 3, 4*time.Second, []string{"https://file.example"}, false
			}},
		{"env over file", []string{"-config", file},
			env("CAIQUAN_ROOM_SIZE", "5", "CAIQUAN_ALLOWED_ORIGINS", "https://env.example", "CAIQUAN_ALLOW_NO_ORIGIN", "true"),
			func(c *Config) {
				c.RoomSize, c.RoundTime, c.AllowedOrigins, c.AllowNoOrigin = 5, 4*time.Second, []string{"https://env.example"}, true
			}},
		{"flag over env over file", []string{"-config", file, "-room-size", "7", "-round-time=9s", "-allow-no-origin=false"},
			env("CAIQUAN_ROOM_SIZE", "5", "CAIQUAN_ROUND_TIME", "6s", "CAIQUAN_ALLOW_NO_ORIGIN", "true"),
			func(c *Config) {
				c.RoomSize, c.RoundTime, c.AllowedOrigins, c.AllowNoOrigin = 7, 9*time.Second, []string{"https://file.example"}, false
			}},
		{"file from CAIQUAN_CONFIG", nil, env("CAIQUAN_CONFIG", file, "CAIQUAN_ROUND_TIME", "6s"),
			func(c *Config) {
				c.RoomSize, c.RoundTime, c.AllowedOrigins, c.AllowNoOrigin = 3, 6*time.Second, []string{"https://file.example"}, false
			}},
		{"-config over CAIQUAN_CONFIG", []string{"-config", file}, env("CAIQUAN_CONFIG", "/no/such/file.yaml"),
			func(c *Config) {
				c.RoomSize, c.RoundTime, c.AllowedOrigins, c.AllowNoOrigin = 3, 4*time.Second, []string{"https://file.example"}, false
			}},
		{"empty env is unset", nil, env("CAIQUAN_ROOM_SIZE", "", "CAIQUAN_CONFIG", ""), func(*Config) {}},
		{"bare bool flag", []string{"-allow-no-origin"}, env("CAIQUAN_ALLOW_NO_ORIGIN", "false"), func(*Config) {}},
		{"every kind by flag", []string{
			"-listen=127.0.0.1:0", "-socketio-prefix=/sio/", "-bot-fill=2s", "-bot-first-choice=0s",
			"-bot-rechoose-min=1ms", "-bot-rechoose-max=1ms", "-max-frame-bytes=256", "-rate-limit=0.5",
			"-rate-burst=1", "-handshake-timeout=1s", "-ping-interval=1s", "-idle-timeout=2s",
			"-outbound-queue=1", "-drain-timeout=1s",
		}, env(), func(c *Config) {
			c.Listen, c.SocketIOPrefix, c.BotFill, c.BotFirstChoice = "127.0.0.1:0", "/sio/", 2*time.Second, 0
			c.BotRechooseMin, c.BotRechooseMax, c.MaxFrameBytes, c.RateLimit = time.Millisecond, time.Millisecond, 256, 0.5
			c.RateBurst, c.HandshakeTimeout, c.PingInterval, c.IdleTimeout = 1, time.Second, time.Second, 2*time.Second
			c.OutboundQueue, c.DrainTimeout = 1, time.Second
		}},
		{"prefix gets its trailing slash", []string{"-socketio-prefix", "/socket.io"}, env(),
			func(c *Config) { c.SocketIOPrefix = "/socket.io/" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			want := anon()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load() =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestCommaLists(t *testing.T) {
	want := []string{"https://a.example", "http://b.example:8080", "*"}
	tests := []struct {
		name string
		args []string
		env  func(string) string
	}{
		{"env", nil, env("CAIQUAN_ALLOWED_ORIGINS", " https://a.example, http://b.example:8080,,* ")},
		{"flag", []string{"-allowed-origins=https://a.example,http://b.example:8080,*"}, env()},
		{"yaml sequence", []string{"-config", writeYAML(t, "allowed_origins:\n  - https://a.example\n  - http://b.example:8080\n  - '*'\n")}, env()},
		{"yaml scalar", []string{"-config", writeYAML(t, "allowed_origins: https://a.example, http://b.example:8080, *\n")}, env()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.AllowedOrigins, want) {
				t.Errorf("AllowedOrigins = %q, want %q", got.AllowedOrigins, want)
			}
		})
	}
	// An empty list means none, however it is spelled.
	got, err := Load([]string{"-allowed-origins= , "}, env("CAIQUAN_ALLOWED_ORIGINS", "*"))
	if err != nil || got.AllowedOrigins != nil {
		t.Errorf("blank -allowed-origins gave %q, %v; want nil", got.AllowedOrigins, err)
	}
}

// badValue is a value that does not parse for each kind of setting.
var badValue = map[string]string{
	"int":      "abc",
	"number":   "fast",
	"duration": "banana",
	"bool":     "maybe",
}

// TestParseErrorsNameSetting checks, for every setting that can fail to
// parse and from every source, that the error names the setting, the
// value and the source.
func TestParseErrorsNameSetting(t *testing.T) {
	for _, s := range settings {
		bad, ok := badValue[s.kind]
		if !ok {
			continue // strings and lists take any text; Validate judges them
		}
		file := writeYAML(t, "# first line\n"+s.name+": "+bad+"\n")
		sources := []struct {
			from string
			args []string
			env  func(string) string
		}{
			{s.env(), nil, env(s.env(), bad)},
			{"flag -" + s.flag(), []string{"-" + s.flag() + "=" + bad}, env()},
			{file + " line 2", []string{"-config", file}, env()},
		}
		for _, src := range sources {
			t.Run(s.name+"/"+src.from, func(t *testing.T) {
				_, err := Load(src.args, src.env)
				want := `config: ` + s.name + `: "` + bad + `" is not `
				if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "(from "+src.from+")") {
					t.Errorf("Load() error = %v\nwant %q ... (from %s)", err, want, src.from)
				}
			})
		}
	}
}

func TestParseErrorExample(t *testing.T) {
	_, err := Load(nil, env("CAIQUAN_ROOM_SIZE", "abc"))
	want := `config: room_size: "abc" is not a whole number (from CAIQUAN_ROOM_SIZE)`
	if err == nil || err.Error() != want {
		t.Errorf("Load() error = %v, want %s", err, want)
	}
}

// TestLoadReportsAllParseErrors checks that all bad values are reported at
// once, across sources.
func TestLoadReportsAllParseErrors(t *testing.T) {
	_, err := Load([]string{"-round-time=3"}, env("CAIQUAN_RATE_BURST", "many"))
	if err == nil || !strings.Contains(err.Error(), "rate_burst") || !strings.Contains(err.Error(), "round_time") {
		t.Errorf("Load() error = %v, want both rate_burst and round_time", err)
	}
}

func TestLoadValidates(t *testing.T) {
	_, err := Load([]string{"-room-size=1"}, env())
	if err == nil || err.Error() != "config: room_size must be between 2 and 16, got 1" {
		t.Errorf("Load() error = %v", err)
	}
}

func TestFileErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want []string
	}{
		{"unknown key", []string{"-config", writeYAML(t, "room_size: 2\nroom_sise: 3\n")}, env(),
			[]string{"caiquan.yaml line 2", `unknown setting "room_sise"`}},
		{"flag spelling", []string{"-config", writeYAML(t, "round-time: 3s\n")}, env(),
			[]string{`unknown setting "round-time"`, `did you mean "round_time"?`}},
		{"missing file by flag", []string{"-config", missing}, env(),
			[]string{"config file (from flag -config)", "nope.yaml", "no such file"}},
		{"missing file by env", nil, env("CAIQUAN_CONFIG", missing),
			[]string{"config file (from CAIQUAN_CONFIG)", "nope.yaml"}},
		{"not a mapping", []string{"-config", writeYAML(t, "- room_size\n")}, env(),
			[]string{"caiquan.yaml line 1", "want a mapping"}},
		{"bad yaml", []string{"-config", writeYAML(t, "room_size: [\n")}, env(),
			[]string{"caiquan.yaml"}},
		{"set twice", []string{"-config", writeYAML(t, "room_size: 2\nroom_size: 3\n")}, env(),
			[]string{"caiquan.yaml line 2", "room_size is set twice"}},
		{"two documents", []string{"-config", writeYAML(t, "room_size: 2\n---\nroom_size: 3\n")}, env(),
			[]string{"want one YAML document"}},
		{"list for a scalar", []string{"-config", writeYAML(t, "listen: [a, b]\n")}, env(),
			[]string{"config: listen: must be a single value", "line 1"}},
		{"mapping in a list", []string{"-config", writeYAML(t, "allowed_origins:\n  - {a: b}\n")}, env(),
			[]string{"config: allowed_origins: each entry must be a single value"}},
		{"bare duration number", []string{"-config", writeYAML(t, "round_time: 3\n")}, env(),
			[]string{`config: round_time: "3" is not a duration`}},
		{"null value", []string{"-config", writeYAML(t, "listen:\n")}, env(),
			[]string{"config: listen must be host:port"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, tt.env)
			if err == nil {
				t.Fatal("Load() = nil error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load() error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestEmptyFileChangesNothing(t *testing.T) {
	for _, text := range []string{"", "# only a comment\n"} {
		got, err := Load([]string{"-config", writeYAML(t, text)}, env())
		if err != nil || !reflect.DeepEqual(got, anon()) {
			t.Errorf("file %q: Load() = %+v, %v; want anon()", text, got, err)
		}
	}
}

func TestFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "config: flag provided but not defined: -nope"},
		{[]string{"-room-size"}, "config: flag needs an argument: -room-size"},
		{[]string{"-room-size", "3", "extra"}, `config: unexpected argument "extra"`},
		{[]string{"serve"}, `config: unexpected argument "serve"`},
	}
	for _, tt := range tests {
		_, err := Load(tt.args, env())
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Load(%q) error = %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		if _, err := Load([]string{arg}, env()); err != flag.ErrHelp {
			t.Errorf("Load(%s) error = %v, want flag.ErrHelp", arg, err)
		}
	}
}

func TestUsage(t *testing.T) {
	var b bytes.Buffer
	Usage(&b)
	out := b.String()
	for _, want := range []string{"-config path", "CAIQUAN_CONFIG", `-listen string`, `(default ":8080"; env CAIQUAN_LISTEN)`,
		"-round-time duration", "(default 3s; env CAIQUAN_ROUND_TIME)", "-allowed-origins list", "(default none;",
		"-allow-no-origin bool", "-rate-limit number", "(default 20;"} {
		if !strings.Contains(out, want) {
			t.Errorf("Usage lacks %q", want)
		}
	}
	for _, s := range settings {
		if !strings.Contains(out, "  -"+s.flag()+" ") || !strings.Contains(out, s.help) {
			t.Errorf("Usage lacks -%s or its description", s.flag())
		}
	}
	// Every default Usage shows must load back to the default.
	var args []string
	for _, s := range settings {
		if v := s.get(anon()); v != "" {
			args = append(args, "-"+s.flag()+"="+v)
		}
	}
	if !strings.Contains(strings.Join(args, " "), "-auth-mode=anonymous") {
		t.Fatal("the defaults as flags lack -auth-mode=anonymous")
	}
	if got, err := Load(args, env()); err != nil || !reflect.DeepEqual(got, anon()) {
		t.Errorf("defaults as flags load to %+v, %v", got, err)
	}
}

func TestNilGetenv(t *testing.T) {
	if _, err := Load([]string{"-auth-mode", "anonymous"}, nil); err != nil {
		t.Fatal(err)
	}
}

// auth_secret (CAIQUAN_AUTH_SECRET) is still taken, as a list of one;
// auth_secrets comes from a YAML list, a comma list in the environment, or
// a flag.
func TestSecretsFromEverySource(t *testing.T) {
	a, b := strings.Repeat("a", 32), strings.Repeat("b", 40)
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want []string
	}{
		{"CAIQUAN_AUTH_SECRET", nil, env("CAIQUAN_AUTH_SECRET", a), []string{a}},
		{"-auth-secret", []string{"-auth-secret", a}, env(), []string{a}},
		{"CAIQUAN_AUTH_SECRETS", nil, env("CAIQUAN_AUTH_SECRETS", a+", "+b), []string{a, b}},
		{"-auth-secrets", []string{"-auth-secrets", a + "," + b}, env(), []string{a, b}},
		{"yaml", []string{"-config", writeYAML(t, "auth_secrets:\n  - "+a+"\n  - "+b+"\n")}, env(), []string{a, b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(append(tt.args, "-auth-mode", "guest"), tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Secrets(), tt.want) {
				t.Errorf("Secrets() = %q, want %q", got.Secrets(), tt.want)
			}
		})
	}
}

// TestRetiredSettings: a setting the previous release had and this one
// dropped starts the server (a rolling upgrade keeps the old settings)
// and is named in Retired, from the file, the environment or a flag; a
// misspelt name still stops it.
func TestRetiredSettings(t *testing.T) {
	file := writeYAML(t, "room_size: 3\nheap_budget_mib: 512\n")
	for _, c := range []struct {
		name string
		args []string
		env  func(string) string
	}{
		{"file", []string{"-config", file}, env()},
		{"env", nil, env("CAIQUAN_HEAP_BUDGET_MIB", "512")},
		{"flag", []string{"-heap-budget-mib", "0"}, env()},
		{"all three", []string{"-config", file, "-heap-budget-mib=0"}, env("CAIQUAN_HEAP_BUDGET_MIB", "512")},
	} {
		got, err := Load(c.args, c.env)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(got.Retired, []string{"heap_budget_mib"}) {
			t.Errorf("%s: Retired = %q, want [heap_budget_mib]", c.name, got.Retired)
		}
		if RetiredNote("heap_budget_mib") == "" {
			t.Error("heap_budget_mib has no note")
		}
	}
	if got, err := Load([]string{"-config", file}, env()); err != nil || got.RoomSize != 3 {
		t.Errorf("the rest of the file: room_size %d, %v", got.RoomSize, err)
	}
	_, err := Load([]string{"-config", writeYAML(t, "heap_budget: 512\n")}, env())
	if err == nil || !strings.Contains(err.Error(), `unknown setting "heap_budget"`) {
		t.Errorf("a misspelt setting: %v", err)
	}
	var b bytes.Buffer
	Usage(&b)
	if strings.Contains(b.String(), "heap") {
		t.Error("Usage lists a retired setting")
	}
}

package deploy

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/config"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	"gopkg.in/yaml.v3"
)

func TestMain(m *testing.M) { os.Exit(testserver.Run(m)) }

// pending are settings the deploy files use that other work adds to the
// binary: mutual TLS between the nodes and the separate metrics listener.
// A name here that the binary does not accept yet is logged, not failed;
// once the binary accepts it, it is checked like any other.
var pending = []string{"cluster_tls_cert_file", "cluster_tls_key_file", "cluster_tls_ca_file", "metrics_listen"}

// accepted is what the binary's -h lists: flags, environment variables and
// subcommands.
type accepted struct {
	flags, env  map[string]bool
	subcommands map[string]bool
	logged      map[string]bool // pending names already logged
}

func binaryAccepts(t *testing.T) accepted {
	t.Helper()
	out, err := exec.Command(testserver.Binary(t), "-h").Output()
	if err != nil {
		t.Fatalf("caiquan -h: %v", err)
	}
	a := accepted{flags: map[string]bool{}, env: map[string]bool{}, subcommands: map[string]bool{}, logged: map[string]bool{}}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+) `).FindAllStringSubmatch(string(out), -1) {
		a.flags[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`\benv (CAIQUAN_[A-Z0-9_]+)`).FindAllStringSubmatch(string(out), -1) {
		a.env[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+caiquan ([a-z]+)\b`).FindAllStringSubmatch(string(out), -1) {
		a.subcommands[m[1]] = true
	}
	if !a.flags["listen"] || !a.env["CAIQUAN_LISTEN"] || !a.env["CAIQUAN_CONFIG"] || !a.subcommands["admin"] {
		t.Fatalf("could not read the flags, variables and subcommands from caiquan -h:\n%s", out)
	}
	return a
}

// checkEnv fails for a CAIQUAN_ variable the binary does not accept,
// unless it is pending.
func (a accepted) checkEnv(t *testing.T, where, name string) {
	t.Helper()
	if a.env[name] {
		return
	}
	if slices.Contains(pending, strings.ToLower(strings.TrimPrefix(name, "CAIQUAN_"))) {
		if !a.logged[name] {
			t.Logf("%s: %s is pending (not in this binary yet)", where, name)
			a.logged[name] = true
		}
		return
	}
	t.Errorf("%s: %s is not an environment variable caiquan accepts", where, name)
}

func (a accepted) checkFlag(t *testing.T, where, flag string) {
	t.Helper()
	name, _, _ := strings.Cut(strings.TrimLeft(flag, "-"), "=")
	if a.flags[name] || name == "config" || name == "version" {
		return
	}
	if slices.Contains(pending, strings.ReplaceAll(name, "-", "_")) {
		t.Logf("%s: -%s is pending (not in this binary yet)", where, name)
		return
	}
	t.Errorf("%s: -%s is not a flag caiquan accepts", where, name)
}

var envName = regexp.MustCompile(`CAIQUAN_[A-Z0-9_]+`)

// TestDeploySettingsExist: every CAIQUAN_ variable named anywhere in
// deploy/ (and the README of the systemd unit's ExecStart flags) is one
// the binary accepts.
func TestDeploySettingsExist(t *testing.T) {
	a := binaryAccepts(t)
	seen := 0
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".go") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, name := range envName.FindAllString(string(raw), -1) {
			a.checkEnv(t, path, name)
			seen++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 20 {
		t.Fatalf("found only %d CAIQUAN_ names in deploy/; the scan is broken", seen)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// tool finds a program the test needs, or fails saying how to get it:
// these checks never skip.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run make test-deps (it installs it from Debian)", name)
	}
	return p
}

// TestSystemdUnit: systemd-analyze verify accepts a copy of the unit whose
// ExecStart runs the built binary, the flags in ExecStart are the binary's,
// and the unit restarts on failure (fencing exits 3), runs hardened and
// gives the drain the time it needs.
func TestSystemdUnit(t *testing.T) {
	analyze := tool(t, "systemd-analyze")
	unit := mustRead(t, "systemd/caiquan.service")
	a := binaryAccepts(t)

	exec1 := regexp.MustCompile(`(?m)^ExecStart=(\S+)(.*)$`).FindStringSubmatch(unit)
	if exec1 == nil || filepath.Base(exec1[1]) != "caiquan" {
		t.Fatalf("no ExecStart=…/caiquan in the unit")
	}
	for _, arg := range strings.Fields(exec1[2]) {
		if strings.HasPrefix(arg, "-") {
			a.checkFlag(t, "ExecStart", arg)
		}
	}
	for _, want := range []string{"Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "DynamicUser=yes",
		"StateDirectory=caiquan", "LimitNOFILE=", "ExecReload=/bin/kill -HUP $MAINPID", "RestartPreventExitStatus=2"} {
		if !strings.Contains(unit, "\n"+want) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	if m := regexp.MustCompile(`(?m)^RestartPreventExitStatus=(.*)$`).FindStringSubmatch(unit); m != nil && slices.Contains(strings.Fields(m[1]), "3") {
		t.Error("RestartPreventExitStatus includes 3: a fenced node would not come back")
	}
	stop := regexp.MustCompile(`(?m)^TimeoutStopSec=(\d+)s$`).FindStringSubmatch(unit)
	if stop == nil {
		t.Fatal("the unit sets no TimeoutStopSec=Ns")
	}
	if d, _ := time.ParseDuration(stop[1] + "s"); d < config.Default().DrainTimeout+5*time.Second {
		t.Errorf("TimeoutStopSec=%v does not cover drain_timeout (%v) and the close after it", d, config.Default().DrainTimeout)
	}

	// The unit's own settings load on top of the example file it tells
	// operators to install (with the anonymous demo standing in for the
	// secrets of EnvironmentFile).
	env := map[string]string{"CAIQUAN_AUTH_MODE": "anonymous"}
	for _, m := range regexp.MustCompile(`(?m)^Environment=(CAIQUAN_[A-Z0-9_]+)=(.*)$`).FindAllStringSubmatch(unit, -1) {
		a.checkEnv(t, "Environment=", m[1])
		env[m[1]] = m[2]
	}
	if len(env) < 2 {
		t.Error("the unit sets no CAIQUAN_ variable; the store path must be in its state directory")
	}
	if !strings.Contains(unit, "install -m 644 config/caiquan.example.yaml /etc/caiquan/caiquan.yaml") {
		t.Error("the unit's install steps no longer copy the example configuration; update this test")
	}
	if c, err := config.Load([]string{"-config", "../config/caiquan.example.yaml"}, func(k string) string { return env[k] }); err != nil {
		t.Errorf("the unit's settings do not load: %v", err)
	} else if !strings.HasPrefix(c.StorePath, "/var/lib/caiquan/") {
		t.Errorf("store_path %s is not in the unit's StateDirectory", c.StorePath)
	}

	dir := t.TempDir()
	copyUnit := strings.Replace(unit, "ExecStart="+exec1[1], "ExecStart="+testserver.Binary(t), 1)
	path := filepath.Join(dir, "caiquan.service")
	if err := os.WriteFile(path, []byte(copyUnit), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, analyze, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// manifest is one Kubernetes object, kept as a YAML tree.
type manifest map[string]any

func (m manifest) get(path ...any) any {
	var cur any = map[string]any(m)
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mm, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = mm[k]
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

// TestKustomize: kubectl kustomize deploy/k8s builds, and what it builds is
// a Deployment with a readiness probe on /healthz, a preStop and a grace
// period that covers drain_timeout, TLS files and secrets from Secrets, an
// init step that waits for etcd; a Service and a PodDisruptionBudget that
// select its pods; etcd with its Service.
func TestKustomize(t *testing.T) {
	kubectl := tool(t, "kubectl")
	a := binaryAccepts(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, kubectl, "kustomize", "k8s")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize deploy/k8s: %v\n%s", err, stderr.String())
	}
	objs := map[string]manifest{} // "Kind/name"
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		// Into a plain map, so that nested mappings are map[string]any too.
		var raw map[string]any
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if raw == nil {
			continue
		}
		m := manifest(raw)
		if ns := m.get("metadata", "namespace"); ns != "caiquan" {
			t.Errorf("%v/%v is in namespace %v, want caiquan", m["kind"], m.get("metadata", "name"), ns)
		}
		objs[m["kind"].(string)+"/"+m.get("metadata", "name").(string)] = m
	}
	var kinds []string
	for k := range objs {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	want := []string{"Deployment/caiquan", "PodDisruptionBudget/caiquan", "Service/caiquan", "Service/etcd", "StatefulSet/etcd"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("kustomize built %v, want %v", kinds, want)
	}

	dep := objs["Deployment/caiquan"]
	labels := dep.get("spec", "selector", "matchLabels").(map[string]any)
	for _, sel := range []manifest{objs["PodDisruptionBudget/caiquan"], objs["Service/caiquan"]} {
		got := sel.get("spec", "selector", "matchLabels")
		if got == nil {
			got = sel.get("spec", "selector")
		}
		if !sameMap(got, labels) {
			t.Errorf("%v selects %v, the Deployment's pods are %v", sel["kind"], got, labels)
		}
	}
	if !sameMap(dep.get("spec", "template", "metadata", "labels"), labels) {
		t.Error("the pod template's labels are not the Deployment's selector")
	}
	if mu := objs["PodDisruptionBudget/caiquan"].get("spec", "maxUnavailable"); mu != 1 {
		t.Errorf("PodDisruptionBudget maxUnavailable = %v, want 1", mu)
	}

	pod := manifest(dep.get("spec", "template", "spec").(map[string]any))
	var c manifest
	for _, x := range pod["containers"].([]any) {
		if x.(map[string]any)["name"] == "caiquan" {
			c = x.(map[string]any)
		}
	}
	if c == nil {
		t.Fatal("no caiquan container")
	}
	if p := c.get("readinessProbe", "httpGet", "path"); p != "/healthz" {
		t.Errorf("readiness probe path %v, want /healthz", p)
	}
	if p := c.get("livenessProbe", "httpGet", "path"); p == "/healthz" {
		t.Error("the liveness probe is /healthz, which fails while draining: the kubelet would kill a draining node")
	}

	env := map[string]manifest{}
	for _, e := range c["env"].([]any) {
		m := manifest(e.(map[string]any))
		name := m["name"].(string)
		env[name] = m
		if strings.HasPrefix(name, "CAIQUAN_") {
			a.checkEnv(t, "deployment env", name)
		}
	}
	// The values load as a configuration: secrets stand in for those the
	// Secrets hold, the pod's address for $(POD_IP).
	standIns := map[string]string{"postgres-url": "postgres://caiquan:pw@postgres:5432/caiquan", "auth-secret": strings.Repeat("s", 48),
		"wechat-appid": "wx0123456789abcdef", "wechat-secret": "secret"}
	loadable := map[string]string{}
	for name, e := range env {
		if v, ok := e["value"].(string); ok {
			loadable[name] = strings.ReplaceAll(v, "$(POD_IP)", "10.1.2.3")
		} else if key, ok := e.get("valueFrom", "secretKeyRef", "key").(string); ok {
			if standIns[key] == "" {
				t.Errorf("%s: no stand-in for Secret key %s", name, key)
			}
			loadable[name] = standIns[key]
		}
	}
	if _, err := config.Load(nil, func(k string) string { return loadable[k] }); err != nil {
		t.Errorf("the Deployment's settings do not load: %v", err)
	}
	drain := config.Default().DrainTimeout
	if v, ok := env["CAIQUAN_DRAIN_TIMEOUT"]["value"].(string); ok {
		if drain, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	preStop, _ := c.get("lifecycle", "preStop", "sleep", "seconds").(int)
	if preStop <= 0 {
		t.Error("no preStop sleep: the Service would still send players to a draining node")
	}
	grace, _ := pod["terminationGracePeriodSeconds"].(int)
	// After the drain the server gives sessions 2 s and the sockets 3 s.
	if need := time.Duration(preStop)*time.Second + drain + 5*time.Second; time.Duration(grace)*time.Second < need {
		t.Errorf("terminationGracePeriodSeconds %d does not cover preStop %ds + drain_timeout %v + 5s", grace, preStop, drain)
	}
	for _, name := range []string{"CAIQUAN_POSTGRES_URL", "CAIQUAN_AUTH_SECRET", "CAIQUAN_WECHAT_SECRET"} {
		if env[name] == nil || env[name].get("valueFrom", "secretKeyRef", "name") == nil || env[name]["value"] != nil {
			t.Errorf("%s is not taken from a Secret", name)
		}
	}
	secretMounts := map[string]bool{}
	for _, v := range pod["volumes"].([]any) {
		vm := manifest(v.(map[string]any))
		if vm.get("secret", "secretName") == nil {
			continue
		}
		for _, m := range c["volumeMounts"].([]any) {
			if m.(map[string]any)["name"] == vm["name"] {
				secretMounts[m.(map[string]any)["mountPath"].(string)] = true
			}
		}
	}
	for _, name := range []string{"CAIQUAN_TLS_CERT_FILE", "CAIQUAN_TLS_KEY_FILE", "CAIQUAN_CLUSTER_TLS_CERT_FILE", "CAIQUAN_CLUSTER_TLS_KEY_FILE", "CAIQUAN_CLUSTER_TLS_CA_FILE"} {
		v, _ := env[name]["value"].(string)
		if v == "" || !secretMounts[filepath.Dir(v)] {
			t.Errorf("%s = %q is not a file in a Secret's volume (%v)", name, v, secretMounts)
		}
	}
	if ep, _ := env["CAIQUAN_CLUSTER_ETCD_ENDPOINTS"]["value"].(string); !strings.HasPrefix(ep, "etcd:") {
		t.Errorf("CAIQUAN_CLUSTER_ETCD_ENDPOINTS = %q, want the etcd Service", ep)
	}
	inits, _ := pod["initContainers"].([]any)
	if len(inits) == 0 || !strings.Contains(strings.Join(toStrings(manifest(inits[0].(map[string]any))["command"]), " "), "etcd:2379") {
		t.Error("no init container waits for etcd")
	}
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func sameMap(a any, b map[string]any) bool {
	am, ok := a.(map[string]any)
	if !ok || len(am) != len(b) {
		return false
	}
	for k, v := range b {
		if am[k] != v {
			return false
		}
	}
	return true
}

// TestDockerfile: a multi-stage build whose binary comes from the
// Makefile's static target (the one make release runs for each
// architecture), a final image that runs as a user other than root, and a
// HEALTHCHECK that the binary itself answers.
func TestDockerfile(t *testing.T) {
	df := mustRead(t, "Dockerfile")
	a := binaryAccepts(t)
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(df, -1)); n < 2 {
		t.Errorf("%d stages, want a build stage and a final one", n)
	}
	users := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(df, -1)
	if len(users) == 0 {
		t.Fatal("no USER: the server would run as root")
	}
	if u := users[len(users)-1][1]; strings.HasPrefix(u, "0") || strings.HasPrefix(u, "root") {
		t.Errorf("final USER %s is root", u)
	}
	hc := regexp.MustCompile(`(?m)^\s*CMD \["/usr/local/bin/caiquan", "([a-z]+)"\]`).FindStringSubmatch(df)
	if !strings.Contains(df, "HEALTHCHECK") || hc == nil || !a.subcommands[hc[1]] {
		t.Fatalf("the HEALTHCHECK does not run a caiquan subcommand (%v; the binary has %v)", hc, a.subcommands)
	}
	if out, err := exec.Command(testserver.Binary(t), hc[1], "-h").CombinedOutput(); err != nil {
		t.Errorf("caiquan %s -h: %v\n%s", hc[1], err, out)
	}
	run := regexp.MustCompile(`(?m)^RUN make static GOOS=linux GOARCH=\$\{TARGETARCH\} VERSION=\$\{VERSION\} COMMIT=\$\{COMMIT\} OUT=(\S+)$`).FindStringSubmatch(df)
	if run == nil {
		t.Fatal("the Dockerfile does not build with `make static GOOS=linux GOARCH=${TARGETARCH} VERSION=${VERSION} COMMIT=${COMMIT} OUT=…`")
	}
	if !strings.Contains(df, "COPY --from=build "+run[1]+" /usr/local/bin/caiquan") {
		t.Errorf("the final stage does not take the binary make static wrote (%s)", run[1])
	}

	// What make static runs for the image is, but for the output path,
	// what make release runs for the same architecture.
	image := makeDryRun(t, "static", "GOOS=linux", "GOARCH=arm64", "VERSION=v9.9.9", "COMMIT=c0ffee", "OUT="+run[1])
	release := makeDryRun(t, "release", "VERSION=v9.9.9", "COMMIT=c0ffee")
	if len(image) != 1 || !strings.Contains(image[0], "CGO_ENABLED=0") || !strings.Contains(image[0], "-X main.version=v9.9.9") {
		t.Fatalf("make static runs %q, want one static, stamped go build", image)
	}
	want := strings.Replace(image[0], "-o "+run[1], "-o dist/caiquan-v9.9.9-linux-arm64", 1)
	if !slices.Contains(release, want) {
		t.Errorf("make release does not build arm64 as the image does:\n  image:   %s\n  release: %q", want, release)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if !slices.ContainsFunc(release, func(l string) bool { return strings.Contains(l, "GOARCH="+arch) && strings.Contains(l, "go build") }) {
			t.Errorf("make release builds no %s binary", arch)
		}
	}
	for _, m := range envName.FindAllString(df, -1) {
		a.checkEnv(t, "Dockerfile", m)
	}
}

// makeDryRun returns the go build lines make -n prints for target (the
// recipe's continuation lines joined).
func makeDryRun(t *testing.T, target string, vars ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", append([]string{"-n", "--no-print-directory", "-C", "..", target}, vars...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n %s: %v\n%s", target, err, out)
	}
	joined := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(out), "")
	var lines []string
	for _, l := range strings.Split(joined, "\n") {
		if strings.Contains(l, " build ") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
	}
	return lines
}

// TestCompose: etcd, PostgreSQL, three nodes on mutual TLS and Prometheus
// scraping each node's metrics listener; the nodes restart on failure and
// get more time to stop than drain_timeout.
func TestCompose(t *testing.T) {
	a := binaryAccepts(t)
	var doc struct {
		Services map[string]struct {
			Environment     map[string]string `yaml:"environment"`
			Restart         string            `yaml:"restart"`
			StopGracePeriod string            `yaml:"stop_grace_period"`
			Command         []string          `yaml:"command"`
			Volumes         []string          `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(mustRead(t, "compose.yaml")), &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"etcd", "postgres", "prometheus", "node1", "node2", "node3"} {
		if _, ok := doc.Services[s]; !ok {
			t.Errorf("no service %s", s)
		}
	}
	prom := mustRead(t, "prometheus/prometheus.yml")
	for _, n := range []string{"node1", "node2", "node3"} {
		s := doc.Services[n]
		for k := range s.Environment {
			a.checkEnv(t, "compose "+n, k)
		}
		for _, k := range []string{"CAIQUAN_CLUSTER_TLS_CERT_FILE", "CAIQUAN_CLUSTER_TLS_KEY_FILE", "CAIQUAN_CLUSTER_TLS_CA_FILE", "CAIQUAN_TLS_CERT_FILE"} {
			if s.Environment[k] == "" {
				t.Errorf("%s: no %s", n, k)
			}
		}
		if !strings.HasSuffix(s.Environment["CAIQUAN_CLUSTER_TLS_CERT_FILE"], "/"+n+".crt") {
			t.Errorf("%s: cluster certificate %s is not its own", n, s.Environment["CAIQUAN_CLUSTER_TLS_CERT_FILE"])
		}
		if s.Environment["CAIQUAN_CLUSTER_PROVIDER"] != "etcd" || s.Environment["CAIQUAN_STORE"] != "postgres" {
			t.Errorf("%s: not on etcd and postgres: %v", n, s.Environment)
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			env[k] = os.Expand(v, composeDefault)
		}
		if _, err := config.Load(nil, func(k string) string { return env[k] }); err != nil {
			t.Errorf("%s: its settings do not load: %v", n, err)
		}
		if s.Restart != "on-failure" {
			t.Errorf("%s: restart %q, want on-failure (a fenced node exits 3)", n, s.Restart)
		}
		grace, err := time.ParseDuration(s.StopGracePeriod)
		drain, _ := time.ParseDuration(s.Environment["CAIQUAN_DRAIN_TIMEOUT"])
		if err != nil || grace < drain+5*time.Second {
			t.Errorf("%s: stop_grace_period %q does not cover drain_timeout %v", n, s.StopGracePeriod, drain)
		}
		_, port, _ := strings.Cut(s.Environment["CAIQUAN_METRICS_LISTEN"], ":")
		if port == "" || !strings.Contains(prom, `"`+n+":"+port+`"`) {
			t.Errorf("Prometheus does not scrape %s:%s", n, port)
		}
	}
}

// composeDefault expands ${NAME:-default} as compose does when NAME is unset.
func composeDefault(expr string) string {
	_, def, _ := strings.Cut(expr, ":-")
	return def
}

// TestNginxTimeouts: nginx waits longer than the server's ping interval
// and idle timeout before it calls a quiet WebSocket dead.
func TestNginxTimeouts(t *testing.T) {
	conf := mustRead(t, "nginx/caiquan.conf")
	d := config.Default()
	for _, k := range []string{"proxy_read_timeout", "proxy_send_timeout"} {
		m := regexp.MustCompile(`(?m)^\s*` + k + ` (\d+)s;$`).FindStringSubmatch(conf)
		if m == nil {
			t.Errorf("no %s Ns", k)
			continue
		}
		if v, _ := time.ParseDuration(m[1] + "s"); v <= d.PingInterval || v <= d.IdleTimeout {
			t.Errorf("%s %v is not longer than ping_interval %v and idle_timeout %v", k, v, d.PingInterval, d.IdleTimeout)
		}
	}
}

// TestCertsScript: deploy/certs.sh makes a CA, a game certificate for
// localhost and the nodes, and node certificates good for both ends of
// mutual TLS, each signed by the CA.
func TestCertsScript(t *testing.T) {
	tool(t, "openssl")
	dir := t.TempDir()
	if out, err := exec.Command("./certs.sh", dir).CombinedOutput(); err != nil {
		t.Fatalf("certs.sh: %v\n%s", err, out)
	}
	load := func(name string) *x509.Certificate {
		t.Helper()
		b, _ := pem.Decode([]byte(mustRead(t, filepath.Join(dir, name))))
		if b == nil {
			t.Fatalf("%s is not PEM", name)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	roots := x509.NewCertPool()
	roots.AddCert(load("ca.crt"))
	verify := func(name, host string, usage x509.ExtKeyUsage) {
		t.Helper()
		if _, err := load(name).Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("%s for %s (%v): %v", name, host, usage, err)
		}
	}
	verify("game.crt", "localhost", x509.ExtKeyUsageServerAuth)
	verify("game.crt", "node2", x509.ExtKeyUsageServerAuth)
	for _, n := range []string{"node1", "node2", "node3"} {
		verify(n+".crt", n, x509.ExtKeyUsageServerAuth)
		verify(n+".crt", n, x509.ExtKeyUsageClientAuth)
	}
	if st, err := os.Stat(filepath.Join(dir, "ca.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("ca.key: %v, mode %v; want 0600", err, st.Mode())
	}
}

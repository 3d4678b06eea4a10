// Package pgtest starts a throwaway PostgreSQL cluster for a test: initdb
// in a fresh temporary folder, pg_ctl start on 127.0.0.1 at a free port (no
// Unix socket outside that folder), and, when the test ends, an immediate
// stop and the folder removed. Run as root (CI, make test), the cluster
// belongs to the "postgres" user, as PostgreSQL refuses to run as root.
//
// It needs Debian's postgresql package (make test-deps installs it); the
// binaries are found on PATH or under /usr/lib/postgresql/*/bin.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is one running PostgreSQL server.
type Cluster struct {
	// URL connects to the database "postgres" as the superuser "postgres".
	URL  string
	Port int

	t   testing.TB
	dir string
	bin string
	own string // the user who runs the server; "" is this process's
	uid int    // own's ids, for the files the server must own
	gid int
	ssl string // the server's TLS options; "" without TLS
	// query ends every URL: the sslmode and, with TLS, the CA.
	query string
}

// Start makes and starts a cluster; t's cleanup stops and removes it.
func Start(t testing.TB) *Cluster {
	t.Helper()
	return start(t, "", "", "")
}

// StartTLS makes and starts a cluster that accepts only TLS connections
// (pg_hba hostssl), presenting cert and key (PEM; the certificate must
// name 127.0.0.1). Its URL asks for sslmode=verify-full against caFile,
// as a deployment's postgres_url would.
func StartTLS(t testing.TB, cert, key, caFile string) *Cluster {
	t.Helper()
	return start(t, cert, key, caFile)
}

func start(t testing.TB, cert, key, caFile string) *Cluster {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		t.Fatalf("pgtest: %v (make test-deps installs Debian's postgresql)", err)
	}
	dir, err := os.MkdirTemp("", "caiquan-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, dir: dir, bin: bin}
	t.Cleanup(c.remove)
	if os.Geteuid() == 0 {
		c.own = "postgres"
		u, err := user.Lookup(c.own)
		if err != nil {
			t.Fatalf("pgtest: running as root needs the postgres user: %v", err)
		}
		c.uid, _ = strconv.Atoi(u.Uid)
		c.gid, _ = strconv.Atoi(u.Gid)
		if err := os.Chown(dir, c.uid, c.gid); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	c.run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
	c.query = "sslmode=disable"
	if cert != "" {
		c.setupTLS(cert, key, caFile)
	}
	c.Port = freePort(t)
	c.start()
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?%s", c.Port, c.query)
	return c
}

// setupTLS copies the key pair where the server reads it (PostgreSQL
// wants its key owned by its own user and private) and allows only TLS
// connections over TCP.
func (c *Cluster) setupTLS(cert, key, caFile string) {
	c.t.Helper()
	for _, f := range []struct{ from, to string }{{cert, "server.crt"}, {key, "server.key"}} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			c.t.Fatalf("pgtest: %v", err)
		}
		dst := filepath.Join(c.dir, f.to)
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			c.t.Fatal(err)
		}
		if c.own != "" {
			if err := os.Chown(dst, c.uid, c.gid); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	hba := "local all all trust\nhostssl all all 127.0.0.1/32 trust\n"
	if err := os.WriteFile(filepath.Join(c.dir, "data", "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		c.t.Fatal(err)
	}
	if c.own != "" {
		os.Chown(filepath.Join(c.dir, "data", "pg_hba.conf"), c.uid, c.gid)
	}
	c.ssl = fmt.Sprintf(" -c ssl=on -c ssl_cert_file=%s -c ssl_key_file=%s", filepath.Join(c.dir, "server.crt"), filepath.Join(c.dir, "server.key"))
	c.query = "sslmode=verify-full&sslrootcert=" + url.QueryEscape(caFile)
}

// Stop stops the server at once (as a crash would); Start it again with Restart.
func (c *Cluster) Stop() {
	c.t.Helper()
	c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop")
}

// Restart starts a stopped server again on the same port.
func (c *Cluster) Restart() { c.t.Helper(); c.start() }

func (c *Cluster) start() {
	c.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s -c fsync=off", c.Port, c.dir) + c.ssl
	c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-o", opts, "-w", "-t", "60", "start")
}

func (c *Cluster) remove() {
	data := filepath.Join(c.dir, "data")
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
		c.command("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").Run()
	}
	if c.t.Failed() {
		if log, err := os.ReadFile(filepath.Join(c.dir, "log")); err == nil {
			c.t.Logf("pgtest: server log:\n%s", log)
		}
	}
	os.RemoveAll(c.dir)
}

func (c *Cluster) run(tool string, args ...string) {
	c.t.Helper()
	if out, err := c.command(tool, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		c.t.Fatalf("pgtest: %s %v: %v\n%s\n%s", tool, args, err, out, log)
	}
}

func (c *Cluster) command(tool string, args ...string) *exec.Cmd {
	// pg_ctl -w -t bounds its own wait; initdb needs no bound.
	path := filepath.Join(c.bin, tool)
	if c.own != "" {
		return exec.Command("runuser", append([]string{"-u", c.own, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

// binDir finds the folder of initdb and pg_ctl.
func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // the newest major version first
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no pg_ctl and initdb found on PATH or under /usr/lib/postgresql/*/bin")
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// CreateDB makes an empty database named after n and returns its URL.
func (c *Cluster) CreateDB(t testing.TB, n int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("test%d", n)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?%s", c.Port, name, c.query)
}

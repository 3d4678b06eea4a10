package multihost

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caiquan/caiquan/internal/devcert"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Ports every host uses on its own address: each namespace has its own
// ports, so they are fixed.
const (
	GamePort    = 8080
	AdminPort   = 8081
	ClusterPort = 7000
	EtcdPort    = 2379
	etcdPeer    = 2380
	PGPort      = 5432
)

const (
	readyTimeout = 30 * time.Second
	// ClusterName is what the node certificates name and the nodes check.
	ClusterName = "caiquan"
)

// ClusterSpec says what StartCluster makes.
type ClusterSpec struct {
	Bin         string   // the caiquan binary
	Nodes       int      // game nodes, each in its own namespace
	EtcdMembers int      // 1 or 3, each in its own namespace
	Flags       []string // added to every node's flags (round time, ...)
	// Proxies puts a delay proxy (in the root namespace, on an address of
	// its own) in front of each node's member port; the node advertises
	// the proxy's address, so members reach each other through them.
	Proxies bool
}

// Cluster is etcd, PostgreSQL and game nodes, each on a host of its own,
// the nodes talking mutual TLS on their hosts' addresses.
type Cluster struct {
	Lab   *Lab
	Spec  ClusterSpec
	Etcd  []*Proc
	PG    *Host
	PGURL string
	Hosts []*Host // the nodes' hosts, by node index
	Token string  // the admin API's bearer token on every node
	// Proxies, by node index, when Spec.Proxies.
	Proxies   []*Proxy
	certs     devcert.Files
	etcdCerts devcert.Files
	etcdEP    []string

	mu    sync.Mutex
	nodes []*Node // the current process of each node
}

// Node is one run of a game node.
type Node struct {
	*Proc
	Index       int
	GameAddr    string // host:port of the game listener
	AdminAddr   string
	ClusterAddr string // as the node printed it: its member address
}

// StartCluster starts etcd, PostgreSQL and spec.Nodes game nodes in new
// hosts of lab and waits until etcd lists every node.
func StartCluster(lab *Lab, spec ClusterSpec) (*Cluster, error) {
	if spec.EtcdMembers == 0 {
		spec.EtcdMembers = 1
	}
	c := &Cluster{Lab: lab, Spec: spec, Token: randomHex(16)}
	var etcdHosts []*Host
	for i := range spec.EtcdMembers {
		h, err := lab.AddHost(fmt.Sprintf("etcd%d", i))
		if err != nil {
			return nil, err
		}
		etcdHosts = append(etcdHosts, h)
	}
	pg, err := lab.AddHost("pg")
	if err != nil {
		return nil, err
	}
	c.PG = pg
	for i := range spec.Nodes {
		h, err := lab.AddHost(fmt.Sprintf("node%d", i))
		if err != nil {
			return nil, err
		}
		c.Hosts = append(c.Hosts, h)
	}
	var ips []string
	for _, h := range c.Hosts {
		ips = append(ips, h.IP)
	}
	if c.certs, err = devcert.Make(devcert.Options{Dir: filepath.Join(lab.Dir, "certs"), Name: ClusterName, Hosts: ips}); err != nil {
		return nil, fmt.Errorf("multihost: certificates: %w", err)
	}
	if spec.Proxies {
		for i, h := range c.Hosts {
			ip := lab.subnet + strconv.Itoa(100+i)
			if err := run("ip", "addr", "add", ip+"/32", "dev", lab.bridge()); err != nil {
				return nil, err
			}
			p, err := NewProxy(fmt.Sprintf("%s:%d", ip, ClusterPort), fmt.Sprintf("%s:%d", h.IP, ClusterPort))
			if err != nil {
				return nil, fmt.Errorf("multihost: proxy for node %d: %w", i, err)
			}
			lab.onClose(func() { p.Close() })
			c.Proxies = append(c.Proxies, p)
		}
	}
	var etcdIPs []string
	for _, h := range etcdHosts {
		etcdIPs = append(etcdIPs, h.IP)
	}
	// etcd's certificate names its members' addresses, which its clients
	// (the nodes, and this harness) check; it asks them for theirs.
	if c.etcdCerts, err = devcert.Make(devcert.Options{Dir: filepath.Join(lab.Dir, "certs"), Name: ClusterName, Hosts: etcdIPs, Prefix: "etcd"}); err != nil {
		return nil, fmt.Errorf("multihost: etcd certificates: %w", err)
	}
	if c.Etcd, c.etcdEP, err = startEtcd(etcdHosts, c.etcdCerts); err != nil {
		return nil, err
	}
	if c.PGURL, err = startPostgres(pg, filepath.Join(lab.Dir, "certs")); err != nil {
		return nil, err
	}
	c.nodes = make([]*Node, spec.Nodes)
	errs := make([]error, spec.Nodes)
	var wg sync.WaitGroup
	for i := range spec.Nodes {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.StartNode(i) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, c.WaitMembers(spec.Nodes, readyTimeout)
}

// EtcdHosts are the hosts of etcd's members.
func (c *Cluster) EtcdHosts() []*Host {
	var out []*Host
	for _, p := range c.Etcd {
		out = append(out, p.Host)
	}
	return out
}

// Node is the current run of node i.
func (c *Cluster) Node(i int) *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// Nodes are the current runs of every node.
func (c *Cluster) Nodes() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Node(nil), c.nodes...)
}

// StartNode starts node i (again, after a kill or a fence) on its host and
// waits until it serves.
func (c *Cluster) StartNode(i int) error {
	h := c.Hosts[i]
	flags := []string{
		"-listen", fmt.Sprintf("%s:%d", h.IP, GamePort),
		"-admin-listen", fmt.Sprintf("%s:%d", h.IP, AdminPort), "-admin-token", c.Token,
		"-auth-mode", "anonymous",
		"-store", "postgres", "-postgres-url", c.PGURL,
		"-cluster-provider", "etcd", "-cluster-etcd-endpoints", strings.Join(c.etcdEP, ","),
		"-cluster-bind", fmt.Sprintf("%s:%d", h.IP, ClusterPort),
		"-cluster-etcd-tls-ca-file", c.certs.CA, "-cluster-etcd-tls-cert-file", c.certs.Cert, "-cluster-etcd-tls-key-file", c.certs.Key,
		"-cluster-tls-cert-file", c.certs.Cert, "-cluster-tls-key-file", c.certs.Key, "-cluster-tls-ca-file", c.certs.CA,
	}
	if c.Proxies != nil {
		flags = append(flags, "-cluster-advertise", c.Proxies[i].Addr)
	}
	p, err := h.Start("caiquan", c.Spec.Bin, append(flags, c.Spec.Flags...)...)
	if err != nil {
		return err
	}
	n := &Node{Proc: p, Index: i}
	if n.GameAddr, err = p.WaitLine("listening on ", readyTimeout); err != nil {
		p.Kill()
		return err
	}
	n.AdminAddr, _ = p.WaitLine("admin on ", time.Second)
	if n.ClusterAddr, err = p.WaitLine("cluster "+ClusterName+" node ", readyTimeout); err != nil {
		p.Kill()
		return err
	}
	c.mu.Lock()
	c.nodes[i] = n
	c.mu.Unlock()
	return nil
}

// MemberIPs are the addresses other members use to reach node i: its
// host's, and its proxy's when there is one. A partition cuts them all.
func (c *Cluster) MemberIPs(i int) []string {
	ips := []string{c.Hosts[i].IP}
	if c.Proxies != nil {
		host, _, _ := strings.Cut(c.Proxies[i].Addr, ":")
		ips = append(ips, host)
	}
	return ips
}

// WaitMembers waits until etcd lists n members of the cluster.
func (c *Cluster) WaitMembers(n int, timeout time.Duration) error {
	tc, err := c.etcdTLS()
	if err != nil {
		return err
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.etcdEP, DialTimeout: 5 * time.Second, TLS: tc})
	if err != nil {
		return fmt.Errorf("multihost: etcd client: %w", err)
	}
	defer cli.Close()
	var got int64 = -1
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := cli.Get(ctx, "/"+ClusterName+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		cancel()
		if err == nil {
			if got = resp.Count; got == int64(n) {
				return nil
			}
		}
	}
	return fmt.Errorf("multihost: etcd lists %d members, want %d", got, n)
}

// etcdTLS is a client's TLS to etcd: the nodes' certificate, and the CA
// that signed etcd's.
func (c *Cluster) etcdTLS() (*tls.Config, error) {
	return clientTLS(c.certs)
}

func clientTLS(f devcert.Files) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// startEtcd runs one etcd member on each host, as one etcd cluster that
// speaks TLS to clients and peers and checks their certificates, and
// waits until each is healthy.
func startEtcd(hosts []*Host, certs devcert.Files) ([]*Proc, []string, error) {
	var initial, eps []string
	for i, h := range hosts {
		initial = append(initial, fmt.Sprintf("e%d=https://%s:%d", i, h.IP, etcdPeer))
		eps = append(eps, fmt.Sprintf("%s:%d", h.IP, EtcdPort))
	}
	var procs []*Proc
	for i, h := range hosts {
		client := fmt.Sprintf("https://%s:%d", h.IP, EtcdPort)
		peer := fmt.Sprintf("https://%s:%d", h.IP, etcdPeer)
		p, err := h.Start("etcd", "etcd",
			"--cert-file", certs.Cert, "--key-file", certs.Key, "--trusted-ca-file", certs.CA, "--client-cert-auth",
			"--peer-cert-file", certs.Cert, "--peer-key-file", certs.Key, "--peer-trusted-ca-file", certs.CA, "--peer-client-cert-auth",
			"--name", fmt.Sprintf("e%d", i),
			"--data-dir", filepath.Join(h.lab.Dir, fmt.Sprintf("etcd%d", i)),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "cq"+h.lab.ID)
		if err != nil {
			return nil, nil, err
		}
		procs = append(procs, p)
	}
	tc, err := clientTLS(certs)
	if err != nil {
		return nil, nil, err
	}
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	for i, ep := range eps {
		ok := false
		for end := time.Now().Add(readyTimeout); time.Now().Before(end) && !ok; time.Sleep(100 * time.Millisecond) {
			if !procs[i].Alive() {
				break
			}
			if resp, err := hc.Get("https://" + ep + "/health"); err == nil {
				var b bytes.Buffer
				b.ReadFrom(resp.Body)
				resp.Body.Close()
				ok = resp.StatusCode == http.StatusOK && bytes.Contains(b.Bytes(), []byte(`"true"`))
			}
		}
		if !ok {
			return nil, nil, fmt.Errorf("multihost: etcd member %d at %s not healthy:\n%s", i, ep, procs[i].Tail(4096))
		}
	}
	return procs, eps, nil
}

// startPostgres makes and starts a PostgreSQL cluster on h's address that
// takes the lab's subnet over TLS only (a certificate from the CA in
// certDir, which the URL's sslrootcert checks). It runs as the postgres
// user when we are root, as PostgreSQL requires; its folder is outside the
// lab's (which that user may not reach) and goes when the lab closes.
func startPostgres(h *Host, certDir string) (string, error) {
	bin, err := pgBinDir()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "caiquan-multihost-pg-")
	if err != nil {
		return "", err
	}
	h.lab.onClose(func() {
		exec.Command(filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(dir, "data"), "-m", "immediate", "-w", "stop").Run()
		os.RemoveAll(dir)
	})
	own := ""
	if os.Geteuid() == 0 {
		own = "postgres"
		u, err := user.Lookup(own)
		if err != nil {
			return "", fmt.Errorf("multihost: PostgreSQL as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", err
		}
	}
	cmd := func(tool string, args ...string) *exec.Cmd {
		path := filepath.Join(bin, tool)
		if own != "" {
			return h.Command("runuser", append([]string{"-u", own, "--", path}, args...)...)
		}
		return h.Command(path, args...)
	}
	data := filepath.Join(dir, "data")
	if out, err := cmd("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		return "", fmt.Errorf("multihost: initdb: %v\n%s", err, out)
	}
	certs, err := devcert.Make(devcert.Options{Dir: certDir, Name: ClusterName, Hosts: []string{h.IP}, Prefix: "pg"})
	if err != nil {
		return "", fmt.Errorf("multihost: PostgreSQL certificate: %w", err)
	}
	// PostgreSQL reads its key as its own user, and refuses one others can read.
	for _, f := range []struct{ from, to string }{{certs.Cert, "server.crt"}, {certs.Key, "server.key"}} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			return "", err
		}
		to := filepath.Join(dir, f.to)
		if err := os.WriteFile(to, b, 0o600); err != nil {
			return "", err
		}
		if own != "" {
			u, _ := user.Lookup(own)
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			if err := os.Chown(to, uid, gid); err != nil {
				return "", err
			}
		}
	}
	hba := fmt.Sprintf("hostssl all all %s trust\n", h.lab.Subnet())
	f, err := os.OpenFile(filepath.Join(data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	f.WriteString(hba)
	f.Close()
	opts := fmt.Sprintf("-c listen_addresses=%s -p %d -c unix_socket_directories=%s -c fsync=off -c max_connections=200 -c ssl=on -c ssl_cert_file=%s -c ssl_key_file=%s",
		h.IP, PGPort, dir, filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if out, err := cmd("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return "", fmt.Errorf("multihost: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return fmt.Sprintf("postgres://postgres@%s:%d/postgres?sslmode=verify-full&sslrootcert=%s", h.IP, PGPort, certs.CA), nil
}

// pgBinDir finds initdb and pg_ctl: on PATH, else the newest under
// /usr/lib/postgresql (Debian's layout).
func pgBinDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("multihost: no pg_ctl and initdb on PATH or under /usr/lib/postgresql/*/bin (install Debian's postgresql)")
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/admin"
	"github.com/caiquan/caiquan/auth"
	"github.com/caiquan/caiquan/cluster"
	"github.com/caiquan/caiquan/config"
	"github.com/caiquan/caiquan/gateway"
	"github.com/caiquan/caiquan/internal/memguard"
	"github.com/caiquan/caiquan/internal/quietlog"
	"github.com/caiquan/caiquan/leaderboard"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/metrics"
	"github.com/caiquan/caiquan/players"
	"github.com/caiquan/caiquan/store/memory"
	"github.com/caiquan/caiquan/store/pebble"
	"github.com/caiquan/caiquan/store/postgres"
	"github.com/caiquan/caiquan/web"
)

// goAwayGrace is how long shutdown lets sessions close their own sockets,
// behind the results and void notices they hold, before it closes the
// rest.
const goAwayGrace = 2 * time.Second

// Methods of caiquan_logins_total: POST /login and POST /guest.
const (
	loginWeChat = "wechat"
	loginGuest  = "guest"
)

// Main is one server: the actor system, the game's actors and the gateway
// behind one HTTP listener. Tests and the binary build it the same way.
type Main struct {
	Config config.Config
	log    *slog.Logger
	// secrets are redacted from every log line (and from the errors run
	// prints); the admin token the server makes joins them.
	secrets *secrets
	quiet   *quietlog.Logger

	system  *actor.ActorSystem
	metrics *metrics.Metrics
	server  *actors.Server
	gateway *gateway.Gateway
	http    *http.Server
	ln      net.Listener
	certs   *certReloader // nil without tls_cert_file
	admin   *admin.Server
	adminLn net.Listener
	adminHS *http.Server
	// adminTokenFile is where the token the server made is kept; "" when
	// the token was given.
	adminTokenFile string
	metricsLn      net.Listener
	metricsHS      *http.Server
	store          caiquan.Store
	closeDB        func() error
	pebble         *pebble.Store // nil unless store is pebble
	cluster        *cluster.Node // nil on a single node
	// memory refuses new work near the memory limit; nil when off.
	memory *memguard.Guard
	// disk holds seating while the store's disk is nearly full; nil off.
	disk *diskGuard
	// stopSweep ends the guests' expiry sweep; nil when off.
	stopSweep func()
	// stopProbe ends the probes of the other members; nil on a single node.
	stopProbe func()
	done      chan error
}

// NewMain reads the configuration; nothing starts yet.
func NewMain(args []string, getenv func(string) string, logOut io.Writer) (*Main, error) {
	cfg, err := config.Load(args, getenv)
	if err != nil {
		return nil, err
	}
	sec := &secrets{}
	log := newLogger(logOut, cfg, sec)
	for _, name := range cfg.Retired {
		log.Warn("a setting of an earlier release is ignored; remove it", "setting", name, "why", config.RetiredNote(name))
	}
	return &Main{
		Config:  cfg,
		log:     log,
		secrets: sec,
		quiet:   quietlog.New(log),
		done:    make(chan error, 1),
	}, nil
}

// Redact removes every secret the server knows from text.
func (m *Main) Redact(text string) string { return m.secrets.redact(text) }

// Open starts the actors and begins to serve.
func (m *Main) Open() (err error) {
	defer func() {
		if err != nil && m.closeDB != nil {
			m.closeDB() // free the store's lock for whoever tries next
		}
		if err != nil && m.ln != nil {
			m.ln.Close()
		}
	}()
	// A certificate that does not load stops start-up before anything
	// listens or opens the store.
	if m.Config.TLSCertFile != "" {
		if m.certs, err = newCertReloader(m.Config.TLSCertFile, m.Config.TLSKeyFile); err != nil {
			return err
		}
	}
	// The game listener comes first: the cluster publishes its port.
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.ln = ln
	m.system = actor.NewActorSystemWithConfig(actor.Configure(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return m.actorLog() }),
	))
	if err := m.openCluster(); err != nil {
		return err
	}
	m.metrics = metrics.New()
	b := readBuildInfo()
	m.metrics.SetBuildInfo(b.Version, b.commitLabel(), b.Go)
	for _, o := range auth.LoginOutcomes {
		m.metrics.Logins.WithLabelValues(loginWeChat, o)
	}
	for _, o := range auth.GuestOutcomes {
		m.metrics.Logins.WithLabelValues(loginGuest, o)
	}
	if err := m.openStore(); err != nil {
		return err
	}
	// Every backend is measured the same way, behind the interface.
	m.store = m.metrics.Store(m.store)
	m.applyMemoryLimit()
	settings := actorSettings(m.Config)
	settings.Busy = m.memory.Busy
	settings.Log = m.log
	login := auth.Disabled()
	var content *auth.ContentCheck // nil: no content check
	var tokens players.Verifier    // nil: anonymous mode
	guest := auth.Off(auth.CodeGuestDisabled, "guest play is off on this server (its auth_mode is not guest)")
	if m.Config.AuthMode == config.AuthWeChat || m.Config.AuthMode == config.AuthGuest {
		signer, err := auth.NewSignerKeys(m.Config.Secrets(), m.Config.TokenTTL)
		if err != nil {
			return err
		}
		settings.Auth = signer
		tokens = signer
		m.log.Info("session tokens", "signing_key_id", auth.KeyID(m.Config.Secrets()[0]), "keys", len(m.Config.Secrets()))
		if m.Config.AuthMode == config.AuthWeChat {
			if m.Config.WeChatContentCheck {
				content = &auth.ContentCheck{Base: m.Config.WeChatAPIBase, AppID: m.Config.WeChatAppID, Secret: m.Config.WeChatSecret,
					Client: &http.Client{Timeout: m.Config.LoginTimeout}, MaxConcurrent: m.Config.WeChatMaxConcurrent}
				settings.ContentCheck = content
			}
			login = &auth.Login{
				Content: content,
				Banned:  m.banned,
				WeChat:  &auth.WeChat{Base: m.Config.WeChatAPIBase, AppID: m.Config.WeChatAppID, Secret: m.Config.WeChatSecret},
				Signer:  signer,
				Timeout: m.Config.LoginTimeout,
				Now:     time.Now,
				Log:     m.log,

				MaxConcurrent: m.Config.WeChatMaxConcurrent,
				OnBusy:        func() { m.metrics.HTTPRefused.WithLabelValues("/login", auth.CodeWeChatBusy).Inc() },
				OnOutcome:     func(o string) { m.metrics.Logins.WithLabelValues(loginWeChat, o).Inc() },
			}
		} else {
			guest = &auth.Guest{Signer: signer, RefreshWindow: m.Config.GuestRefreshWindow, Now: time.Now, Banned: m.banned,
				OnOutcome: func(o string) { m.metrics.Logins.WithLabelValues(loginGuest, o).Inc() }}
		}
	}
	if m.cluster != nil {
		settings.Placement = m.cluster
	}
	srv, err := actors.NewServer(m.system, settings, m.store, m.metrics)
	if err != nil {
		return err
	}
	m.server = srv
	if m.pebble != nil && m.Config.StoreMinFreeMiB > 0 {
		if m.disk, err = startDiskGuard(m.Config.StorePath, m.Config.StoreMinFreeMiB, srv, m.metrics, m.log); err != nil {
			return err
		}
	}
	m.startSweep()
	if m.cluster != nil {
		m.cluster.OnChange(srv.TopologyChanged)
		srv.TopologyChanged() // for a change before OnChange
	}
	// Each endpoint has its own buckets: browsing the leaderboard does not
	// spend an address's logins.
	limit := func(endpoint string, h http.Handler) http.Handler {
		return gateway.NewHTTPLimit(endpoint, m.Config.HTTPRateLimit, m.Config.HTTPRateBurst, m.metrics).Wrap(h)
	}
	board := limit(leaderboard.Path, leaderboard.Handler(m.store, m.log))
	own := &players.Handler{Store: m.store, Avatars: m.store.(caiquan.Players), Tokens: tokens, Ops: srv, Now: time.Now, Log: m.log}
	if content != nil {
		own.Check = content
	}
	// Pictures are read often (every player shows its room's) and are
	// cached by clients for good: their reads are not limited.
	upload, me := limit("/avatar", own), limit("/me", own)
	gwOpts := []gateway.Option{
		gateway.WithMetrics(m.metrics),
		gateway.WithAdmission(m.memory.Busy),
		gateway.WithRoute("/login", limit("/login", login)),
		gateway.WithRoute("/guest", limit("/guest", guest)),
		gateway.WithRoute(leaderboard.Path, board),
		gateway.WithRoute(leaderboard.Path+"/", board),
		gateway.WithRoute("/avatar", upload),
		gateway.WithRoute(players.AvatarsPath, own),
		gateway.WithRoute("/me", me),
		gateway.WithRoute("/me/", me),
		gateway.WithStatic(web.Handler()),
	}
	if m.cluster != nil {
		gwOpts = append(gwOpts, gateway.WithPeers(clusterPeers{m.cluster}))
	}
	m.gateway, err = gateway.New(gatewayConfig(m.Config), srv, m.log, gwOpts...)
	if err != nil {
		return err
	}
	if err := m.openAdmin(); err != nil {
		return err
	}
	if err := m.openMetrics(); err != nil {
		return err
	}
	if err := m.openPprof(); err != nil {
		return err
	}
	m.observeCluster()
	m.http = m.httpServer(m.gateway, "game")
	serve := ln
	if m.certs != nil {
		serve = tls.NewListener(ln, m.certs.tlsConfig())
	}
	go func() {
		if err := m.gateway.Serve(m.http, serve); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.done <- err
		}
	}()
	m.log.Info("serving", "addr", ln.Addr().String(), "socketio_prefix", m.Config.SocketIOPrefix,
		"store", m.Config.Store, "auth_mode", m.Config.AuthMode, "max_connections", maxConnections(m.Config), "tls", m.certs != nil)
	return nil
}

// openStore opens the player store the configuration names.
func (m *Main) openStore() error {
	switch m.Config.Store {
	case config.StorePebble:
		if _, err := pebble.Migrate(m.Config.StorePath, m.log); err != nil {
			return fmt.Errorf("store_path: %w", err)
		}
		s, err := pebble.Open(m.Config.StorePath, pebble.Options{
			Log:          m.log,
			WriteVersion: m.Config.StoreWriteVersion,
			OnDamaged:    func(string, error) { m.metrics.DamagedRecords.Inc() },
		})
		if err != nil {
			return fmt.Errorf("store_path: %w", err)
		}
		m.store, m.closeDB, m.pebble = s, s.Close, s
	case config.StorePostgres:
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		s, err := postgres.Open(ctx, m.Config.PostgresURL, postgres.Options{
			Log:          m.log,
			WriteVersion: m.Config.StoreWriteVersion,
			OnDamaged:    func(string, error) { m.metrics.DamagedRecords.Inc() },
		})
		if err != nil {
			return fmt.Errorf("postgres_url: %w", err)
		}
		m.store, m.closeDB = s, s.Close
	default:
		m.store, m.closeDB = memory.New(), func() error { return nil }
	}
	return nil
}

// banned says whether an operator banned uid, for /login.
func (m *Main) banned(uid string) (bool, error) {
	rec, err := m.store.Load(uid)
	return rec.Banned, err
}

// openAdmin serves the admin API on its own listener, unless turned off.
// Without admin_token it uses the token in admin_token_file, or makes one
// and writes it there: the API never runs without a token.
func (m *Main) openAdmin() error {
	if m.Config.AdminListen == "" {
		return nil
	}
	token := m.Config.AdminToken
	if token == "" {
		tok, made, err := admin.LoadOrCreateToken(m.Config.AdminTokenFile)
		if err != nil {
			return err
		}
		m.secrets.add(tok)
		token, m.adminTokenFile = tok, m.Config.AdminTokenFile
		if made {
			m.log.Info("admin token made", "file", m.adminTokenFile)
		}
	}
	ln, err := net.Listen("tcp", m.Config.AdminListen)
	if err != nil {
		return fmt.Errorf("admin_listen: %w", err)
	}
	m.adminLn = ln
	m.admin = admin.New(m.server, token, ln.Addr().String(), m.log)
	m.admin.HandlePlayers(m.server)
	if m.pebble != nil {
		m.admin.HandleCheckpoints(checkpoints{s: m.pebble, dir: m.Config.StorePath + ".checkpoints"})
	}
	m.adminHS = m.httpServer(m.admin, "admin")
	go func() {
		if err := m.adminHS.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.done <- err
		}
	}()
	if m.adminTokenFile != "" {
		m.log.Info("admin API", "addr", ln.Addr().String(), "token_file", m.adminTokenFile)
	} else {
		m.log.Info("admin API", "addr", ln.Addr().String(), "token", "admin_token")
	}
	return nil
}

// openMetrics serves /metrics, and only that, on its own listener, unless
// turned off: whoever scrapes it holds no key to the admin API.
func (m *Main) openMetrics() error {
	if m.Config.MetricsListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics_listen: %w", err)
	}
	m.metricsLn = ln
	m.metricsHS = m.httpServer(m.metrics.Endpoint(m.Config.MetricsToken), "metrics")
	go func() {
		if err := m.metricsHS.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.done <- err
		}
	}()
	m.log.Info("metrics", "addr", ln.Addr().String(), "token_required", m.Config.MetricsToken != "")
	if host, _, _ := net.SplitHostPort(m.Config.MetricsListen); !config.IsLoopback(host) && m.Config.MetricsToken == "" {
		m.log.Warn("metrics listen beyond loopback without metrics_token: let only the scraper reach it", "addr", ln.Addr().String())
	}
	return nil
}

// httpServer is every HTTP listener's server: a slow or idle client is
// closed by the standard library's own timeouts, and headers are bounded.
func (m *Main) httpServer(h http.Handler, name string) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: m.Config.HTTPReadHeaderTimeout,
		IdleTimeout:       m.Config.HTTPIdleTimeout,
		MaxHeaderBytes:    m.Config.HTTPMaxHeaderBytes,
		ErrorLog:          httpErrorLog(m.quiet, name),
	}
}

// AdminAddr is the admin API's address, or "" when it is off.
func (m *Main) AdminAddr() string {
	if m.adminLn == nil {
		return ""
	}
	return m.adminLn.Addr().String()
}

// MetricsAddr is the metrics listener's address, or "" when it is off.
func (m *Main) MetricsAddr() string {
	if m.metricsLn == nil {
		return ""
	}
	return m.metricsLn.Addr().String()
}

// actorLog keeps protoactor's own chatter (dead letters, supervision
// notes) to warnings and worse. The game's actors have their own
// (actors.Settings.Log).
func (m *Main) actorLog() *slog.Logger {
	return slog.New(warnOnly{withLib(m.log.Handler(), libProtoactor)})
}

// Addr is the address the server listens on (useful with port 0).
func (m *Main) Addr() string { return m.ln.Addr().String() }

// Done reports a listener that failed on its own.
func (m *Main) Done() <-chan error { return m.done }

// Close drains: no new rounds, rounds in progress finish (up to the drain
// timeout), then every socket closes with going-away and the actors stop.
func (m *Main) Close() error {
	m.log.Info("draining", "timeout", m.Config.DrainTimeout)
	if m.admin != nil {
		m.admin.Close() // no chaos during the drain
	}
	m.gateway.SetDraining()
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.DrainTimeout)
	defer cancel()
	if err := m.server.Drain(ctx); err != nil {
		// Out of time: the rounds still running end now, with a void
		// notice that must reach the sockets before they close.
		m.log.Warn("drain incomplete; voiding rounds in progress", "err", err)
		vctx, vcancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := m.server.StopRooms(vctx); err != nil {
			m.log.Warn("rooms still running at shutdown", "err", err)
		}
		vcancel()
	}
	// The last results and voids may still be in the sessions' mailboxes:
	// each session closes its socket behind them. The gateway closes
	// whatever is left after a moment.
	m.server.GoAway("server shutting down")
	gctx, gcancel := context.WithTimeout(context.Background(), goAwayGrace)
	m.gateway.WaitIdle(gctx)
	gcancel()
	m.gateway.CloseAll(messages.CloseGoingAway, "server shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer scancel()
	// Upgraded sockets are not the HTTP server's any more: wait for their
	// goroutines (and every Session.Closed) before the actors stop.
	if err := m.gateway.WaitIdle(sctx); err != nil {
		m.log.Warn("connections still open at shutdown", "count", m.gateway.OpenConns())
	}
	err := m.http.Shutdown(sctx)
	if m.adminHS != nil {
		m.adminHS.Shutdown(sctx)
	}
	if m.metricsHS != nil {
		m.metricsHS.Shutdown(sctx)
	}
	if m.stopSweep != nil {
		m.stopSweep()
	}
	if m.stopProbe != nil {
		m.stopProbe()
	}
	m.stopActors()
	if m.disk != nil {
		m.disk.close()
	}
	// The players are stopped: no Save can be under way.
	if dbErr := m.closeDB(); dbErr != nil {
		m.log.Warn("closing the store", "err", dbErr)
	}
	if m.memory != nil {
		m.memory.Stop()
	}
	m.log.Info("stopped")
	return err
}

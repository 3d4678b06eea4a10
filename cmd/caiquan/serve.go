package main

import (
	"context"
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
	"github.com/caiquan/caiquan/leaderboard"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/metrics"
	"github.com/caiquan/caiquan/store/bolt"
	"github.com/caiquan/caiquan/store/memory"
	"github.com/caiquan/caiquan/store/postgres"
	"github.com/caiquan/caiquan/web"
)

// goAwayGrace is how long shutdown lets sessions close their own sockets,
// behind the results and void notices they hold, before it closes the
// rest.
const goAwayGrace = 2 * time.Second

// Main is one server: the actor system, the game's actors and the gateway
// behind one HTTP listener. Tests and the binary build it the same way.
type Main struct {
	Config config.Config
	log    *slog.Logger

	system  *actor.ActorSystem
	metrics *metrics.Metrics
	server  *actors.Server
	gateway *gateway.Gateway
	http    *http.Server
	ln      net.Listener
	admin   *admin.Server
	adminLn net.Listener
	adminHS *http.Server
	store   caiquan.Store
	closeDB func() error
	cluster *cluster.Node // nil on a single node
	// memory refuses new work near the memory limit; nil when off.
	memory *memguard.Guard
	done   chan error
}

// NewMain reads the configuration; nothing starts yet.
func NewMain(args []string, getenv func(string) string, logOut io.Writer) (*Main, error) {
	cfg, err := config.Load(args, getenv)
	if err != nil {
		return nil, err
	}
	return &Main{
		Config: cfg,
		log:    slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo})),
		done:   make(chan error, 1),
	}, nil
}

// Open starts the actors and begins to serve.
func (m *Main) Open() (err error) {
	defer func() {
		if err != nil && m.closeDB != nil {
			m.closeDB() // free the bbolt file for whoever tries next
		}
	}()
	m.system = actor.NewActorSystemWithConfig(actor.Configure(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return m.actorLog() }),
	))
	if err := m.openCluster(); err != nil {
		return err
	}
	m.metrics = metrics.New()
	if err := m.openStore(); err != nil {
		return err
	}
	m.applyMemoryLimit()
	settings := actorSettings(m.Config)
	settings.Busy = m.memory.Busy
	login := auth.Disabled()
	if m.Config.AuthMode == config.AuthWeChat {
		signer, err := auth.NewSigner(m.Config.AuthSecret, m.Config.TokenTTL)
		if err != nil {
			return err
		}
		settings.Auth = signer
		login = &auth.Login{
			WeChat:  &auth.WeChat{Base: m.Config.WeChatAPIBase, AppID: m.Config.WeChatAppID, Secret: m.Config.WeChatSecret},
			Signer:  signer,
			Timeout: m.Config.LoginTimeout,
			Now:     time.Now,
			Log:     m.log,
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
	if m.cluster != nil {
		m.cluster.OnChange(srv.TopologyChanged)
		srv.TopologyChanged() // for a change before OnChange
	}
	board := leaderboard.Handler(m.store, m.log)
	m.gateway, err = gateway.New(gatewayConfig(m.Config), srv, m.log,
		gateway.WithMetrics(m.metrics),
		gateway.WithAdmission(m.memory.Busy),
		gateway.WithRoute("/login", login),
		gateway.WithRoute(leaderboard.Path, board),
		gateway.WithRoute(leaderboard.Path+"/", board),
		gateway.WithStatic(web.Handler()))
	if err != nil {
		return err
	}
	if err := m.openAdmin(); err != nil {
		return err
	}
	if err := m.openPprof(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.ln = ln
	m.http = &http.Server{Handler: m.gateway, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.done <- err
		}
	}()
	m.log.Info("serving", "addr", ln.Addr().String(), "socketio_prefix", m.Config.SocketIOPrefix,
		"store", m.Config.Store, "auth_mode", m.Config.AuthMode)
	return nil
}

// openStore opens the player store the configuration names.
func (m *Main) openStore() error {
	switch m.Config.Store {
	case config.StoreBolt:
		s, err := bolt.Open(m.Config.StorePath)
		if err != nil {
			return fmt.Errorf("store_path: %w", err)
		}
		m.store, m.closeDB = s, s.Close
	case config.StorePostgres:
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		s, err := postgres.Open(ctx, m.Config.PostgresURL)
		if err != nil {
			return fmt.Errorf("postgres_url: %w", err)
		}
		m.store, m.closeDB = s, s.Close
	default:
		m.store, m.closeDB = memory.New(), func() error { return nil }
	}
	return nil
}

// openAdmin serves the admin API on its own listener, unless turned off.
func (m *Main) openAdmin() error {
	if m.Config.AdminListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.AdminListen)
	if err != nil {
		return fmt.Errorf("admin listen: %w", err)
	}
	m.adminLn = ln
	m.admin = admin.New(m.server, m.metrics, m.Config.AdminToken, m.log)
	m.adminHS = &http.Server{Handler: m.admin, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.adminHS.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.done <- err
		}
	}()
	m.log.Info("admin API", "addr", ln.Addr().String(), "token_required", m.Config.AdminToken != "")
	return nil
}

// AdminAddr is the admin API's address, or "" when it is off.
func (m *Main) AdminAddr() string {
	if m.adminLn == nil {
		return ""
	}
	return m.adminLn.Addr().String()
}

// actorLog keeps protoactor's own chatter (dead letters, supervision
// notes) to warnings and worse.
func (m *Main) actorLog() *slog.Logger {
	return slog.New(warnOnly{m.log.Handler()})
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
	m.stopActors()
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

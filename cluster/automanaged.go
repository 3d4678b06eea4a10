package cluster

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/labstack/echo"
)

// openAutomanaged makes the automanaged provider answer health checks on
// PeerListen, which Validate keeps on loopback: the library's health
// checks are plain HTTP on echo, with nothing to authenticate a peer.
// The library binds its own server to 0.0.0.0 (automanaged.go:181);
// handing it an echo server whose listener we opened keeps it on the
// address we were given (echo's StartServer uses a set Listener).
func (n *Node) openAutomanaged() (pcluster.ClusterProvider, error) {
	ln, err := net.Listen("tcp", n.cfg.PeerListen)
	if err != nil {
		return nil, fmt.Errorf("cluster: peer listen %s: %w", n.cfg.PeerListen, err)
	}
	n.peerLn = ln
	_, portStr, _ := net.SplitHostPort(ln.Addr().String())
	peerPort, _ := strconv.Atoi(portStr)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Listener = ln
	// echo's server has no timeouts of its own; Validate keeps this
	// listener on loopback, and these keep a stuck client from holding it.
	e.Server.ReadHeaderTimeout = 5 * time.Second
	e.Server.ReadTimeout = 5 * time.Second
	e.Server.WriteTimeout = 5 * time.Second
	e.Server.IdleTimeout = 60 * time.Second
	e.Server.MaxHeaderBytes = 8 << 10
	e.GET("/_health", func(c echo.Context) error {
		host, port, err := n.system.GetHostPort()
		if err != nil || n.c == nil {
			return c.NoContent(http.StatusServiceUnavailable)
		}
		if n.isFenced.Load() {
			// A fenced member stops answering, so the others drop it.
			return c.NoContent(http.StatusServiceUnavailable)
		}
		return c.JSON(http.StatusOK, automanaged.NewNode(n.cfg.Name, n.system.ID, host, port, peerPort, n.c.GetClusterKinds()))
	})
	return automanaged.NewWithTesting(automanagedRefresh, peerPort, e, n.cfg.Peers...), nil
}

package kvnode

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// checkKey returns the error of a key the API refuses: an empty one, or
// one longer than Config.MaxKeyBytes, which would otherwise be replicated,
// logged and held in memory by every member.
func (c *Config) checkKey(key string) *Error {
	switch {
	case key == "":
		return &Error{Code: CodeBadRequest, Message: "empty key"}
	case len(key) > c.MaxKeyBytes:
		return &Error{Code: CodeKeyTooLarge, Message: fmt.Sprintf("the key has %d bytes, the limit is %d", len(key), c.MaxKeyBytes)}
	}
	return nil
}

// maxHeaderWait bounds the reading of a request's headers.
const maxHeaderWait = 5 * time.Second

// newHTTPServer returns the HTTP server with every timeout set, so that
// neither a client sending slowly nor an idle keep-alive connection holds
// a connection forever: headers within min(5 s, HTTPReadTimeout), the
// whole request within HTTPReadTimeout, the answer within
// HTTPWriteTimeout, and HTTPIdleTimeout between requests.
func (n *Node) newHTTPServer() *http.Server {
	c := &n.cfg
	return &http.Server{
		Handler:           n.handler(),
		ReadHeaderTimeout: min(maxHeaderWait, c.HTTPReadTimeout),
		ReadTimeout:       c.HTTPReadTimeout,
		WriteTimeout:      c.HTTPWriteTimeout,
		IdleTimeout:       c.HTTPIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
	}
}

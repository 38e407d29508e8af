package kvnode

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"
)

// adminOnly wraps h so that it runs only for an admin: a request carrying
// "Authorization: Bearer <Config.AdminToken>", or anyone when the node was
// started with InsecureAdmin. Without a token configured it answers 403
// forbidden; with one, a missing or wrong token answers 401 unauthorized.
func (n *Node) adminOnly(h http.HandlerFunc) http.HandlerFunc {
	return adminGuard(&n.cfg, h)
}

// adminGuard wraps h so that it runs only for an admin of a process
// configured as c (see Node.adminOnly).
func adminGuard(c *Config, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if e := c.checkAdmin(req); e != nil {
			if e.Code == CodeUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="kvexample admin"`)
			}
			writeError(w, e)
			return
		}
		h(w, req)
	}
}

// checkAdmin returns the error of a request that may not use the admin
// endpoints, or nil.
func (n *Node) checkAdmin(req *http.Request) *Error { return n.cfg.checkAdmin(req) }

// checkAdmin returns the error of a request that may not use the admin
// endpoints of a process configured as c, or nil.
func (c *Config) checkAdmin(req *http.Request) *Error {
	if c.InsecureAdmin {
		return nil
	}
	if c.AdminToken == "" {
		return &Error{Code: CodeForbidden, Message: "admin endpoints are disabled: start the node with -admin-token (or -insecure-admin on a trusted network)"}
	}
	got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok || !tokenEqual(got, c.AdminToken) {
		return &Error{Code: CodeUnauthorized, Message: `admin endpoints need "Authorization: Bearer <admin token>"`}
	}
	return nil
}

// tokenEqual compares two tokens in time independent of where they differ
// and of their lengths: it compares their SHA-256 digests.
func tokenEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// registerPprof serves net/http/pprof under /debug/pprof/ on mux (not on
// http.DefaultServeMux), behind the admin guard. Profiles and traces
// stream for as long as the client asks, so these handlers lift the
// server's write deadline.
func (n *Node) registerPprof(mux *http.ServeMux) {
	streaming := func(h http.HandlerFunc) http.HandlerFunc {
		return n.adminOnly(func(w http.ResponseWriter, req *http.Request) {
			http.NewResponseController(w).SetWriteDeadline(time.Time{})
			h(w, req)
		})
	}
	mux.HandleFunc("GET /debug/pprof/", streaming(pprof.Index))
	mux.HandleFunc("GET /debug/pprof/cmdline", streaming(pprof.Cmdline))
	mux.HandleFunc("GET /debug/pprof/profile", streaming(pprof.Profile))
	mux.HandleFunc("GET /debug/pprof/symbol", streaming(pprof.Symbol))
	mux.HandleFunc("POST /debug/pprof/symbol", streaming(pprof.Symbol))
	mux.HandleFunc("GET /debug/pprof/trace", streaming(pprof.Trace))
}

// jsonFallbacks answers the requests mux has no route for (404) or no
// method for (405) with an Error in JSON, like every other failure; any
// other answer of mux's own (a redirect to a cleaned path) passes through.
func jsonFallbacks(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h, pattern := mux.Handler(req)
		if pattern != "" {
			mux.ServeHTTP(w, req)
			return
		}
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, req)
		switch rec.status {
		case http.StatusNotFound:
			writeError(w, &Error{Code: CodeNotFound, Message: "no such endpoint: " + req.Method + " " + req.URL.Path})
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", rec.header.Get("Allow"))
			writeError(w, &Error{Code: CodeMethodNotAllowed, Message: req.Method + " is not allowed on " + req.URL.Path + "; allowed: " + rec.header.Get("Allow")})
		default:
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			w.Write(rec.body.Bytes())
		}
	})
}

// recorder captures the answer of one of the mux's own handlers (not
// found, method not allowed, redirect), which are small.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

package kvnode

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// answer is an HTTP answer as a test sees it.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    Error // the body decoded as an Error, when it is one
}

// rawCall makes one HTTP request to addr, with the bearer token when it is
// not empty, and returns the answer without any of Client's retries.
func rawCall(t *testing.T, addr, method, path, token string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	json.Unmarshal(b, &a.err)
	return a
}

// expectError fails the test unless a is a JSON Error with the status and
// code given.
func expectError(t *testing.T, what string, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.err.Code != code || a.err.Message == "" {
		t.Fatalf("%s: %d %s; want %d with a JSON error of code %q and a message", what, a.status, a.body, status, code)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: Content-Type %q, want application/json", what, ct)
	}
}

// Claim: the admin endpoints answer 401 without the configured token or
// with a wrong one, and serve the right one; /debug/pprof/ is one of them.
func TestAdminEndpointsNeedTheToken(t *testing.T) {
	tc := newTestCluster(t, 1, testConfig())
	tc.leader()
	addr := tc.peer(1).HTTPAddr
	p4 := tc.peer(4)
	add, _ := json.Marshal(MemberRequest{ID: 4, Raft: p4.RaftAddr, HTTP: p4.HTTPAddr})
	for _, token := range []string{"", "wrong", testAdminToken + "x", testAdminToken[:5]} {
		expectError(t, "add with token "+token, rawCall(t, addr, "POST", "/members", token, add), 401, CodeUnauthorized)
		expectError(t, "transfer with token "+token, rawCall(t, addr, "POST", "/leader", token, []byte(`{"id":1}`)), 401, CodeUnauthorized)
		expectError(t, "remove with token "+token, rawCall(t, addr, "DELETE", "/members/1", token, nil), 401, CodeUnauthorized)
		expectError(t, "pprof with token "+token, rawCall(t, addr, "GET", "/debug/pprof/", token, nil), 401, CodeUnauthorized)
	}
	if st := tc.status(1); len(st.Learners) != 0 || !slices.Equal(st.Voters, []uint64{1}) {
		t.Fatalf("refused requests changed the configuration: voters %v learners %v", st.Voters, st.Learners)
	}
	if a := rawCall(t, addr, "POST", "/members", testAdminToken, add); a.status != 200 {
		t.Fatalf("add with the token: %d %s", a.status, a.body)
	}
	if a := rawCall(t, addr, "GET", "/debug/pprof/cmdline", testAdminToken, nil); a.status != 200 || len(a.body) == 0 {
		t.Fatalf("pprof with the token: %d %s", a.status, a.body)
	}
}

// Claim: with no admin token configured the admin endpoints answer 403,
// unless InsecureAdmin opens them; the data endpoints are open either way.
func TestAdminEndpointsAreClosedWithoutATokenUnlessInsecure(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		cfg := testConfig()
		cfg.AdminToken, cfg.InsecureAdmin = "", insecure
		tc := newTestCluster(t, 1, cfg)
		tc.leader()
		addr := tc.peer(1).HTTPAddr
		if _, err := tc.c.Put(tc.ctx(), "k", []byte("v")); err != nil {
			t.Fatalf("insecure=%v: put: %v", insecure, err)
		}
		a := rawCall(t, addr, "GET", "/debug/pprof/", "anything", nil)
		b := rawCall(t, addr, "POST", "/leader", "", []byte(`{"id":1}`))
		if insecure {
			if a.status != 200 || b.status != 200 {
				t.Fatalf("insecure: pprof %d, transfer %d %s; want 200s", a.status, b.status, b.body)
			}
			continue
		}
		expectError(t, "pprof without a configured token", a, 403, CodeForbidden)
		expectError(t, "transfer without a configured token", b, 403, CodeForbidden)
	}
}

// Claim: the membership endpoints refuse what does not fit the
// configuration, naming the reason, and change nothing: promote of a node
// never added, remove of a non-member, add of a member, promote of a voter.
func TestAdminRefusesMembershipChangesThatDoNotFit(t *testing.T) {
	tc := newTestCluster(t, 3, testConfig())
	lead := tc.leader()
	addr := tc.peer(lead).HTTPAddr
	tok := testAdminToken
	p4 := tc.peer(4)
	add, _ := json.Marshal(MemberRequest{ID: 4, Raft: p4.RaftAddr, HTTP: p4.HTTPAddr})
	if err := tc.c.AddLearner(tc.ctx(), 4, p4.RaftAddr, p4.HTTPAddr); err != nil {
		t.Fatal(err)
	}
	tc.waitFor("every node to apply learner 4", func() bool {
		for id := uint64(1); id <= 3; id++ {
			if st := tc.status(id); st == nil || !slices.Equal(st.Learners, []uint64{4}) {
				return false
			}
		}
		return true
	})
	expectError(t, "promote of 12345", rawCall(t, addr, "POST", "/members/12345/promote", tok, nil), 404, CodeUnknownMember)
	expectError(t, "remove of 99999", rawCall(t, addr, "DELETE", "/members/99999", tok, nil), 404, CodeUnknownMember)
	expectError(t, "add of 4 again", rawCall(t, addr, "POST", "/members", tok, add), 409, CodeAlreadyMember)
	again, _ := json.Marshal(MemberRequest{ID: lead, Raft: p4.RaftAddr})
	expectError(t, "add of a voter", rawCall(t, addr, "POST", "/members", tok, again), 409, CodeAlreadyMember)
	expectError(t, "promote of a voter", rawCall(t, addr, "POST", "/members/2/promote", tok, nil), 409, CodeNotLearner)
	if err := tc.c.Promote(tc.ctx(), 12345); err == nil || err.(*Error).Code != CodeUnknownMember {
		t.Fatalf("Client.Promote(12345) = %v; want an unknown_member error at once", err)
	}
	for id := uint64(1); id <= 3; id++ {
		st := tc.status(id)
		if !slices.Equal(st.Voters, []uint64{1, 2, 3}) || !slices.Equal(st.Learners, []uint64{4}) {
			t.Fatalf("node %d after the refusals: voters %v learners %v; want [1 2 3] and [4]", id, st.Voters, st.Learners)
		}
	}
}

// Claim: a route that does not exist answers 404 and a method a route does
// not take answers 405 with Allow, both as JSON errors; a follower answers
// a write with 503, Retry-After and the leader in the body.
func TestErrorsAreJSONWithTheStatusHTTPClientsExpect(t *testing.T) {
	tc := newTestCluster(t, 3, testConfig())
	lead := tc.leader()
	follower := tc.peer(lead%3 + 1).HTTPAddr
	expectError(t, "GET /nope", rawCall(t, follower, "GET", "/nope", "", nil), 404, CodeNotFound)
	a := rawCall(t, follower, "PATCH", "/kv/x", "", nil)
	expectError(t, "PATCH /kv/x", a, 405, CodeMethodNotAllowed)
	if allow := a.header.Get("Allow"); !strings.Contains(allow, "PUT") || !strings.Contains(allow, "GET") {
		t.Fatalf("405 Allow %q; want PUT and GET in it", allow)
	}
	a = rawCall(t, follower, "PUT", "/kv/x", "", []byte("v"))
	expectError(t, "PUT on a follower", a, 503, CodeNotLeader)
	if a.err.Leader != tc.peer(lead).HTTPAddr || a.err.LeaderID != lead || a.header.Get("Retry-After") == "" {
		t.Fatalf("not_leader: %s, Retry-After %q; want leader %d at %s and a Retry-After",
			a.body, a.header.Get("Retry-After"), lead, tc.peer(lead).HTTPAddr)
	}
}

// Claim: a key longer than MaxKeyBytes is refused with 400 key_too_large,
// on writes and reads; a key of exactly MaxKeyBytes is served.
func TestKeysAboveTheLimitAreRefused(t *testing.T) {
	tc := newTestCluster(t, 1, testConfig())
	tc.leader()
	addr := tc.peer(1).HTTPAddr
	long := strings.Repeat("k", DefaultMaxKeyBytes+1)
	expectError(t, "put of a long key", rawCall(t, addr, "PUT", "/kv/"+long, "", []byte("v")), 400, CodeKeyTooLarge)
	expectError(t, "get of a long key", rawCall(t, addr, "GET", "/kv/"+long, "", nil), 400, CodeKeyTooLarge)
	if _, err := tc.c.Put(tc.ctx(), long[1:], []byte("v")); err != nil {
		t.Fatalf("put of a key of %d bytes: %v", DefaultMaxKeyBytes, err)
	}
	if st := tc.status(1); st.Keys != 1 {
		t.Fatalf("the node holds %d keys, want 1: the long key was stored", st.Keys)
	}
}

// snakeKey matches the keys /status may use; member and progress maps are
// keyed by node IDs.
var snakeKey = regexp.MustCompile(`^([a-z][a-z0-9]*(_[a-z0-9]+)*|[0-9]+)$`)

// Claim: every key of GET /status, at every depth, is snake_case.
func TestStatusKeysAreSnakeCase(t *testing.T) {
	tc := newTestCluster(t, 1, testConfig())
	tc.leader()
	tc.put("s", 3)
	a := rawCall(t, tc.peer(1).HTTPAddr, "GET", "/status", "", nil)
	var v any
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatal(err)
	}
	var bad []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if !snakeKey.MatchString(k) {
					bad = append(bad, path+"."+k)
				}
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		}
	}
	walk("", v)
	if len(bad) > 0 || !bytes.Contains(a.body, []byte(`"frames_received"`)) {
		t.Fatalf("keys not in snake_case: %v\n%s", bad, a.body)
	}
}

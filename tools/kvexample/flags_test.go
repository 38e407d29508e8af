package main

import (
	"strings"
	"testing"
)

// Claim: an incoherent set of flags is a startup error that names what is
// missing or contradicts; a coherent one parses.
func TestIncoherentFlagsAreStartupErrors(t *testing.T) {
	peers := "1=127.0.0.1:7001=127.0.0.1:8001,2=127.0.0.1:7002=127.0.0.1:8002"
	for _, tc := range []struct {
		name string
		args []string
		want string // "" for no error
	}{
		{"coherent", []string{"-id", "1", "-raft-addr", "127.0.0.1:7001", "-peers", peers, "-admin-token", "t"}, ""},
		{"single node", []string{"-id", "1"}, ""},
		{"no id", []string{"-raft-addr", "127.0.0.1:7001", "-peers", peers}, "-id is missing"},
		{"join without peers", []string{"-id", "4", "-join"}, "-join needs -peers"},
		{"token and insecure", []string{"-id", "1", "-admin-token", "t", "-insecure-admin"}, "contradict"},
		{"peers with port 0", []string{"-id", "1", "-peers", peers}, "port 0"},
		{"part of TLS", []string{"-id", "1", "-tls-cert", "c.pem", "-cluster-id", "prod"}, "missing [-tls-key -tls-ca]"},
		{"cluster ID alone", []string{"-id", "1", "-cluster-id", "prod"}, ""},
		{"groups", []string{"-id", "1", "-groups", "100"}, ""},
		{"no groups", []string{"-id", "1", "-groups", "0"}, "-groups must be at least 1"},
		{"groups and join", []string{"-id", "4", "-groups", "8", "-join", "-peers", peers}, "contradict"},
		{"group voters", []string{"-id", "1", "-groups", "8", "-group-voters", "1,2,3"}, ""},
		{"group voters without groups", []string{"-id", "1", "-group-voters", "1,2"}, "needs -groups"},
		{"bad group voters", []string{"-id", "1", "-groups", "8", "-group-voters", "1,x"}, "want process IDs"},
		{"peers disagree", []string{"-id", "1", "-raft-addr", "127.0.0.1:7009", "-peers", peers}, "give the same address"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Setenv(adminTokenEnv, "")
			_, err := parseFlags(tc.args)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("parseFlags(%q): %v; want no error", tc.args, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("parseFlags(%q): %v; want an error saying %q", tc.args, err, tc.want)
			}
		})
	}
}

// Claim: the admin token may come from the environment instead of the
// command line, where the process list would show it.
func TestAdminTokenComesFromTheEnvironment(t *testing.T) {
	t.Setenv(adminTokenEnv, "from-env")
	o, err := parseFlags([]string{"-id", "1"})
	if err != nil || o.cfg.AdminToken != "from-env" {
		t.Fatalf("parseFlags: token %q, %v; want from-env", o.cfg.AdminToken, err)
	}
}

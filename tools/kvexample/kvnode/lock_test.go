package kvnode

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// Claim: while a node runs, a second node refuses its data directory with
// ErrDataDirLocked and touches nothing; once the first stops, or is killed,
// the directory opens again.
func TestDataDirectoryIsLockedWhileANodeRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "n1")
	cfg := testConfig()
	cfg.ID, cfg.DataDir, cfg.RaftAddr, cfg.HTTPAddr = 1, dir, "127.0.0.1:0", "127.0.0.1:0"
	first, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if second, err := Start(cfg); !errors.Is(err, ErrDataDirLocked) {
		if second != nil {
			second.Stop()
		}
		first.Stop()
		t.Fatalf("second Start on a directory in use: %v; want ErrDataDirLocked", err)
	}
	first.Kill()
	again, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start after Kill: %v", err)
	}
	if err := again.Stop(); err != nil {
		t.Fatal(err)
	}
	last, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	last.Stop()
}

// Claim: Start refuses a configuration whose parts contradict each other,
// saying what is missing.
func TestStartRefusesIncoherentConfigs(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"join without peers", func(c *Config) { c.Join = true }, "Join (-join) needs Peers"},
		{"token and insecure", func(c *Config) { c.AdminToken, c.InsecureAdmin = "x", true }, "contradict"},
		{"frames too small", func(c *Config) { c.MaxFrameBytes = 1 << 20 }, "MaxFrameBytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.ID, cfg.DataDir, cfg.RaftAddr, cfg.HTTPAddr = 1, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
			tc.edit(&cfg)
			n, err := Start(cfg)
			if err == nil {
				n.Stop()
			}
			if !errors.Is(err, ErrInvalidConfig) || !contains(err.Error(), tc.want) {
				t.Fatalf("Start: %v; want ErrInvalidConfig saying %q", err, tc.want)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

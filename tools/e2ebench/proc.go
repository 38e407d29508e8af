package e2ebench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopWait bounds how long a stopped process may take to exit after SIGTERM
// before it is killed.
const stopWait = 5 * time.Second

// proc is one server process started by the driver.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
}

// startProc starts bin with args, its output to logPath, in a process group
// of its own that receives SIGKILL if the driver dies.
func startProc(name, bin string, args, env []string, logPath string) (*proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: lf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid is the process's ID.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited tells whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process: SIGTERM to its group, SIGKILL after stopWait.
func (p *proc) stop() {
	if !p.exited() {
		_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopWait):
			_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(stopWait):
			}
		}
	}
	p.log.Close()
}

// registry holds every process started and not yet stopped, so that an
// interrupt or a failure stops them all.
type registry struct {
	mu    sync.Mutex
	procs map[*proc]bool
}

var running = &registry{procs: map[*proc]bool{}}

func (r *registry) add(p *proc) {
	r.mu.Lock()
	r.procs[p] = true
	r.mu.Unlock()
}

func (r *registry) remove(p *proc) {
	r.mu.Lock()
	delete(r.procs, p)
	r.mu.Unlock()
}

// StopAll stops every process the driver started that is still running. The
// command calls it on interrupt; it is safe to call at any time.
func StopAll() {
	running.mu.Lock()
	ps := make([]*proc, 0, len(running.procs))
	for p := range running.procs {
		ps = append(ps, p)
	}
	running.procs = map[*proc]bool{}
	running.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func(p *proc) { defer wg.Done(); p.stop() }(p)
	}
	wg.Wait()
}

// usage is what the kernel has counted for a process: CPU time in clock ticks
// and bytes it caused to be written to the block device.
type usage struct {
	cpuTicks   uint64
	writeBytes uint64
}

// clockTicksPerSecond is USER_HZ, the unit of utime and stime in
// /proc/PID/stat (100 on every Linux architecture Go supports).
const clockTicksPerSecond = 100

// readUsage reads /proc/PID/stat (utime + stime) and /proc/PID/io
// (write_bytes).
func readUsage(pid int) (usage, error) {
	var u usage
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// The command name may hold spaces: fields start after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return u, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	// After ')': state(3) ... utime is field 14, stime 15 (1-based overall).
	if len(f) < 13 {
		return u, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return u, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	u.cpuTicks = ut + st
	io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(io), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			u.writeBytes, err = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return u, fmt.Errorf("/proc/%d/io: %w", pid, err)
			}
		}
	}
	return u, nil
}

package walbench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// countedSyscalls are the system calls a measurement counts: those that
// make data durable, and those that write or size files.
var countedSyscalls = []string{
	"fsync", "fdatasync", "sync_file_range", "msync", "syncfs",
	"write", "pwrite64", "writev", "fallocate", "ftruncate",
}

// syncSyscalls are the counted calls that wait for the disk.
var syncSyscalls = []string{"fsync", "fdatasync", "sync_file_range", "msync", "syncfs"}

// writeSyscalls are the counted calls that hand data to the kernel.
var writeSyscalls = []string{"write", "pwrite64", "writev"}

// SyscallCounts maps a system call's name to how often a process and all
// its threads made it.
type SyscallCounts map[string]int64

// sum returns the total of the named calls.
func (c SyscallCounts) sum(names []string) int64 {
	var n int64
	for _, name := range names {
		n += c[name]
	}
	return n
}

// Counter runs a command with the kernel counting its system calls, from
// outside the process: perf stat on the syscalls tracepoints (a counter
// per call, no stop of the traced process) where the kernel allows it,
// strace -c otherwise (which stops the process at each counted call, so
// the timings it runs beside are slower).
type Counter struct {
	Tool string // "perf" or "strace"
}

// FindCounter returns the first counter that works on this machine.
func FindCounter() (Counter, error) {
	if _, err := exec.LookPath("perf"); err == nil {
		c := Counter{Tool: "perf"}
		if _, err := c.Run([]string{"true"}, nil); err == nil {
			return c, nil
		}
	}
	if _, err := exec.LookPath("strace"); err == nil {
		c := Counter{Tool: "strace"}
		if _, err := c.Run([]string{"true"}, nil); err == nil {
			return c, nil
		}
	}
	return Counter{}, fmt.Errorf("walbench: neither perf stat (syscalls tracepoints) nor strace works here: system calls cannot be counted")
}

// Run runs argv with its system calls counted and returns the counts;
// the command's standard output goes to stdout (nil: discarded), its
// standard error to this process's.
func (c Counter) Run(argv []string, stdout *strings.Builder) (SyscallCounts, error) {
	out, err := os.CreateTemp("", "walbench-counts-")
	if err != nil {
		return nil, err
	}
	out.Close()
	defer os.Remove(out.Name())
	var full []string
	switch c.Tool {
	case "perf":
		events := make([]string, len(countedSyscalls))
		for i, s := range countedSyscalls {
			events[i] = "syscalls:sys_enter_" + s
		}
		full = append([]string{"perf", "stat", "-x", ",", "-o", out.Name(), "-e", strings.Join(events, ","), "--"}, argv...)
	case "strace":
		full = append([]string{"strace", "-f", "-qq", "-c", "-U", "name,calls", "-o", out.Name(), "-e", "trace=" + strings.Join(countedSyscalls, ",")}, argv...)
	default:
		return nil, fmt.Errorf("walbench: unknown counter %q", c.Tool)
	}
	cmd := exec.Command(full[0], full[1:]...)
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("walbench: %s: %w", strings.Join(full, " "), err)
	}
	return c.parse(out.Name())
}

// parse reads the counts the tool wrote into file.
func (c Counter) parse(file string) (SyscallCounts, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	counts := SyscallCounts{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		var name, count string
		switch c.Tool {
		case "perf": // count,unit,event,...
			fields := strings.Split(line, ",")
			if len(fields) < 3 || !strings.HasPrefix(fields[2], "syscalls:sys_enter_") {
				continue
			}
			name, count = strings.TrimPrefix(fields[2], "syscalls:sys_enter_"), fields[0]
		case "strace": // name calls, under a header
			fields := strings.Fields(line)
			if len(fields) != 2 {
				continue
			}
			name, count = fields[0], fields[1]
		}
		n, err := strconv.ParseInt(count, 10, 64)
		if err != nil {
			continue // a header, or "<not counted>"
		}
		counts[name] = n
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(counts) == 0 {
		return nil, fmt.Errorf("walbench: %s wrote no counts", c.Tool)
	}
	return counts, nil
}

package walbench

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// IOCounters are the kernel's I/O accounting of this process, from
// /proc/self/io: Chars is what went through write system calls (wchar),
// Bytes what the process made the page cache send to storage (write_bytes:
// every page it dirtied, counted once per clean-to-dirty change, so a
// small write into a page that an fsync cleaned costs a whole page).
// Neither is read from the libraries.
type IOCounters struct {
	Chars int64
	Bytes int64
}

// ReadIOCounters reads this process's counters.
func ReadIOCounters() (IOCounters, error) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return IOCounters{}, err
	}
	defer f.Close()
	var c IOCounters
	found := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil {
			return IOCounters{}, fmt.Errorf("walbench: /proc/self/io: %q: %w", sc.Text(), err)
		}
		switch key {
		case "wchar":
			c.Chars, found = n, found+1
		case "write_bytes":
			c.Bytes, found = n, found+1
		}
	}
	if err := sc.Err(); err != nil {
		return IOCounters{}, err
	}
	if found != 2 {
		return IOCounters{}, fmt.Errorf("walbench: /proc/self/io lacks wchar or write_bytes")
	}
	return c, nil
}

// Sub returns c minus o.
func (c IOCounters) Sub(o IOCounters) IOCounters {
	return IOCounters{Chars: c.Chars - o.Chars, Bytes: c.Bytes - o.Bytes}
}

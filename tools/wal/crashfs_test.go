package wal_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tickraft/raft/tools/wal/walfs"
)

// This file is a model of a file system with a page cache, for the crash
// tests. Every write lands in the cache; a file's Sync makes its content
// and size durable; a directory's creations, renames and removals are
// durable only once the directory is synced. A crash keeps what is
// durable and, of what is not: for each sector of each file, the cached
// or the durable version (the cache writes pages back in any order), for
// each file its cached or its durable size, and of each directory's
// unsynced operations a prefix (file systems journal them in order). The
// model also counts mutating operations and can fail every one from the
// n-th on, which is where the crash tests crash.

// sectorBytes is the unit a crash keeps or loses.
const sectorBytes = 512

// errCrashed is what operations return once the model crashed.
var errCrashed = errors.New("crashfs: crashed")

// inode is a file's content: the cached and the durable versions. It
// also remembers, for the crash tests' damage, where the written (not
// zero) bytes ended at each Sync: the synced prefixes as the file system
// saw them, not as the log's records say.
type inode struct {
	cache, durable []byte
	syncedEnds     []int64
}

// dirOp is an unsynced directory operation: name now refers to ino (nil
// for a removal).
type dirOp struct {
	name string
	ino  *inode
}

// mdir is a directory: its cached and durable entries and the operations
// between them, in order.
type mdir struct {
	cache, durable map[string]*inode
	pending        []dirOp
}

// crashFS is the model. It is not safe for concurrent use.
type crashFS struct {
	dirs map[string]*mdir
	// ops counts mutating operations; from failAt on (when positive)
	// they fail with errCrashed and do nothing.
	ops, failAt int
	// fileSyncs and dirSyncs count the syncs of files and of directories
	// that happened: what the tests judge a log's syncs by.
	fileSyncs, dirSyncs int
}

func newCrashFS() *crashFS { return &crashFS{dirs: map[string]*mdir{}} }

// step counts a mutating operation and reports whether it may happen.
func (c *crashFS) step() error {
	c.ops++
	if c.failAt > 0 && c.ops >= c.failAt {
		return errCrashed
	}
	return nil
}

// dir returns the directory at path, or nil.
func (c *crashFS) dir(path string) *mdir { return c.dirs[filepath.Clean(path)] }

// lookup returns the directory and the inode of a path.
func (c *crashFS) lookup(path string) (*mdir, *inode, error) {
	d := c.dir(filepath.Dir(path))
	if d == nil {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	ino := d.cache[filepath.Base(path)]
	if ino == nil {
		return d, nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return d, ino, nil
}

// setEntry applies a directory operation to the cache and queues it.
func (d *mdir) setEntry(name string, ino *inode) {
	if ino == nil {
		delete(d.cache, name)
	} else {
		d.cache[name] = ino
	}
	d.pending = append(d.pending, dirOp{name: name, ino: ino})
}

// MkdirAll creates directories at once and durably: the tests do not
// crash between making a directory and using it.
func (c *crashFS) MkdirAll(dir string) error {
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if c.dirs[p] == nil {
			c.dirs[p] = &mdir{cache: map[string]*inode{}, durable: map[string]*inode{}}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func (c *crashFS) ReadDir(dir string) ([]string, error) {
	d := c.dir(dir)
	if d == nil {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	names := slices.Collect(maps.Keys(d.cache))
	for p := range c.dirs {
		if filepath.Dir(p) == filepath.Clean(dir) && p != filepath.Clean(dir) {
			names = append(names, filepath.Base(p))
		}
	}
	slices.Sort(names)
	return names, nil
}

func (c *crashFS) ReadFile(path string) ([]byte, error) {
	_, ino, err := c.lookup(path)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(ino.cache), nil
}

func (c *crashFS) OpenRead(path string) (walfs.Reader, error) {
	data, err := c.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return memReader{bytes.NewReader(data)}, nil
}

// memReader is a walfs.Reader over a copy of a file's cached content.
type memReader struct{ *bytes.Reader }

func (r memReader) Size() (int64, error) { return r.Reader.Size(), nil }
func (memReader) Close() error           { return nil }

func (c *crashFS) Create(path string) (walfs.File, error) {
	if err := c.step(); err != nil {
		return nil, err
	}
	d, ino, _ := c.lookup(path)
	if d == nil {
		return nil, &fs.PathError{Op: "create", Path: path, Err: fs.ErrNotExist}
	}
	if ino != nil {
		return nil, &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	}
	ino = &inode{}
	d.setEntry(filepath.Base(path), ino)
	return &crashFile{c: c, ino: ino}, nil
}

func (c *crashFS) OpenWrite(path string) (walfs.File, error) {
	_, ino, err := c.lookup(path)
	if err != nil {
		return nil, err
	}
	return &crashFile{c: c, ino: ino}, nil
}

func (c *crashFS) Rename(oldPath, newPath string) error {
	if err := c.step(); err != nil {
		return err
	}
	d, ino, err := c.lookup(oldPath)
	if err != nil {
		return err
	}
	if filepath.Dir(oldPath) != filepath.Dir(newPath) {
		return errors.New("crashfs: rename across directories")
	}
	// One operation: a crash keeps both halves or neither.
	d.cache[filepath.Base(newPath)] = ino
	delete(d.cache, filepath.Base(oldPath))
	d.pending = append(d.pending, dirOp{name: filepath.Base(newPath), ino: ino}, dirOp{name: "\x00rename-of " + filepath.Base(oldPath)})
	return nil
}

func (c *crashFS) Remove(path string) error {
	if err := c.step(); err != nil {
		return err
	}
	d, _, err := c.lookup(path)
	if err != nil {
		return err
	}
	d.setEntry(filepath.Base(path), nil)
	return nil
}

func (c *crashFS) SyncDir(dir string) error {
	if err := c.step(); err != nil {
		return err
	}
	d := c.dir(dir)
	if d == nil {
		return &fs.PathError{Op: "sync", Path: dir, Err: fs.ErrNotExist}
	}
	d.durable, d.pending = maps.Clone(d.cache), nil
	c.dirSyncs++
	return nil
}

// Lock always succeeds: one process, one opener at a time in the tests.
func (c *crashFS) Lock(string) (io.Closer, error) { return io.NopCloser(nil), nil }

// crashFile is an open file of the model.
type crashFile struct {
	c   *crashFS
	ino *inode
}

func (f *crashFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.c.step(); err != nil {
		return 0, err
	}
	if end := off + int64(len(p)); end > int64(len(f.ino.cache)) {
		f.ino.cache = append(f.ino.cache, make([]byte, end-int64(len(f.ino.cache)))...)
	}
	copy(f.ino.cache[off:], p)
	return len(p), nil
}

func (f *crashFile) Sync() error {
	if err := f.c.step(); err != nil {
		return err
	}
	f.ino.durable = bytes.Clone(f.ino.cache)
	f.c.fileSyncs++
	end := len(f.ino.durable)
	for end > 0 && f.ino.durable[end-1] == 0 {
		end--
	}
	f.ino.syncedEnds = append(f.ino.syncedEnds, int64(end))
	return nil
}

func (f *crashFile) Allocate(size int64) error {
	if err := f.c.step(); err != nil {
		return err
	}
	if size > int64(len(f.ino.cache)) {
		f.ino.cache = append(f.ino.cache, make([]byte, size-int64(len(f.ino.cache)))...)
	}
	return nil
}

func (f *crashFile) Truncate(size int64) error {
	if err := f.c.step(); err != nil {
		return err
	}
	if size <= int64(len(f.ino.cache)) {
		f.ino.cache = f.ino.cache[:size]
	} else {
		f.ino.cache = append(f.ino.cache, make([]byte, size-int64(len(f.ino.cache)))...)
	}
	return nil
}

func (f *crashFile) Close() error { return nil }

// crashMode says what a crash does with what is not durable.
type crashMode int

const (
	loseAll crashMode = iota // the cache is dropped
	keepAll                  // the cache had been written back
	tear                     // each sector, size and operation prefix drawn
)

// crash throws away what a crash may lose and makes the result the new
// state of the model, as the machine finds it on reboot. Operations then
// succeed again.
func (c *crashFS) crash(mode crashMode, rng *rand.Rand) {
	inodes := map[*inode][]byte{}
	for _, p := range slices.Sorted(maps.Keys(c.dirs)) {
		d := c.dirs[p]
		keep := 0
		switch mode {
		case keepAll:
			keep = len(d.pending)
		case tear:
			keep = rng.IntN(len(d.pending) + 1)
		}
		// A rename is two queued halves: keep both or neither.
		if keep > 0 && keep < len(d.pending) && strings.HasPrefix(d.pending[keep].name, "\x00rename-of ") {
			keep++
		}
		entries := maps.Clone(d.durable)
		for _, op := range d.pending[:keep] {
			switch {
			case strings.HasPrefix(op.name, "\x00rename-of "):
				delete(entries, strings.TrimPrefix(op.name, "\x00rename-of "))
			case op.ino == nil:
				delete(entries, op.name)
			default:
				entries[op.name] = op.ino
			}
		}
		for _, name := range slices.Sorted(maps.Keys(entries)) {
			ino := entries[name]
			if _, done := inodes[ino]; !done {
				inodes[ino] = crashContent(ino, mode, rng)
			}
		}
		d.cache, d.durable, d.pending = entries, maps.Clone(entries), nil
	}
	for ino, content := range inodes {
		ino.cache, ino.durable = content, bytes.Clone(content)
	}
	c.failAt = 0
}

// crashContent returns what a crash leaves of a file.
func crashContent(ino *inode, mode crashMode, rng *rand.Rand) []byte {
	switch mode {
	case loseAll:
		return bytes.Clone(ino.durable)
	case keepAll:
		return bytes.Clone(ino.cache)
	}
	size := len(ino.durable)
	if rng.IntN(2) == 0 {
		size = len(ino.cache)
	}
	out := make([]byte, size)
	copy(out, ino.durable)
	for s := 0; s < size; s += sectorBytes {
		e := min(s+sectorBytes, size)
		cached := sectorOf(ino.cache, s, e)
		if !bytes.Equal(cached, sectorOf(ino.durable, s, e)) && rng.IntN(2) == 0 {
			copy(out[s:e], cached)
		}
	}
	return out
}

// sectorOf returns b[s:e], zero-padded where b ends before e.
func sectorOf(b []byte, s, e int) []byte {
	out := make([]byte, e-s)
	if s < len(b) {
		copy(out, b[s:min(e, len(b))])
	}
	return out
}

// settle makes everything durable, as a clean shutdown and a sync of
// everything would.
func (c *crashFS) settle() { c.crash(keepAll, nil) }

// files returns the paths of the files under dir, sorted.
func (c *crashFS) files(dir string) []string {
	var out []string
	for _, p := range slices.Sorted(maps.Keys(c.dirs)) {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			for _, n := range slices.Sorted(maps.Keys(c.dirs[p].cache)) {
				out = append(out, filepath.Join(p, n))
			}
		}
	}
	return out
}

// clone returns an independent copy of the model's (settled) state.
func (c *crashFS) clone() *crashFS {
	out := newCrashFS()
	copies := map[*inode]*inode{}
	for p, d := range c.dirs {
		nd := &mdir{cache: map[string]*inode{}, durable: map[string]*inode{}}
		for n, ino := range d.cache {
			if copies[ino] == nil {
				copies[ino] = &inode{cache: bytes.Clone(ino.cache), durable: bytes.Clone(ino.durable)}
			}
			nd.cache[n], nd.durable[n] = copies[ino], copies[ino]
		}
		out.dirs[p] = nd
	}
	return out
}

// remove deletes a file durably (an operator's or a disk's doing).
func (c *crashFS) remove(path string) {
	d := c.dir(filepath.Dir(path))
	delete(d.cache, filepath.Base(path))
	delete(d.durable, filepath.Base(path))
}

// syncedPrefixes returns the distinct ends, in increasing order, that the
// writes to the file at path had reached when it was synced, within its
// current content.
func (c *crashFS) syncedPrefixes(path string) []int64 {
	_, ino, err := c.lookup(path)
	if err != nil {
		return nil
	}
	var ends []int64
	for _, e := range ino.syncedEnds {
		if e > 0 && e <= int64(len(ino.cache)) {
			ends = append(ends, e)
		}
	}
	slices.Sort(ends)
	return slices.Compact(ends)
}

// rewrite replaces a file's content durably.
func (c *crashFS) rewrite(path string, content []byte) {
	_, ino, _ := c.lookup(path)
	ino.cache, ino.durable = bytes.Clone(content), bytes.Clone(content)
}

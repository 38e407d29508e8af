package snapfile

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/wal/walfs"
)

// isNotExist reports whether err says a file does not exist.
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

// Options configures a Store. The zero value is a working configuration.
type Options struct {
	// Logger receives the store's repairs: temporary files removed,
	// damaged snapshots skipped. Nil discards them.
	Logger *slog.Logger
	// FS is the file system; nil means the operating system's
	// (walfs.OS). The chunk staging area makes its per-snapshot
	// directories with the os package: a Store on another FS must not
	// stage chunks.
	FS walfs.FS
}

// Store is a directory of snapshot files and a staging area for chunks.
// Its methods are safe for concurrent use.
type Store struct {
	mu     sync.Mutex
	dir    string
	fs     walfs.FS
	logger *slog.Logger
	// checked caches the layout of the snapshot files whose checksum
	// ReadChunk verified; files never change once renamed into place.
	checked map[id]layout
}

// Open opens the store in dir, creating dir when missing, and removes the
// temporary files a crash left behind.
func Open(dir string, opts Options) (*Store, error) {
	s := &Store{dir: dir, fs: opts.FS, logger: opts.Logger, checked: map[id]layout{}}
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.fs == nil {
		s.fs = walfs.OS()
	}
	if err := s.fs.MkdirAll(s.chunksDir()); err != nil {
		return nil, err
	}
	if err := s.removeLeftovers(); err != nil {
		return nil, err
	}
	return s, nil
}

// removeLeftovers removes the temporary files in the store and in every
// chunk staging area.
func (s *Store) removeLeftovers() error {
	dirs := []string{s.dir}
	areas, err := s.stagingAreas()
	if err != nil {
		return err
	}
	for _, a := range areas {
		dirs = append(dirs, s.areaDir(a))
	}
	for _, d := range dirs {
		removed, err := walfs.RemoveTemps(s.fs, d)
		if err != nil {
			return err
		}
		for _, r := range removed {
			s.logger.Warn("snapfile: removed a file a crash left half-written", "file", r)
		}
	}
	return nil
}

// Save writes snap to its file atomically and durably.
func (s *Store) Save(snap raftpb.Snapshot) error {
	if snap.Metadata.Index == 0 {
		return fmt.Errorf("snapfile: cannot save a snapshot at index 0")
	}
	head := encodeHead(&snap.Metadata, len(snap.Data))
	k := id{index: snap.Metadata.Index, term: snap.Metadata.Term}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.checked, k)
	return walfs.WriteAtomic(s.fs, s.dir, k.fileName(), head, snap.Data, trailer(head, snap.Data))
}

// Load returns the newest snapshot (highest index) whose file is intact,
// skipping damaged newer files with a warning. It returns ErrNoSnapshot
// when the store holds none, and ErrDamaged when every file is damaged.
// A restarting node should rather use LoadAt with its log's marker.
func (s *Store) Load() (raftpb.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, err := s.list()
	if err != nil {
		return raftpb.Snapshot{}, err
	}
	var damaged error
	for i := len(ids) - 1; i >= 0; i-- {
		snap, err := s.load(ids[i])
		if err == nil {
			return snap, nil
		}
		if !errors.Is(err, ErrDamaged) {
			return raftpb.Snapshot{}, err
		}
		s.logger.Warn("snapfile: skipping a damaged snapshot", "error", err)
		damaged = errors.Join(damaged, err)
	}
	if damaged != nil {
		return raftpb.Snapshot{}, damaged
	}
	return raftpb.Snapshot{}, ErrNoSnapshot
}

// LoadAt returns the snapshot at index and term: ErrNoSnapshot when the
// store does not hold it, ErrDamaged when its file fails its checks.
func (s *Store) LoadAt(index, term uint64) (raftpb.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load(id{index: index, term: term})
}

// load reads and checks the file of snapshot k.
func (s *Store) load(k id) (raftpb.Snapshot, error) {
	path := filepath.Join(s.dir, k.fileName())
	file, err := s.fs.ReadFile(path)
	if isNotExist(err) {
		return raftpb.Snapshot{}, fmt.Errorf("%w: %v", ErrNoSnapshot, k)
	}
	if err != nil {
		return raftpb.Snapshot{}, err
	}
	l, err := checkFile(path, file)
	if err != nil {
		return raftpb.Snapshot{}, err
	}
	data := file[l.dataOffset : l.dataOffset+int64(l.dataLen)]
	return raftpb.Snapshot{Metadata: l.meta, Data: data}, nil
}

// checkFile checks a whole snapshot file and returns its layout.
func checkFile(path string, file []byte) (layout, error) {
	if !checkTrailer(file) {
		return layout{}, fmt.Errorf("%w: %s: checksum mismatch", ErrDamaged, path)
	}
	l, err := decodeHead(file, int64(len(file)))
	if err != nil {
		return layout{}, fmt.Errorf("%w: %s: %v", ErrDamaged, path, err)
	}
	return l, nil
}

// DeleteBefore deletes the snapshot files whose index is below index; a
// snapshot at index or after it is kept. It syncs the directory. Call it
// once the log's marker names a snapshot at index, never before.
func (s *Store) DeleteBefore(index uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, err := s.list()
	if err != nil {
		return err
	}
	for _, k := range ids {
		if k.index >= index {
			break
		}
		if err := s.fs.Remove(filepath.Join(s.dir, k.fileName())); err != nil {
			return err
		}
		delete(s.checked, k)
	}
	return s.fs.SyncDir(s.dir)
}

// list returns the snapshots in the directory, oldest (lowest index, then
// lowest term) first.
func (s *Store) list() ([]id, error) {
	names, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var ids []id
	for _, n := range names {
		if k, ok := parseFileName(n); ok {
			ids = append(ids, k)
		}
	}
	slices.SortFunc(ids, func(a, b id) int {
		return cmp.Or(cmp.Compare(a.index, b.index), cmp.Compare(a.term, b.term))
	})
	return ids, nil
}

// ReadFile reads and checks the snapshot file at path, changing nothing:
// for tools that inspect a store without opening it. It returns ErrDamaged
// when the file fails its checks.
func ReadFile(path string) (raftpb.Snapshot, error) {
	file, err := os.ReadFile(path)
	if err != nil {
		return raftpb.Snapshot{}, err
	}
	l, err := checkFile(path, file)
	if err != nil {
		return raftpb.Snapshot{}, err
	}
	return raftpb.Snapshot{Metadata: l.meta, Data: file[l.dataOffset : l.dataOffset+int64(l.dataLen)]}, nil
}

// Package snapfile keeps the example key-value server's state-machine
// snapshots in files, and stages the chunks of a snapshot that arrives in
// pieces (the library's chunked snapshot transfer) until it is whole.
//
// It is built on the standard library and raftpb alone, does file I/O and
// nothing else, and its methods are safe for concurrent use.
//
// # Snapshot files
//
// A snapshot lives in DIR/TERM-INDEX.snap (both numbers as 16 hexadecimal
// digits):
//
//	8 bytes   magic "tksnap1\n"
//	uint32    length M of the metadata (little endian)
//	M bytes   raftpb.SnapshotMetadata encoding
//	uint64    length N of the data
//	N bytes   the state machine's data
//	uint32    CRC-32C (Castagnoli) of every byte before it
//
// Save writes a temporary file, fsyncs it, renames it into place and
// fsyncs the directory, so a crash leaves either the whole file or none;
// Open removes the temporary files a crash left. A file whose checksum,
// magic or lengths do not hold is damaged: Load skips it for an older one
// (and logs that it did), LoadAt reports it with ErrDamaged.
//
// The write-ahead log's snapshot marker names the snapshot a restarting
// node must load, so a node calls LoadAt with the marker's index and term;
// a snapshot file newer than the marker (the crash fell between writing
// the file and the marker) is ignored that way, and deleted by a later
// DeleteBefore once a newer snapshot is in place.
//
// # Chunks
//
// A snapshot received in chunks is staged in DIR/chunks/INDEX-TERM/, one
// file per chunk (CHUNK.chunk, 16 hexadecimal digits, the chunk's bytes and
// a CRC-32C trailer), each made durable before SaveChunk returns, so that
// a transfer interrupted by a crash resumes with the chunks already held.
// AssembleChunks concatenates them once all have arrived; DropChunksBelow
// discards the staging areas of older snapshots. ReadChunk serves the other
// direction: a byte range of a stored snapshot's data, for a peer fetching
// it in chunks.
package snapfile

package kvnode

import (
	"slices"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// TransportStatus is transport.Stats as GET /status shows it, with its keys
// in snake_case like every other key of Status.
type TransportStatus struct {
	FramesSent     uint64 `json:"frames_sent"`
	BytesSent      uint64 `json:"bytes_sent"`
	FramesReceived uint64 `json:"frames_received"`
	BytesReceived  uint64 `json:"bytes_received"`
	DecodeErrors   uint64 `json:"decode_errors"`
	Drops          uint64 `json:"drops"`
	Unreachable    uint64 `json:"unreachable"`
	Reconnects     uint64 `json:"reconnects"`
	DialFailures   uint64 `json:"dial_failures"`
	RejectedConns  uint64 `json:"rejected_conns"`
	RateDrops      uint64 `json:"rate_drops"`
	IdentityErrors uint64 `json:"identity_errors"`
}

// transportStatus converts the transport's counters.
func transportStatus(s transport.Stats) TransportStatus {
	return TransportStatus{
		FramesSent: s.FramesSent, BytesSent: s.BytesSent,
		FramesReceived: s.FramesReceived, BytesReceived: s.BytesReceived,
		DecodeErrors: s.DecodeErrors, Drops: s.Drops, Unreachable: s.Unreachable,
		Reconnects: s.Reconnects, DialFailures: s.DialFailures,
		RejectedConns: s.RejectedConns, RateDrops: s.RateDrops, IdentityErrors: s.IdentityErrors,
	}
}

// FetchStatus is raft.SnapshotFetch as GET /status shows it: the chunked
// snapshot transfer this node has in progress.
type FetchStatus struct {
	Index    uint64   `json:"index"`
	Term     uint64   `json:"term"`
	Chunks   uint64   `json:"chunks"`
	Saved    uint64   `json:"saved"`
	Inflight int      `json:"inflight"`
	Sources  []uint64 `json:"sources"`
}

// fetchStatus converts the library's fetch state; nil stays nil.
func fetchStatus(f *raft.SnapshotFetch) *FetchStatus {
	if f == nil {
		return nil
	}
	return &FetchStatus{Index: f.Index, Term: f.Term, Chunks: f.Chunks, Saved: f.Saved,
		Inflight: f.Inflight, Sources: slices.Clone(f.Sources)}
}

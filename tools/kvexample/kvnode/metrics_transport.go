package kvnode

import "github.com/tickraft/raft/tools/kvexample/transport"

// transportFamilies are the transport's per-peer counters as metric
// families, labelled peer (0: a connection refused before its hello named
// its sender).
var transportFamilies = []struct {
	name, help string
	get        func(transport.PeerStats) uint64
}{
	{"kvexample_transport_frames_sent_total", "Frames flushed to the peer.", func(s transport.PeerStats) uint64 { return s.FramesSent }},
	{"kvexample_transport_bytes_sent_total", "Bytes flushed to the peer, length prefixes included.", func(s transport.PeerStats) uint64 { return s.BytesSent }},
	{"kvexample_transport_frames_received_total", "Well-formed frames received from the peer.", func(s transport.PeerStats) uint64 { return s.FramesReceived }},
	{"kvexample_transport_bytes_received_total", "Bytes of the frames received from the peer.", func(s transport.PeerStats) uint64 { return s.BytesReceived }},
	{"kvexample_transport_drops_total", "Messages to the peer that will never be written.", func(s transport.PeerStats) uint64 { return s.Drops }},
	{"kvexample_transport_dial_failures_total", "Failed dials of the peer.", func(s transport.PeerStats) uint64 { return s.DialFailures }},
	{"kvexample_transport_refused_connections_total", "Incoming connections closed for breaking the framing.", func(s transport.PeerStats) uint64 { return s.RefusedConns }},
}

// Package ingest receives the wrapper's security events on the unix
// datagram socket (package rasp/wire) and hands each decoded event to a
// consumer.
//
// The socket is bound before the extension registers, so it exists
// before the function's runtime starts. Each datagram is read into a fixed
// buffer one byte larger than wire.MaxDatagram: a longer datagram is
// counted as oversized and dropped, as are malformed ones and unknown wire
// versions. Nothing a sender writes can crash the receiver.
//
// Datagrams are decoded by wire.Decode, the one decoder of the format.
//
// Drain reads whatever is queued on the socket before the extension lets
// the sandbox freeze or exports, so events of the invocation that just
// ended are counted in the same flush.
package ingest

package main

// What each session still has to deliver, for the linger.
//
// kcp-go 5.6.1 exposes no "everything acked" query on UDPSession, yet
// lingering on quiet alone is not enough: under loss kcp-go backs its
// retransmission timeout off by half again each time, so after two lost
// copies of a final reply the gap to the next copy can exceed the quiet
// period, and a process that exits then takes the only copy with it (seen
// 1 run in ~90 of the 4 MB sink through 10% loss). The session's KCP
// (unexported field `kcp`, guarded by the unexported `mu`) does answer
// WaitSnd, so the harness reads it through reflection. Test tooling only.

import (
	"reflect"
	"sync"
	"unsafe"

	kcp "github.com/xtaci/kcp-go"
)

var tracked struct {
	sync.Mutex
	sessions []*kcp.UDPSession
}

// track adds a session to those the linger waits for.
func track(sess *kcp.UDPSession) {
	tracked.Lock()
	tracked.sessions = append(tracked.sessions, sess)
	tracked.Unlock()
}

// waitSnd is sess's kcp.WaitSnd(): segments queued or sent but not yet
// acknowledged, read under the session's own lock.
func waitSnd(sess *kcp.UDPSession) int {
	v := reflect.ValueOf(sess).Elem()
	// The field layout is kcp-go 5.6.1's (sess.go); a rename fails loudly.
	mu, arq := v.FieldByName("mu"), v.FieldByName("kcp")
	if !mu.IsValid() || !arq.IsValid() {
		failf("kcp-go's UDPSession has no mu/kcp field: the linger needs updating")
	}
	lock := (*sync.Mutex)(unsafe.Pointer(mu.UnsafeAddr()))
	k := (*kcp.KCP)(unsafe.Pointer(arq.Pointer()))
	lock.Lock()
	defer lock.Unlock()
	return k.WaitSnd()
}

// unackedSegments sums waitSnd over every tracked session.
func unackedSegments() int {
	tracked.Lock()
	defer tracked.Unlock()
	total := 0
	for _, sess := range tracked.sessions {
		total += waitSnd(sess)
	}
	return total
}

package main

// serve and dial: the echo, sink and source applications over one kcp-go
// listener or one kcp-go client session. The Rust side implements the
// same protocol (README.md), so either end can be kcp-go or kcp-rs.

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"time"

	kcp "github.com/xtaci/kcp-go"
)

var apps = map[string]bool{"echo": true, "sink": true, "source": true}

// ---------------------------------------------------------------------------
// serve

type serveStats struct {
	bytesIn, bytesOut uint64 // application bytes, all sessions
	accepted          int64
	completed         int64
	want              int64
	done              chan struct{} // closed when completed reaches want
	doneOnce          sync.Once
}

func (st *serveStats) complete() {
	if atomic.AddInt64(&st.completed, 1) == st.want {
		st.doneOnce.Do(func() { close(st.done) })
	}
}

type sessionLine struct {
	Event    string  `json:"event"`
	App      string  `json:"app"`
	Remote   string  `json:"remote"`
	Conv     uint32  `json:"conv"`
	Messages int     `json:"messages,omitempty"`
	Bytes    uint64  `json:"bytes"`
	Seconds  float64 `json:"seconds,omitempty"`
	MBps     float64 `json:"mb_per_s,omitempty"`
}

type serveDone struct {
	Event    string    `json:"event"`
	App      string    `json:"app"`
	Sessions int64     `json:"sessions"`
	Accepted int64     `json:"accepted"`
	BytesIn  uint64    `json:"bytes_in"`
	BytesOut uint64    `json:"bytes_out"`
	Linger   string    `json:"linger"`
	Snmp     *kcp.Snmp `json:"snmp"`
}

func cmdServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var s settings
	addSettingsFlags(fs, &s, 30*time.Second, true)
	listen := fs.String("listen", "127.0.0.1:0", "UDP address to listen on (port 0: any; the port is printed)")
	app := fs.String("app", "echo", "echo | sink | source")
	sessions := fs.Int("sessions", 1, "exit after this many sessions completed the application")
	messages := fs.Int("messages", 0, "echo: a session is complete after echoing this many messages (0: echo until --timeout, then exit 0)")
	if err := parseFlags(fs, args, &s); err != nil {
		return err
	}
	if !apps[*app] {
		return fmt.Errorf("unknown --app %q (echo|sink|source)", *app)
	}
	if *sessions < 1 || *messages < 0 {
		return fmt.Errorf("need --sessions >= 1 and --messages >= 0")
	}
	untilTimeout := *app == "echo" && *messages == 0
	deadline := time.Now().Add(s.timeout)
	// Backstop only: the loop below ends the run at the deadline itself.
	startWatchdog(s.timeout + 10*time.Second)

	l, err := kcp.ListenWithOptions(*listen, s.block(), s.ds, s.ps)
	if err != nil {
		return fmt.Errorf("listen %s: %v", *listen, err)
	}
	s.configureListener(l)
	emit(struct {
		Event string `json:"event"`
		Addr  string `json:"addr"`
	}{"listening", l.Addr().String()})

	st := &serveStats{want: int64(*sessions), done: make(chan struct{})}
	go func() {
		for {
			sess, err := l.AcceptKCP()
			if err != nil {
				return // listener closed at exit
			}
			s.configure(sess)
			atomic.AddInt64(&st.accepted, 1)
			switch *app {
			case "echo":
				go serveEcho(sess, *messages, st)
			case "sink":
				go serveSink(sess, st)
			case "source":
				go serveSource(sess, st)
			}
		}
	}()

	setStage("serving: waiting for %d session(s) to complete", *sessions)
	timer := time.NewTimer(time.Until(deadline))
	select {
	case <-st.done:
		timer.Stop()
	case <-timer.C:
		if !untilTimeout {
			failf("timed out after %v: %d of %d session(s) completed (%d accepted)",
				s.timeout, atomic.LoadInt64(&st.completed), *sessions, atomic.LoadInt64(&st.accepted))
		}
	}
	how := "off"
	if !untilTimeout {
		setStage("lingering")
		how = linger(s.linger, deadline)
	}
	emit(serveDone{Event: "done", App: *app, Sessions: atomic.LoadInt64(&st.completed), Accepted: atomic.LoadInt64(&st.accepted),
		BytesIn: atomic.LoadUint64(&st.bytesIn), BytesOut: atomic.LoadUint64(&st.bytesOut), Linger: how, Snmp: snmpJSON()})
	return nil
}

// Sessions are never closed by the server: kcp-go's Close forgets the
// peer's address, and the peer's next retransmission or ack would then
// open a fresh session that never completes.

// serveEcho writes back every message it reads, one Read -> one Write.
func serveEcho(sess *kcp.UDPSession, messages int, st *serveStats) {
	buf := make([]byte, readBufSize)
	var bytes uint64
	for n := 1; ; n++ {
		k, err := sess.Read(buf)
		if err != nil {
			failf("echo session %v: read: %v", sess.RemoteAddr(), err)
		}
		if _, err := sess.Write(buf[:k]); err != nil {
			failf("echo session %v: write: %v", sess.RemoteAddr(), err)
		}
		bytes += uint64(k)
		atomic.AddUint64(&st.bytesIn, uint64(k))
		atomic.AddUint64(&st.bytesOut, uint64(k))
		if n == messages {
			emit(sessionLine{Event: "session", App: "echo", Remote: sess.RemoteAddr().String(), Conv: sess.GetConv(),
				Messages: n, Bytes: bytes})
			st.complete()
		}
	}
}

// readHeader reads the 8-byte little-endian u64 that starts sink and
// source, however the peer split it into messages, and returns it with
// whatever followed it in the same Read.
func readHeader(sess *kcp.UDPSession, buf []byte, what string) (uint64, []byte) {
	var hdr [8]byte
	have := 0
	for have < 8 {
		k, err := sess.Read(buf)
		if err != nil {
			failf("%s session %v: reading the 8-byte header: %v", what, sess.RemoteAddr(), err)
		}
		c := copy(hdr[have:], buf[:k])
		have += c
		if have == 8 {
			return binary.LittleEndian.Uint64(hdr[:]), buf[c:k]
		}
	}
	panic("unreachable")
}

// serveSink verifies N pattern bytes after the header, then replies N.
func serveSink(sess *kcp.UDPSession, st *serveStats) {
	buf := make([]byte, readBufSize)
	what := fmt.Sprintf("sink session %v", sess.RemoteAddr())
	n, rest := readHeader(sess, buf, "sink")
	atomic.AddUint64(&st.bytesIn, 8)
	start := time.Now()
	var got uint64
	for {
		if uint64(len(rest)) > n-got {
			failf("%s: %d bytes past the announced %d", what, uint64(len(rest))-(n-got), n)
		}
		checkPattern(what, got, rest)
		got += uint64(len(rest))
		atomic.AddUint64(&st.bytesIn, uint64(len(rest)))
		if got == n {
			break
		}
		k, err := sess.Read(buf)
		if err != nil {
			failf("%s: read after %d of %d bytes: %v", what, got, n, err)
		}
		rest = buf[:k]
	}
	secs := time.Since(start).Seconds()
	var reply [8]byte
	binary.LittleEndian.PutUint64(reply[:], n)
	if _, err := sess.Write(reply[:]); err != nil {
		failf("%s: writing the reply: %v", what, err)
	}
	atomic.AddUint64(&st.bytesOut, 8)
	emit(sessionLine{Event: "session", App: "sink", Remote: sess.RemoteAddr().String(), Conv: sess.GetConv(),
		Bytes: n, Seconds: round(secs, 6), MBps: round(mbps(n, secs), 2)})
	st.complete()
}

// serveSource sends the N pattern bytes the client asked for, in
// 1300-byte messages (the last shorter).
func serveSource(sess *kcp.UDPSession, st *serveStats) {
	buf := make([]byte, readBufSize)
	what := fmt.Sprintf("source session %v", sess.RemoteAddr())
	n, rest := readHeader(sess, buf, "source")
	if len(rest) > 0 {
		failf("%s: %d bytes after the 8-byte request", what, len(rest))
	}
	atomic.AddUint64(&st.bytesIn, 8)
	start := time.Now()
	for off := uint64(0); off < n; {
		c := uint64(appChunk)
		if n-off < c {
			c = n - off
		}
		if _, err := sess.Write(patternAt(off, int(c))); err != nil {
			failf("%s: write at %d of %d: %v", what, off, n, err)
		}
		off += c
		atomic.AddUint64(&st.bytesOut, c)
	}
	// Write returns once kcp-go queued the data: this is queueing time,
	// delivery is confirmed by the client (and the linger).
	secs := time.Since(start).Seconds()
	emit(sessionLine{Event: "session", App: "source", Remote: sess.RemoteAddr().String(), Conv: sess.GetConv(),
		Bytes: n, Seconds: round(secs, 6)})
	st.complete()
}

func mbps(n uint64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs / 1e6
}

// ---------------------------------------------------------------------------
// dial

type echoDone struct {
	Event    string    `json:"event"`
	App      string    `json:"app"`
	Messages int       `json:"messages"`
	Size     int       `json:"size"`
	RttP50   float64   `json:"rtt_us_p50"`
	RttP99   float64   `json:"rtt_us_p99"`
	RttAvg   float64   `json:"rtt_us_avg"`
	Linger   string    `json:"linger"`
	Snmp     *kcp.Snmp `json:"snmp"`
	Conv     uint32    `json:"conv"`
	Local    string    `json:"local"`
	Seconds  float64   `json:"seconds"`
}

type bulkDone struct {
	Event   string    `json:"event"`
	App     string    `json:"app"`
	Bytes   uint64    `json:"bytes"`
	Seconds float64   `json:"seconds"`
	MBps    float64   `json:"mb_per_s"`
	Linger  string    `json:"linger"`
	Snmp    *kcp.Snmp `json:"snmp"`
	Conv    uint32    `json:"conv"`
	Local   string    `json:"local"`
}

func cmdDial(args []string) error {
	fs := flag.NewFlagSet("dial", flag.ContinueOnError)
	var s settings
	addSettingsFlags(fs, &s, 30*time.Second, true)
	remote := fs.String("remote", "", "HOST:PORT of the server (required)")
	app := fs.String("app", "echo", "echo | sink | source")
	messages := fs.Int("messages", 1000, "echo: messages to send, one outstanding at a time")
	size := fs.Int("size", 64, "echo: bytes per message (keep <= mss, 1300 is always safe at MTU 1400, so one message stays one message)")
	seed := fs.Int64("seed", 1, "echo: seed of the message contents (Go math/rand)")
	period := fs.Duration("period", 0, "echo: send message i no earlier than i x period after the first (a game's tick); 0 = at once")
	pipelined := fs.Bool("pipelined", false, "echo: send on the tick without waiting for echoes (a game's input stream; needs --period); echoes are matched by index")
	nbytes := sizeFlag{16 << 20}
	fs.Var(&nbytes, "bytes", "sink/source: bulk bytes (suffixes K M G KiB MiB GiB)")
	if err := parseFlags(fs, args, &s); err != nil {
		return err
	}
	if *remote == "" {
		return fmt.Errorf("--remote HOST:PORT is required")
	}
	if !apps[*app] {
		return fmt.Errorf("unknown --app %q (echo|sink|source)", *app)
	}
	if *messages < 1 || *size < 1 || *size > readBufSize {
		return fmt.Errorf("need --messages >= 1 and 1 <= --size <= %d", readBufSize)
	}
	deadline, watchdog := startWatchdog(s.timeout)

	sess, err := kcp.DialWithOptions(*remote, s.block(), s.ds, s.ps)
	if err != nil {
		return fmt.Errorf("dial %s: %v", *remote, err)
	}
	s.configureDialed(sess)
	local := sess.LocalAddr().String()

	switch *app {
	case "echo":
		var rtts []uint32
		var secs float64
		if *pipelined {
			if *period <= 0 || *size < 8 {
				return fmt.Errorf("--pipelined needs --period > 0 and --size >= 8")
			}
			rtts, secs = runPipelinedEcho(sess, *messages, *size, *period)
		} else {
			rtts, secs = runEcho(sess, *messages, *size, *period, rand.New(rand.NewSource(*seed)))
		}
		st := summarize(rtts)
		watchdog.Stop() // the application is done: the linger below is bounded by the deadline
		setStage("lingering")
		how := linger(s.linger, deadline)
		emit(echoDone{Event: "done", App: "echo", Messages: *messages, Size: *size,
			RttP50: st.p50, RttP99: st.p99, RttAvg: round(st.avg, 2), Linger: how, Snmp: snmpJSON(),
			Conv: sess.GetConv(), Local: local, Seconds: round(secs, 6)})
	case "sink":
		secs := runSinkClient(sess, nbytes.v)
		watchdog.Stop() // the application is done: the linger below is bounded by the deadline
		setStage("lingering")
		how := linger(s.linger, deadline)
		emit(bulkDone{Event: "done", App: "sink", Bytes: nbytes.v, Seconds: round(secs, 6), MBps: round(mbps(nbytes.v, secs), 2),
			Linger: how, Snmp: snmpJSON(), Conv: sess.GetConv(), Local: local})
	case "source":
		secs := runSourceClient(sess, nbytes.v)
		watchdog.Stop() // the application is done: the linger below is bounded by the deadline
		setStage("lingering")
		how := linger(s.linger, deadline)
		emit(bulkDone{Event: "done", App: "source", Bytes: nbytes.v, Seconds: round(secs, 6), MBps: round(mbps(nbytes.v, secs), 2),
			Linger: how, Snmp: snmpJSON(), Conv: sess.GetConv(), Local: local})
	}
	sess.Close()
	return nil
}

// runEcho sends `messages` messages of `size` random bytes, one at a time
// (message i no earlier than i x period), each checked against its echo.
// It returns every round-trip time in us and the total time.
func runEcho(sess *kcp.UDPSession, messages, size int, period time.Duration, rng *rand.Rand) ([]uint32, float64) {
	msg := make([]byte, size)
	back := make([]byte, size+readBufSize)
	rtts := make([]uint32, 0, messages)
	var done int64
	setStageFunc(func() string {
		return fmt.Sprintf("waiting for echo %d of %d", atomic.LoadInt64(&done)+1, messages)
	})
	start := time.Now()
	for i := 0; i < messages; i++ {
		awaitTick(start, i, period)
		rng.Read(msg)
		t0 := time.Now()
		if err := echoOnce(sess, msg, back); err != nil {
			failf("echo message %d: %v", i, err)
		}
		rtts = append(rtts, micros(time.Since(t0)))
		atomic.StoreInt64(&done, int64(i+1))
	}
	return rtts, time.Since(start).Seconds()
}

// runPipelinedEcho sends message i at i x period after the first without
// waiting for echoes, as a game client sends its inputs, while a goroutine
// reads the echoes. Message i starts with i (little-endian uint32); the
// rest is i's pattern, checked on return. It returns every round-trip time
// in us, in message order, and the total time.
func runPipelinedEcho(sess *kcp.UDPSession, messages, size int, period time.Duration) ([]uint32, float64) {
	sent := make([]int64, messages) // ns since start; written before the message goes out
	rtts := make([]uint32, messages)
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		back := make([]byte, readBufSize)
		for got := 0; got < messages; got++ {
			n, err := sess.Read(back)
			if err != nil {
				done <- fmt.Errorf("read echo %d of %d: %v", got+1, messages, err)
				return
			}
			at := time.Since(start).Nanoseconds()
			if n != size {
				done <- fmt.Errorf("echo of %d bytes, sent %d", n, size)
				return
			}
			i := int(binary.LittleEndian.Uint32(back))
			if i >= messages || !bytes.Equal(back[4:n], tickPattern(i, size)[4:]) {
				done <- fmt.Errorf("echo %d differs from what was sent", i)
				return
			}
			rtts[i] = uint32((at - atomic.LoadInt64(&sent[i])) / 1000)
		}
		done <- nil
	}()
	for i := 0; i < messages; i++ {
		awaitTick(start, i, period)
		atomic.StoreInt64(&sent[i], time.Since(start).Nanoseconds())
		if _, err := sess.Write(tickPattern(i, size)); err != nil {
			failf("write message %d: %v", i, err)
		}
	}
	if err := <-done; err != nil {
		failf("pipelined echo: %v", err)
	}
	return rtts, time.Since(start).Seconds()
}

// awaitTick sleeps until message i is due: i x period after start.
func awaitTick(start time.Time, i int, period time.Duration) {
	if wait := time.Until(start.Add(time.Duration(i) * period)); wait > 0 {
		time.Sleep(wait)
	}
}

// tickPattern is message i of a pipelined echo: i, then bytes i + k.
func tickPattern(i, size int) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b, uint32(i))
	for k := 4; k < size; k++ {
		b[k] = byte(i + k)
	}
	return b
}

// echoOnce writes msg and reads its echo into back (len(back) > len(msg)).
func echoOnce(sess *kcp.UDPSession, msg, back []byte) error {
	if _, err := sess.Write(msg); err != nil {
		return fmt.Errorf("write: %v", err)
	}
	// A message longer than the mss comes back in mss pieces (kcp-go cuts
	// it on Write, both ways): collect len(msg) bytes.
	got := 0
	for got < len(msg) {
		k, err := sess.Read(back[got:])
		if err != nil {
			return fmt.Errorf("read after %d of %d bytes: %v", got, len(msg), err)
		}
		got += k
	}
	if got != len(msg) || !bytes.Equal(back[:got], msg) {
		return fmt.Errorf("the echo differs from what was sent (%d bytes back, %d sent)", got, len(msg))
	}
	return nil
}

// awaitFirstDatagram waits until the server's first datagram (its ack of
// the header) has arrived, before the bulk follows.
//
// Why: kcp-go's listener creates a session, with kcp-go's default receive
// window of 32, when the first datagram arrives, and runs its first flush
// at once; the server application can enlarge the window only after
// AcceptKCP returns. A client that sends 32 segments straight away (its
// initial remote window is 32) can fill that queue before the first flush:
// the ack then advertises window 0, and once the window is 1024 kcp-go's
// Recv no longer sees a full queue, so it never sends the window update
// (IKCP_CMD_WINS). The client then sits until its window probe fires,
// 7 s later. Sending one segment first means the first ack advertises
// at least 31; by the next flush the server has been configured.
//
// DefaultSnmp is process-wide: in dial there is only this one session.
func awaitFirstDatagram() {
	setStage("sink: waiting for the server's first datagram (its ack of the header)")
	for atomic.LoadUint64(&kcp.DefaultSnmp.InPkts) == 0 {
		time.Sleep(100 * time.Microsecond) // polling an observable counter; the watchdog bounds it
	}
}

// runSinkClient sends the header and N pattern bytes, then waits for the
// server's 8-byte reply; it returns the seconds from the first write to
// the reply.
func runSinkClient(sess *kcp.UDPSession, n uint64) float64 {
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], n)
	start := time.Now()
	if _, err := sess.Write(hdr[:]); err != nil {
		failf("sink: writing the header: %v", err)
	}
	awaitFirstDatagram()
	var written uint64
	setStageFunc(func() string { return fmt.Sprintf("sink: writing at %d of %d bytes", atomic.LoadUint64(&written), n) })
	for off := uint64(0); off < n; {
		c := uint64(appChunk)
		if n-off < c {
			c = n - off
		}
		if _, err := sess.Write(patternAt(off, int(c))); err != nil {
			failf("sink: write at %d of %d: %v", off, n, err)
		}
		off += c
		atomic.StoreUint64(&written, off)
	}
	setStage("sink: waiting for the server's 8-byte reply after %d bytes", n)
	buf := make([]byte, readBufSize)
	var reply []byte
	for len(reply) < 8 {
		k, err := sess.Read(buf)
		if err != nil {
			failf("sink: reading the reply: %v", err)
		}
		reply = append(reply, buf[:k]...)
	}
	secs := time.Since(start).Seconds()
	if len(reply) != 8 || binary.LittleEndian.Uint64(reply) != n {
		failf("sink: the server replied %x, want 8 bytes little-endian %d", reply, n)
	}
	return secs
}

// runSourceClient requests N bytes and verifies them; it returns the
// seconds from the request to the last byte.
func runSourceClient(sess *kcp.UDPSession, n uint64) float64 {
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], n)
	start := time.Now()
	if _, err := sess.Write(hdr[:]); err != nil {
		failf("source: writing the request: %v", err)
	}
	buf := make([]byte, readBufSize)
	var got uint64
	setStageFunc(func() string { return fmt.Sprintf("source: read %d of %d bytes", atomic.LoadUint64(&got), n) })
	for got < n {
		k, err := sess.Read(buf)
		if err != nil {
			failf("source: read after %d of %d bytes: %v", got, n, err)
		}
		if uint64(k) > n-got {
			failf("source: %d bytes past the requested %d", uint64(k)-(n-got), n)
		}
		checkPattern("source", got, buf[:k])
		atomic.AddUint64(&got, uint64(k))
	}
	return time.Since(start).Seconds()
}

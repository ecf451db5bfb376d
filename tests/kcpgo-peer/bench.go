package main

// bench: kcp-go's side of the session benchmarks. Each case runs a kcp-go
// listener and kcp-go client(s) in this one process over real loopback UDP
// and prints one JSON line. kcp-rs runs the same cases the same way, and
// the two are compared side by side in one run (absolute figures drift on
// shared 2-core machines).

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	kcp "github.com/xtaci/kcp-go"
	"golang.org/x/net/ipv4"
)

type benchOpts struct {
	s     settings
	bytes uint64
	// bulk: bytes per Write (default appChunk, one segment; 65536 is how a
	// file transfer writes)
	writeSize int
	messages  int
	size      int
	sessions  int
	seconds   float64
}

// benchTail closes every bench line: what ran, with which settings.
type benchTail struct {
	Snmp     *kcp.Snmp    `json:"snmp,omitempty"`
	Settings settingsJSON `json:"settings"`
	KcpGo    string       `json:"kcpgo"`
	Go       string       `json:"go"`
	CPUs     int          `json:"cpus"`
}

func (o *benchOpts) tail(withSnmp bool) benchTail {
	t := benchTail{Settings: o.s.json(), KcpGo: kcpgoVersion, Go: runtime.Version(), CPUs: runtime.NumCPU()}
	if withSnmp {
		t.Snmp = snmpJSON()
	}
	return t
}

func cmdBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o benchOpts
	// A longer default than serve/dial: establishing 10,000 kcp-go
	// sessions on 2 cores takes a while, and a timeout here is a FAIL.
	addSettingsFlags(fs, &o.s, 180*time.Second, false)
	which := fs.String("case", "", "bulk | echo | many | idle | raw | players (required)")
	remote := fs.String("remote", "", "players: HOST:PORT of the echo server under test")
	rate := fs.Float64("rate", 20, "players: messages per second per client")
	serverPid := fs.Int("server-pid", 0, "players: the server's process id, whose CPU time is reported")
	nb := sizeFlag{}
	fs.Var(&nb, "bytes", "bulk: bytes to move (default 256MiB); raw: bytes to send (default 1GiB); suffixes K M G KiB MiB GiB")
	fs.IntVar(&o.writeSize, "write-size", appChunk, "bulk: bytes per Write")
	fs.IntVar(&o.messages, "messages", 20000, "echo: round trips")
	fs.IntVar(&o.size, "size", 64, "echo, many: message size in bytes")
	fs.IntVar(&o.sessions, "sessions", 0, "many: client sessions (default 1000); idle: sessions (default 10000)")
	fs.Float64Var(&o.seconds, "seconds", 0, "many: measuring window (default 5); idle: idle window (default 10)")
	if err := parseFlags(fs, args, &o.s); err != nil {
		return err
	}
	o.bytes = nb.v
	if o.messages < 1 || o.size < 1 || o.size > 4096 || o.sessions < 0 || o.seconds < 0 ||
		o.writeSize < 1 || o.writeSize > readBufSize {
		return fmt.Errorf("need --messages >= 1, 1 <= --size <= 4096, --sessions >= 0, --seconds >= 0, 1 <= --write-size <= %d", readBufSize)
	}
	startWatchdog(o.s.timeout)
	switch *which {
	case "bulk":
		if o.bytes == 0 {
			o.bytes = 256 << 20
		}
		benchBulk(&o)
	case "echo":
		benchEcho(&o)
	case "many":
		if o.sessions == 0 {
			o.sessions = 1000
		}
		if o.seconds == 0 {
			o.seconds = 5
		}
		benchMany(&o)
	case "idle":
		if o.sessions == 0 {
			o.sessions = 10000
		}
		if o.seconds == 0 {
			o.seconds = 10
		}
		benchIdle(&o)
	case "players":
		if *remote == "" || *serverPid <= 0 || *rate <= 0 || o.size < 8 {
			return fmt.Errorf("players needs --remote, --server-pid, --rate > 0 and --size >= 8")
		}
		if o.sessions == 0 {
			o.sessions = 300
		}
		if o.seconds == 0 {
			o.seconds = 10
		}
		benchPlayers(&o, *remote, *rate, *serverPid)
	case "raw":
		if o.bytes == 0 {
			o.bytes = 1 << 30
		}
		benchRaw(&o)
	case "":
		return fmt.Errorf("--case bulk|echo|many|idle|raw|players is required")
	default:
		return fmt.Errorf("unknown --case %q (bulk|echo|many|idle|raw|players)", *which)
	}
	return nil
}

// startServer listens on a fresh loopback port and runs handler for each
// accepted session in its own goroutine, as a kcp-go server does.
func startServer(s *settings, handler func(*kcp.UDPSession)) *kcp.Listener {
	l, err := kcp.ListenWithOptions("127.0.0.1:0", s.block(), s.ds, s.ps)
	if err != nil {
		failf("listen: %v", err)
	}
	s.configureListener(l)
	go func() {
		for {
			sess, err := l.AcceptKCP()
			if err != nil {
				return
			}
			s.configure(sess)
			go handler(sess)
		}
	}()
	return l
}

func dialClient(s *settings, addr string) *kcp.UDPSession {
	sess, err := kcp.DialWithOptions(addr, s.block(), s.ds, s.ps)
	if err != nil {
		failf("dial %s: %v", addr, err)
	}
	s.configureDialed(sess)
	return sess
}

// echoHandler is the benchmark echo server: one Read -> one Write, until
// the session is closed at the end of the case. The benchmark messages are
// far below the mss, so a small buffer holds each whole (1,000 sessions
// with 64 KiB buffers each would distort the figures).
func echoHandler(sess *kcp.UDPSession) {
	buf := make([]byte, 4096)
	for {
		k, err := sess.Read(buf)
		if err != nil {
			return
		}
		if _, err := sess.Write(buf[:k]); err != nil {
			return
		}
	}
}

// ---------------------------------------------------------------------------
// bulk

type bulkLine struct {
	Impl          string  `json:"impl"`
	Case          string  `json:"case"`
	Bytes         uint64  `json:"bytes"`
	Seconds       float64 `json:"seconds"`
	MBps          float64 `json:"mb_per_s"`
	WriteSeconds  float64 `json:"write_seconds"`
	MessageSize   int     `json:"message_size"`
	Verified      string  `json:"verified"`
	RetransSegs   uint64  `json:"retrans_segs"`
	FastRetrans   uint64  `json:"fast_retrans_segs"`
	EarlyRetrans  uint64  `json:"early_retrans_segs"`
	LostSegs      uint64  `json:"lost_segs"`
	FECRecovered  uint64  `json:"fec_recovered"`
	DatagramsSent uint64  `json:"datagrams_sent"`
	benchTail
}

// benchBulk: one session, the client Writes N bytes in --write-size
// messages (default 1300: one KCP segment each, as the sink application
// does); the server reads
// and checks every byte against the pattern with memcmp. The figure runs
// from the first Write to the server having read the last byte. The client
// writes the first message, waits until the server's session is accepted
// and configured, then the rest.
func benchBulk(o *benchOpts) {
	n := o.bytes
	var got uint64
	finished := make(chan time.Time, 1)
	configured := make(chan struct{})
	l := startServer(&o.s, func(sess *kcp.UDPSession) {
		close(configured)
		buf := make([]byte, readBufSize)
		for atomic.LoadUint64(&got) < n {
			k, err := sess.Read(buf)
			if err != nil {
				failf("bulk server: read after %d of %d bytes: %v", atomic.LoadUint64(&got), n, err)
			}
			off := atomic.LoadUint64(&got)
			if uint64(k) > n-off {
				failf("bulk server: %d bytes past %d", uint64(k)-(n-off), n)
			}
			checkPattern("bulk server", off, buf[:k])
			atomic.StoreUint64(&got, off+uint64(k))
		}
		finished <- time.Now()
	})
	defer l.Close()
	c := dialClient(&o.s, l.Addr().String())
	defer c.Close()
	setStageFunc(func() string { return fmt.Sprintf("bulk: the server has %d of %d bytes", atomic.LoadUint64(&got), n) })

	start := time.Now()
	for off := uint64(0); off < n; {
		k := uint64(o.writeSize)
		if n-off < k {
			k = n - off
		}
		if _, err := c.Write(patternAt(off, int(k))); err != nil {
			failf("bulk client: write at %d: %v", off, err)
		}
		if off == 0 {
			// One segment first, the rest once the server session has its
			// window of --wnd: see awaitFirstDatagram for the kcp-go stall
			// this avoids.
			<-configured
		}
		off += k
	}
	wrote := time.Since(start).Seconds()
	end := <-finished
	secs := end.Sub(start).Seconds()
	sn := snmpJSON()
	emit(bulkLine{Impl: "kcp-go", Case: "bulk", Bytes: n, Seconds: round(secs, 6), MBps: round(mbps(n, secs), 2),
		WriteSeconds: round(wrote, 6), MessageSize: o.writeSize, Verified: "every byte (memcmp against the i % 251 pattern)",
		RetransSegs: sn.RetransSegs, FastRetrans: sn.FastRetransSegs, EarlyRetrans: sn.EarlyRetransSegs, LostSegs: sn.LostSegs,
		FECRecovered: sn.FECRecovered, DatagramsSent: sn.OutPkts, benchTail: o.tail(true)})
}

// ---------------------------------------------------------------------------
// echo

type echoLine struct {
	Impl     string  `json:"impl"`
	Case     string  `json:"case"`
	Messages int     `json:"messages"`
	Size     int     `json:"size"`
	Seconds  float64 `json:"seconds"`
	RttP50   float64 `json:"rtt_us_p50"`
	RttP99   float64 `json:"rtt_us_p99"`
	RttAvg   float64 `json:"rtt_us_avg"`
	benchTail
}

// benchEcho: one session, ping-pong with one message outstanding; every
// round trip (the first, which creates the server's session, included) is
// a sample.
func benchEcho(o *benchOpts) {
	l := startServer(&o.s, echoHandler)
	defer l.Close()
	c := dialClient(&o.s, l.Addr().String())
	defer c.Close()
	rtts, secs := runEcho(c, o.messages, o.size, 0, rand.New(rand.NewSource(1)))
	st := summarize(rtts)
	emit(echoLine{Impl: "kcp-go", Case: "echo", Messages: o.messages, Size: o.size, Seconds: round(secs, 6),
		RttP50: st.p50, RttP99: st.p99, RttAvg: round(st.avg, 2), benchTail: o.tail(true)})
}

// ---------------------------------------------------------------------------
// many

type manyLine struct {
	Impl        string  `json:"impl"`
	Case        string  `json:"case"`
	Sessions    int     `json:"sessions"`
	Size        int     `json:"size"`
	Seconds     float64 `json:"seconds"`
	Messages    int64   `json:"messages"`
	MsgsPerSec  float64 `json:"messages_per_s"`
	RttP50      float64 `json:"rtt_us_p50"`
	RttP99      float64 `json:"rtt_us_p99"`
	RttAvg      float64 `json:"rtt_us_avg"`
	EstablishS  float64 `json:"establish_seconds"`
	RetransSegs uint64  `json:"retrans_segs"`
	benchTail
}

// benchMany: S kcp-go clients (each DialWithOptions, so each its own UDP
// socket, as separate kcp-go clients would be) against one listener. Each
// client ping-pongs in its own goroutine. Once every client has completed
// one echo, a window of --seconds is measured: echoes that start and end
// inside it are counted and their round trips sampled.
func benchMany(o *benchOpts) {
	raiseNoFile(o.sessions + 64)
	l := startServer(&o.s, echoHandler)
	defer l.Close()
	addr := l.Addr().String()
	clients := make([]*kcp.UDPSession, o.sessions)
	for i := range clients {
		clients[i] = dialClient(&o.s, addr)
	}
	const (
		warmup = iota
		measure
		stop
	)
	var phase int32
	var established, stopped sync.WaitGroup
	var nEstablished int64
	established.Add(o.sessions)
	stopped.Add(o.sessions)
	counts := make([]int64, o.sessions)
	samples := make([][]uint32, o.sessions)
	setStageFunc(func() string {
		return fmt.Sprintf("many: %d of %d sessions established, phase %d", atomic.LoadInt64(&nEstablished), o.sessions, atomic.LoadInt32(&phase))
	})
	start := time.Now()
	for i, c := range clients {
		go func(i int, c *kcp.UDPSession) {
			defer stopped.Done()
			rng := rand.New(rand.NewSource(int64(i) + 1))
			msg := make([]byte, o.size)
			back := make([]byte, o.size+4096)
			first := true
			for {
				ph := atomic.LoadInt32(&phase)
				if ph == stop {
					return
				}
				rng.Read(msg)
				t0 := time.Now()
				if err := echoOnce(c, msg, back); err != nil {
					failf("many: client %d: %v", i, err)
				}
				rtt := micros(time.Since(t0))
				if first {
					first = false
					atomic.AddInt64(&nEstablished, 1)
					established.Done()
				}
				if ph == measure && atomic.LoadInt32(&phase) == measure {
					counts[i]++
					samples[i] = append(samples[i], rtt)
				}
			}
		}(i, c)
	}
	established.Wait()
	establish := time.Since(start).Seconds()
	retrans0 := atomic.LoadUint64(&kcp.DefaultSnmp.RetransSegs)
	t0 := time.Now()
	atomic.StoreInt32(&phase, measure)
	time.Sleep(time.Duration(o.seconds * float64(time.Second))) // the measuring window itself
	atomic.StoreInt32(&phase, stop)
	window := time.Since(t0).Seconds()
	retrans := atomic.LoadUint64(&kcp.DefaultSnmp.RetransSegs) - retrans0
	stopped.Wait()
	total, st := gather(counts, samples)
	for _, c := range clients {
		c.Close()
	}
	emit(manyLine{Impl: "kcp-go", Case: "many", Sessions: o.sessions, Size: o.size, Seconds: round(window, 6),
		Messages: total, MsgsPerSec: round(float64(total)/window, 1), RttP50: st.p50, RttP99: st.p99, RttAvg: round(st.avg, 2),
		EstablishS: round(establish, 6), RetransSegs: retrans, benchTail: o.tail(true)})
}

// gather sums the clients' echo counts and summarizes their round trips.
func gather(counts []int64, samples [][]uint32) (int64, rttStats) {
	var total int64
	var all []uint32
	for i := range counts {
		total += counts[i]
		all = append(all, samples[i]...)
	}
	return total, summarize(all)
}

// ---------------------------------------------------------------------------
// idle

type idleLine struct {
	Impl         string  `json:"impl"`
	Case         string  `json:"case"`
	Sessions     int     `json:"sessions"`
	Seconds      float64 `json:"seconds"`
	RssKiBPerSes float64 `json:"rss_kib_per_session"`
	CPUPercent   float64 `json:"cpu_percent"`
	// live: after a GC that returned free memory to the OS (garbage and
	// heap headroom not counted)
	RssKiBPerSesLive float64 `json:"rss_kib_per_session_live"`
	RssKiBBefore     uint64  `json:"rss_kib_before"`
	RssKiBAfter      uint64  `json:"rss_kib_after"`
	RssKiBAfterLive  uint64  `json:"rss_kib_after_live"`
	EstablishS       float64 `json:"establish_seconds"`
	IdleDgrams       uint64  `json:"idle_datagrams"`
	Goroutines       int     `json:"goroutines"`
	NoFile           uint64  `json:"nofile_limit"`
	Measures         string  `json:"measures"`
	benchTail
}

// benchIdle: S kcp-go client sessions, each sends one 16-byte message that
// the server accepts and echoes once; then everything stays idle (the
// server keeps a goroutine blocked in Read per session, as a kcp-go server
// does). Client and server are this one process, so the figures are the
// whole process's: RSS growth from before the first dial (measured after a
// GC that returned free memory to the OS) to right after all sessions are
// established, divided by S, as the OS sees it; the same after another
// such GC ("live": what the sessions keep, without garbage and heap
// headroom); and the CPU
// (getrusage user+sys, the same counters as /proc/self/stat utime+stime at
// microsecond resolution) used during the --seconds idle window.
func benchIdle(o *benchOpts) {
	nofile := raiseNoFile(o.sessions + 64)
	l := startServer(&o.s, func(sess *kcp.UDPSession) {
		buf := make([]byte, 64)
		k, err := sess.Read(buf)
		if err != nil {
			return
		}
		if _, err := sess.Write(buf[:k]); err != nil {
			return
		}
		sess.Read(buf) // idle until the process exits
	})
	addr := l.Addr().String()
	settle()
	before := vmRSSKiB()

	clients := make([]*kcp.UDPSession, o.sessions)
	var next, established int64
	setStageFunc(func() string {
		return fmt.Sprintf("idle: %d of %d sessions established", atomic.LoadInt64(&established), o.sessions)
	})
	// At most 64 dials in flight: kcp-go's listener drops a new session's
	// packet when its accept backlog (128) is full, and a retransmission
	// much later only slows establishment down.
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := make([]byte, 16)
			back := make([]byte, 16+64)
			for {
				i := atomic.AddInt64(&next, 1) - 1
				if i >= int64(o.sessions) {
					return
				}
				c := dialClient(&o.s, addr)
				copy(msg, strconv.FormatInt(i, 10))
				if err := echoOnce(c, msg, back); err != nil {
					failf("idle: session %d: %v", i, err)
				}
				clients[i] = c
				atomic.AddInt64(&established, 1)
			}
		}()
	}
	wg.Wait()
	establish := time.Since(start).Seconds()
	after := vmRSSKiB()
	settle()
	afterLive := vmRSSKiB()

	setStage("idle: measuring %v s of idleness with %d sessions", o.seconds, o.sessions)
	pk0 := packetCount()
	cpu0 := cpuTime()
	w0 := time.Now()
	time.Sleep(time.Duration(o.seconds * float64(time.Second))) // the idle window itself
	cpu1 := cpuTime()
	window := time.Since(w0)
	pk1 := packetCount()
	perSession := func(after uint64) float64 {
		return round((float64(after)-float64(before))/float64(o.sessions), 2)
	}
	emit(idleLine{Impl: "kcp-go", Case: "idle", Sessions: o.sessions, Seconds: round(window.Seconds(), 6),
		RssKiBPerSes: perSession(after), RssKiBPerSesLive: perSession(afterLive),
		CPUPercent:   round(100*float64(cpu1-cpu0)/float64(window), 2),
		RssKiBBefore: before, RssKiBAfter: after, RssKiBAfterLive: afterLive, EstablishS: round(establish, 6), IdleDgrams: pk1 - pk0,
		Goroutines: runtime.NumGoroutine(), NoFile: nofile,
		Measures:  "whole process: kcp-go listener + all kcp-go client sessions (one UDP socket and reader goroutine each)",
		benchTail: o.tail(true)})
	runtime.KeepAlive(clients)
}

// settle runs the GC and returns freed memory to the OS, so VmRSS reflects
// live memory rather than when the Go runtime last scavenged.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

func vmRSSKiB() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		failf("reading /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 {
				v, err := strconv.ParseUint(fields[1], 10, 64)
				if err == nil {
					return v
				}
			}
		}
	}
	failf("no VmRSS in /proc/self/status")
	return 0
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		failf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseNoFile lifts RLIMIT_NOFILE to its hard limit: every kcp-go client
// dial opens its own UDP socket. It fails naming the limit when even the
// hard limit is below need.
func raiseNoFile(need int) uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		failf("getrlimit(RLIMIT_NOFILE): %v", err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			failf("setrlimit(RLIMIT_NOFILE, %d): %v", rl.Max, err)
		}
	}
	if rl.Cur < uint64(need) {
		failf("RLIMIT_NOFILE (ulimit -n) is %d even after raising it to the hard limit; %d sessions need about %d descriptors",
			rl.Cur, need-64, need)
	}
	return rl.Cur
}

// ---------------------------------------------------------------------------
// raw

type rawLine struct {
	Impl         string  `json:"impl"`
	Case         string  `json:"case"`
	Transport    string  `json:"transport"`
	Bytes        uint64  `json:"bytes"`
	BytesRecv    uint64  `json:"bytes_received"`
	Seconds      float64 `json:"seconds"`
	MBps         float64 `json:"mb_per_s"`
	SendMBps     float64 `json:"send_mb_per_s"`
	LossPercent  float64 `json:"loss_percent"`
	DatagramSize int     `json:"datagram_size"`
	Sent         uint64  `json:"datagrams_sent"`
	Received     uint64  `json:"datagrams_received"`
	benchTail
}

// benchRaw: plain UDP, the physical limit line. One socket sends
// 1400-byte datagrams as fast as it can (sendmmsg, 64 a call, as kcp-go
// batches) to another that counts them (recvmmsg). mb_per_s is bytes
// received over the time from the first send to the last receive; the
// receiver stops after every datagram arrived, or 50 ms after the sender
// finished with nothing more arriving (the rest were dropped by the kernel).
func benchRaw(o *benchOpts) {
	const dgram = 1400
	const batch = 64
	count := (o.bytes + dgram - 1) / dgram
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	rx, err := net.ListenUDP("udp4", lo)
	if err != nil {
		failf("raw: listen: %v", err)
	}
	tx, err := net.ListenUDP("udp4", lo)
	if err != nil {
		failf("raw: listen: %v", err)
	}
	if o.s.sockbuf > 0 {
		rx.SetReadBuffer(o.s.sockbuf)
		tx.SetWriteBuffer(o.s.sockbuf)
	}
	var received, recvBytes uint64
	var sendDone int32
	var lastRecv time.Time
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		p := ipv4.NewPacketConn(rx)
		msgs := make([]ipv4.Message, batch)
		for i := range msgs {
			msgs[i].Buffers = [][]byte{make([]byte, mtuLimit)}
		}
		for received < count {
			rx.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, err := p.ReadBatch(msgs, 0)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					if atomic.LoadInt32(&sendDone) == 1 {
						return // the sender is done and nothing came for 50 ms
					}
					continue
				}
				failf("raw: receive: %v", err)
			}
			for i := 0; i < n; i++ {
				recvBytes += uint64(msgs[i].N)
			}
			received += uint64(n)
			lastRecv = time.Now()
		}
	}()
	setStageFunc(func() string { return "raw: sending" })
	p := ipv4.NewPacketConn(tx)
	payload := make([]byte, dgram)
	msgs := make([]ipv4.Message, batch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{payload}
		msgs[i].Addr = rx.LocalAddr()
	}
	start := time.Now()
	var sent uint64
	for sent < count {
		k := uint64(batch)
		if count-sent < k {
			k = count - sent
		}
		n, err := p.WriteBatch(msgs[:k], 0)
		if err != nil {
			failf("raw: send: %v", err)
		}
		sent += uint64(n)
	}
	sendSecs := time.Since(start).Seconds()
	atomic.StoreInt32(&sendDone, 1)
	setStageFunc(func() string { return "raw: draining the receiver" })
	<-recvDone
	rx.Close()
	tx.Close()
	secs := lastRecv.Sub(start).Seconds()
	if received == 0 {
		secs = 0
	}
	emit(rawLine{Impl: "kcp-go", Case: "raw", Transport: "plain UDP, no KCP (the physical limit)", Bytes: sent * dgram,
		BytesRecv: recvBytes, Seconds: round(secs, 6), MBps: round(mbps(recvBytes, secs), 2),
		SendMBps: round(mbps(sent*dgram, sendSecs), 2), LossPercent: round(100*float64(sent-received)/float64(sent), 3),
		DatagramSize: dgram, Sent: sent, Received: received, benchTail: o.tail(false)})
}

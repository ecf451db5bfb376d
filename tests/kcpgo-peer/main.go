// Command kcpgo-peer is a real kcp-go endpoint over real UDP sockets on
// loopback: the kcp-go side of kcp-rs's session interop tests and session
// benchmarks. It uses kcp-go's public API only (ListenWithOptions,
// DialWithOptions, AcceptKCP, the UDPSession setters, the BlockCrypt
// constructors and DefaultSnmp), built against Debian's kcp-go 5.6.1.
//
// Subcommands (see README.md for the protocol and the JSON shapes):
//
//	serve   a kcp-go listener running the echo, sink or source application
//	dial    a kcp-go client session running the other end of one of them
//	bench   kcp-go server and client(s) in this one process: bulk, echo,
//	        many, idle, and raw UDP as the physical limit
//
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build (scripts/kcpgo.sh).
package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	kcp "github.com/xtaci/kcp-go"
	"golang.org/x/crypto/pbkdf2"
)

// kcpgoVersion is set by scripts/kcpgo.sh from dpkg (-ldflags -X).
var kcpgoVersion = "unknown"

const (
	kcptunSalt = "kcp-go"
	// mtuLimit is kcp-go's receive buffer size; SetMtu refuses more.
	mtuLimit = 1500
	// appChunk is the largest message the applications write: one segment
	// at the default MTU whatever the crypt/FEC headers (mss >= 1348).
	appChunk = 1300
	// patternPeriod: bulk byte i is i % 251 (a prime, so the pattern does
	// not line up with any message size and a shifted stream is caught).
	patternPeriod = 251
	// readBufSize is the Read buffer of the serve/dial applications: a
	// message up to this size is read whole (message mode); a longer one
	// is read in pieces by kcp-go, which only matters to echo.
	readBufSize = 64 << 10
)

// cmdName is the running subcommand, for error messages.
var cmdName = "kcpgo-peer"

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	cmdName = "kcpgo-peer " + os.Args[1]
	var err error
	switch os.Args[1] {
	case "serve":
		err = cmdServe(os.Args[2:])
	case "dial":
		err = cmdDial(os.Args[2:])
	case "bench":
		err = cmdBench(os.Args[2:])
	case "help", "-h", "--help":
		usage(os.Stdout)
		return
	default:
		fmt.Fprintf(os.Stderr, "kcpgo-peer: unknown subcommand %q\n", os.Args[1])
		usage(os.Stderr)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		failf("%v", err)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: kcpgo-peer <serve|dial|bench> [flags]   (kcp-go `+kcpgoVersion+`, `+runtime.Version()+`)

  serve --listen 127.0.0.1:0 --app echo|sink|source [--sessions K] [--messages M]
  dial  --remote HOST:PORT --app echo|sink|source [--messages M --size S --period D] [--bytes N]
  bench --case bulk|echo|many|idle|raw [case flags]

Shared flags: --crypt --key --datashard --parityshard --mode --wnd --mtu
--acknodelay --sockbuf --timeout. Output: one JSON object per line on stdout.
Run 'kcpgo-peer <subcommand> -h' for every flag.
`)
}

// failf reports a failure the way every kcp-rs harness does and exits 1.
// It may be called from any goroutine: a failing session ends the run.
func failf(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s: FAIL: %s\n", cmdName, fmt.Sprintf(format, a...))
	os.Exit(1)
}

// stdoutMu keeps JSON lines from concurrent sessions whole.
var stdoutMu sync.Mutex

// emit prints v as one JSON line on stdout (unbuffered: a test reading the
// "listening" line must see it at once).
func emit(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		failf("json: %v", err)
	}
	stdoutMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	stdoutMu.Unlock()
}

// ---------------------------------------------------------------------------
// settings shared by every subcommand

type settings struct {
	crypt, key string
	ds, ps     int
	mode       string
	wnd, mtu   int
	ackNoDelay bool
	sockbuf    int
	timeout    time.Duration
	linger     time.Duration
	derived    []byte // the kcptun key, derived once (4096 pbkdf2 rounds)
}

// addSettingsFlags declares the shared flags; --linger only where a peer
// process exits after its application (serve, dial).
func addSettingsFlags(fs *flag.FlagSet, s *settings, timeout time.Duration, withLinger bool) {
	fs.StringVar(&s.crypt, "crypt", "null", "null (block nil, no crypt header) | none | salsa20 | aes | aes-128 | aes-192")
	fs.StringVar(&s.key, "key", "it's a secrect", "passphrase; key = pbkdf2-sha1(pass, \"kcp-go\", 4096, 32) as kcptun derives it")
	fs.IntVar(&s.ds, "datashard", 0, "FEC data shards (0 = FEC off)")
	fs.IntVar(&s.ps, "parityshard", 0, "FEC parity shards (0 = FEC off)")
	fs.StringVar(&s.mode, "mode", "fast3", "kcptun preset nodelay,interval,resend,nc: normal (0,40,2,1) | fast (0,30,2,1) | fast2 (1,20,2,1) | fast3 (1,10,2,1) | default (kcp-go's own: 0,100,0,0, windows 32, MTU 1400; --wnd and --mtu are ignored)")
	fs.IntVar(&s.wnd, "wnd", 1024, "send and receive window, in segments")
	fs.IntVar(&s.mtu, "mtu", 1400, "MTU (whole datagram, headers included), at most 1500")
	fs.BoolVar(&s.ackNoDelay, "acknodelay", false, "SetACKNoDelay(true): acks flushed as each packet arrives")
	fs.IntVar(&s.sockbuf, "sockbuf", 4<<20, "UDP socket SO_RCVBUF/SO_SNDBUF in bytes, as kcptun sets them (0 = kernel default)")
	fs.DurationVar(&s.timeout, "timeout", timeout, "hard limit for the whole run")
	if !withLinger {
		return
	}
	fs.DurationVar(&s.linger, "linger", 500*time.Millisecond, "after the application is done, keep the sessions alive until no datagram went either way for this long (so the last data and acks are delivered); 0 = exit at once")
}

func parseFlags(fs *flag.FlagSet, args []string, s *settings) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if s == nil {
		return nil
	}
	if s.ds < 0 || s.ps < 0 || s.ds > 255 || s.ps > 255 {
		return fmt.Errorf("--datashard/--parityshard must be in 0..255")
	}
	if (s.ds == 0) != (s.ps == 0) {
		return fmt.Errorf("--datashard and --parityshard must both be 0 (FEC off) or both > 0 (kcp-go turns FEC off if either is 0)")
	}
	if s.mtu < 50 || s.mtu > mtuLimit {
		return fmt.Errorf("--mtu must be in 50..1500 (kcp-go's limits)")
	}
	if s.wnd < 1 {
		return fmt.Errorf("--wnd must be >= 1")
	}
	if s.timeout <= 0 {
		return fmt.Errorf("--timeout must be > 0")
	}
	if _, _, _, _, err := s.preset(); err != nil {
		return err
	}
	s.derived = pbkdf2.Key([]byte(s.key), []byte(kcptunSalt), 4096, 32, sha1.New)
	if _, err := makeBlock(s.crypt, s.derived); err != nil {
		return err
	}
	return nil
}

// preset resolves --mode to kcp-go's NoDelay arguments (kcptun's presets).
func (s *settings) preset() (nodelay, interval, resend, nc int, err error) {
	switch s.mode {
	case "normal":
		return 0, 40, 2, 1, nil
	case "fast":
		return 0, 30, 2, 1, nil
	case "fast2":
		return 1, 20, 2, 1, nil
	case "fast3":
		return 1, 10, 2, 1, nil
	case "default":
		return 0, 100, 0, 0, nil
	}
	return 0, 0, 0, 0, fmt.Errorf("unknown --mode %q (normal|fast|fast2|fast3|default)", s.mode)
}

// block builds a fresh BlockCrypt for one listener or one dialed session;
// parseFlags has already validated the name. Fresh, because kcp-go's AES
// BlockCrypt keeps scratch buffers in the instance: sessions on different
// goroutines must not share one (a kcp-go listener shares its own among
// its sessions; that is kcp-go's business).
func (s *settings) block() kcp.BlockCrypt {
	b, err := makeBlock(s.crypt, s.derived)
	if err != nil {
		failf("%v", err)
	}
	return b
}

// makeBlock builds the BlockCrypt exactly as kcptun does, from the key
// kcptun derives: pbkdf2.Key(pass, "kcp-go", 4096, 32, sha1).
func makeBlock(crypt string, key []byte) (kcp.BlockCrypt, error) {
	switch crypt {
	case "null":
		return nil, nil // no crypt header at all, unlike "none"
	case "none":
		return kcp.NewNoneBlockCrypt(key)
	case "salsa20":
		return kcp.NewSalsa20BlockCrypt(key)
	case "aes", "aes-256":
		return kcp.NewAESBlockCrypt(key)
	case "aes-128":
		return kcp.NewAESBlockCrypt(key[:16])
	case "aes-192":
		return kcp.NewAESBlockCrypt(key[:24])
	}
	return nil, fmt.Errorf("unknown --crypt %q (null|none|salsa20|aes|aes-128|aes-192)", crypt)
}

// configure applies the shared settings to one session, accepted or dialed,
// and tracks it for the linger.
func (s *settings) configure(sess *kcp.UDPSession) {
	track(sess)
	if s.mode != "default" {
		// "default" leaves kcp-go's own settings, as a kcp-go user who sets
		// nothing has them.
		nodelay, interval, resend, nc, _ := s.preset()
		sess.SetNoDelay(nodelay, interval, resend, nc)
		sess.SetWindowSize(s.wnd, s.wnd)
		if !sess.SetMtu(s.mtu) {
			failf("SetMtu(%d) refused", s.mtu)
		}
	}
	sess.SetACKNoDelay(s.ackNoDelay)
	sess.SetStreamMode(false) // message mode: one Read = one message
	// kcptun's default: a Write is flushed at once rather than at the next
	// update tick, which is what an echo's latency needs.
	sess.SetWriteDelay(false)
}

// configureDialed also sizes a client session's own socket (an accepted
// session shares the listener's socket; kcp-go ignores the call there).
func (s *settings) configureDialed(sess *kcp.UDPSession) {
	s.configure(sess)
	if s.sockbuf > 0 {
		sess.SetReadBuffer(s.sockbuf)
		sess.SetWriteBuffer(s.sockbuf)
	}
}

func (s *settings) configureListener(l *kcp.Listener) {
	if s.sockbuf > 0 {
		l.SetReadBuffer(s.sockbuf)
		l.SetWriteBuffer(s.sockbuf)
	}
}

// settingsJSON is echoed in every bench line so a figure says what it ran.
type settingsJSON struct {
	Mode         string `json:"mode"`
	NoDelay      int    `json:"nodelay"`
	Interval     int    `json:"interval"`
	Resend       int    `json:"resend"`
	NC           int    `json:"nc"`
	Wnd          int    `json:"wnd"`
	MTU          int    `json:"mtu"`
	Crypt        string `json:"crypt"`
	DataShards   int    `json:"datashard"`
	ParityShards int    `json:"parityshard"`
	AckNoDelay   bool   `json:"acknodelay"`
	StreamMode   bool   `json:"stream"`
	WriteDelay   bool   `json:"write_delay"`
	SockBuf      int    `json:"sockbuf"`
}

func (s *settings) json() settingsJSON {
	nodelay, interval, resend, nc, _ := s.preset()
	wnd, mtu := s.wnd, s.mtu
	if s.mode == "default" {
		wnd, mtu = 32, 1400
	}
	return settingsJSON{Mode: s.mode, NoDelay: nodelay, Interval: interval, Resend: resend, NC: nc,
		Wnd: wnd, MTU: mtu, Crypt: s.crypt, DataShards: s.ds, ParityShards: s.ps,
		AckNoDelay: s.ackNoDelay, SockBuf: s.sockbuf}
}

// ---------------------------------------------------------------------------
// kcp-go's process-wide counters

// snmpJSON is a snapshot of kcp-go's DefaultSnmp. The Snmp struct has no
// JSON tags, so its exported field names are the keys, as documented.
func snmpJSON() *kcp.Snmp { return kcp.DefaultSnmp.Copy() }

// packetCount is the number of datagrams kcp-go has moved either way; the
// linger watches it to see the line go quiet.
func packetCount() uint64 {
	return atomic.LoadUint64(&kcp.DefaultSnmp.InPkts) + atomic.LoadUint64(&kcp.DefaultSnmp.OutPkts)
}

// inCount is the number of datagrams kcp-go has received.
func inCount() uint64 { return atomic.LoadUint64(&kcp.DefaultSnmp.InPkts) }

// silentPeer ends a linger whose sent data stays unacknowledged while
// nothing arrives: the peer is gone. A live peer answers one of kcp-go's
// retransmissions well within it (six copies lost in a row through the
// tests' 10% loss: one in a million).
const silentPeer = 3 * time.Second

// linger keeps this process's sessions alive until every one of them has
// its sent data acknowledged and no datagram has moved for `quiet`, or
// until deadline. kcp-go has no close handshake: a peer that exits right
// after its last Write (or its last Read) can take the only copy of the
// final data (or ack) with it, and under loss the other side never gets
// it. Waiting for our own data to be acked covers the first case (see
// unacked.go); waiting for the line to go quiet lets the peer's last
// retransmissions be acked. It returns "quiet", "peer silent" or
// "deadline".
func linger(quiet time.Duration, deadline time.Time) string {
	if quiet <= 0 {
		return "off"
	}
	start := time.Now()
	last, lastChange := packetCount(), start
	lastIn, lastInChange := inCount(), start
	step := quiet / 10
	if step > 20*time.Millisecond {
		step = 20 * time.Millisecond
	}
	for {
		now := time.Now()
		if n := packetCount(); n != last {
			last, lastChange = n, now
		}
		if n := inCount(); n != lastIn {
			lastIn, lastInChange = n, now
		}
		if now.Sub(lastChange) >= quiet || now.Sub(lastInChange) >= silentPeer {
			switch {
			case unackedSegments() == 0:
				return "quiet"
			case now.Sub(lastInChange) >= silentPeer:
				return "peer silent"
			}
		}
		if now.After(deadline) {
			return "deadline"
		}
		time.Sleep(step) // polling observable counters, bounded by deadline
	}
}

// ---------------------------------------------------------------------------
// watchdog

// stage describes what the run is doing, for the timeout message. It is a
// function so that hot loops publish progress through an atomic counter
// instead of formatting a string per message.
var stage atomic.Value

func setStage(format string, a ...interface{}) {
	msg := fmt.Sprintf(format, a...)
	stage.Store(func() string { return msg })
}

func setStageFunc(f func() string) { stage.Store(f) }

// startWatchdog enforces --timeout on the whole run: on expiry it prints
// FAIL (naming the stage) and exits 1, whatever goroutine is blocked. It
// returns the deadline and the watchdog's timer: stopping it hands the
// rest of the run (a linger bounded by the deadline) back to the caller.
func startWatchdog(d time.Duration) (time.Time, *time.Timer) {
	setStage("starting")
	t := time.AfterFunc(d, func() {
		failf("timed out after %v while %v", d, stage.Load().(func() string)())
	})
	return time.Now().Add(d), t
}

// ---------------------------------------------------------------------------
// the bulk byte pattern

// pattern holds bytes i % 251, long enough that the next readBufSize bytes
// at any stream offset are one slice of it (no per-byte work either side).
var pattern = func() []byte {
	b := make([]byte, patternPeriod+readBufSize)
	for i := range b {
		b[i] = byte(i % patternPeriod)
	}
	return b
}()

// patternAt returns the n pattern bytes starting at bulk offset off.
func patternAt(off uint64, n int) []byte {
	s := int(off % patternPeriod)
	return pattern[s : s+n]
}

// checkPattern fails the run naming the first wrong byte, if any.
func checkPattern(what string, off uint64, got []byte) {
	want := patternAt(off, len(got))
	if bytes.Equal(want, got) { // a memcmp: verification costs next to nothing
		return
	}
	for i := range got {
		if got[i] != want[i] {
			failf("%s: wrong byte at bulk offset %d: expected %d, got %d", what, off+uint64(i), want[i], got[i])
		}
	}
}

// ---------------------------------------------------------------------------
// small helpers

// parseSize accepts a byte count with an optional K/M/G (10^3) or
// KiB/MiB/GiB (2^10) suffix.
func parseSize(s string) (uint64, error) {
	mult := uint64(1)
	t := strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}} {
		if strings.HasSuffix(t, u.suffix) {
			mult, t = u.mult, strings.TrimSuffix(t, u.suffix)
			break
		}
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q (an integer, optionally with K M G KiB MiB GiB)", s)
	}
	return v * mult, nil
}

// sizeFlag is a flag.Value for byte counts.
type sizeFlag struct{ v uint64 }

func (f *sizeFlag) String() string { return strconv.FormatUint(f.v, 10) }
func (f *sizeFlag) Set(s string) error {
	v, err := parseSize(s)
	f.v = v
	return err
}

// percentiles of RTT samples in microseconds (sorted in place).
type rttStats struct {
	p50, p99, avg float64
	n             int
}

func summarize(us []uint32) rttStats {
	if len(us) == 0 {
		return rttStats{}
	}
	sort.Slice(us, func(i, j int) bool { return us[i] < us[j] })
	var sum float64
	for _, v := range us {
		sum += float64(v)
	}
	at := func(q float64) float64 {
		i := int(q*float64(len(us))+0.5) - 1 // nearest rank
		if i < 0 {
			i = 0
		}
		if i >= len(us) {
			i = len(us) - 1
		}
		return float64(us[i])
	}
	return rttStats{p50: at(0.50), p99: at(0.99), avg: sum / float64(len(us)), n: len(us)}
}

func micros(d time.Duration) uint32 {
	us := d.Microseconds()
	if us > 1<<32-1 {
		us = 1<<32 - 1
	}
	return uint32(us)
}

// round keeps JSON figures readable.
func round(v float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	if v >= 0 {
		return float64(int64(v*p+0.5)) / p
	}
	return float64(int64(v*p-0.5)) / p
}

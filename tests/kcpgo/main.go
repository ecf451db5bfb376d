// Command kcpgo is the kcp-go side of kcp-rs's known-answer tests and
// benchmarks. It drives the real kcp-go (Debian's golang-github-xtaci-kcp-dev,
// 5.6.1) through its public API only, over in-memory net.PacketConn
// implementations: no sockets are involved.
//
// Subcommands (run `kcpgo help` for the flags):
//
//	emit    hex messages on stdin  -> every datagram kcp-go's client wrote, hex, on stdout
//	absorb  hex datagrams on stdin -> every message kcp-go's listener delivered, hex, on stdout;
//	        kcp-go's SNMP counters as one JSON line on stderr
//	decode  hex datagrams on stdin -> one JSON object per datagram (layout as kcp-go reads it)
//	gen     deterministic pseudo-random hex messages (test input)
//	bench   kcp-go's packet codec throughput (FEC + crypt) as JSON
//
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build (scripts/kcpgo.sh).
package main

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/reedsolomon"
	kcp "github.com/xtaci/kcp-go"
	"golang.org/x/crypto/pbkdf2"
)

// kcpgoVersion is set by scripts/kcpgo.sh from dpkg (-ldflags -X).
var kcpgoVersion = "unknown"

// Wire constants of kcp-go 5.6.1 (sess.go, fec.go, kcp.go). They are
// unexported there; kcpgo needs them only to decode what kcp-go wrote.
const (
	nonceSize       = 16
	crcSize         = 4
	cryptHeaderSize = nonceSize + crcSize
	fecHeaderSize   = 6 // seqid u32 | type u16
	fecHeaderPlus2  = fecHeaderSize + 2
	typeData        = 0xf1
	typeParity      = 0xf2
	kcpOverhead     = 24
	mtuLimit        = 1500 // kcp-go's receive buffer: longer datagrams are truncated
	kcpgoWndDefault = 32   // IKCP_WND_SND = IKCP_WND_RCV = initial rmt_wnd in kcp-go
	kcpgoMtuDefault = 1400
	kcptunSalt      = "kcp-go"
)

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "emit":
		err = cmdEmit(os.Args[2:])
	case "absorb":
		err = cmdAbsorb(os.Args[2:])
	case "decode":
		err = cmdDecode(os.Args[2:])
	case "gen":
		err = cmdGen(os.Args[2:])
	case "bench":
		err = cmdBench(os.Args[2:])
	case "help", "-h", "--help":
		usage(os.Stdout)
		return
	default:
		fmt.Fprintf(os.Stderr, "kcpgo: unknown subcommand %q\n", os.Args[1])
		usage(os.Stderr)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kcpgo %s: FAIL: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: kcpgo <emit|absorb|decode|gen|bench> [flags]   (kcp-go `+kcpgoVersion+`, `+runtime.Version()+`)

  emit   < messages.hex > datagrams.hex   kcp-go client session; prints every datagram it wrote
  absorb < datagrams.hex > messages.hex   kcp-go listener (ServeConn); prints every message delivered,
                                          then kcp-go's SNMP counters as one JSON line on stderr
  decode < datagrams.hex > layout.jsonl   one JSON object per datagram, parsed the way kcp-go parses it
  gen    > messages.hex                   deterministic pseudo-random messages
  bench  > bench.json                     kcp-go codec throughput, 1400-byte datagrams

Input is one hex string per line; blank lines and lines starting with '#' are skipped.
Run 'kcpgo <subcommand> -h' for its flags.
`)
}

// ---------------------------------------------------------------------------
// settings shared by emit and absorb

type settings struct {
	crypt, key         string
	ds, ps             int
	conv               string
	mtu                int
	mode               string
	nodelay, interval  int
	resend, nc         int
	wnd                int
	stream, ackNoDelay bool
	timeout            time.Duration
	set                map[string]bool // flags given on the command line
}

func addSettingsFlags(fs *flag.FlagSet, s *settings, wndDefault int, wndDoc string) {
	fs.StringVar(&s.crypt, "crypt", "null", "null (no crypt header) | none | salsa20 | aes | aes-128 | aes-192")
	fs.StringVar(&s.key, "key", "it's a secrect", "passphrase; key = pbkdf2-sha1(pass, \"kcp-go\", 4096, 32) as kcptun derives it")
	fs.IntVar(&s.ds, "datashard", 0, "FEC data shards (0 = FEC off)")
	fs.IntVar(&s.ps, "parityshard", 0, "FEC parity shards (0 = FEC off)")
	fs.StringVar(&s.conv, "conv", "", "conversation id, decimal or 0x-hex (emit; default: random, as kcp-go's Dial/NewConn2 do)")
	fs.IntVar(&s.mtu, "mtu", kcpgoMtuDefault, "MTU (whole datagram, headers included), at most 1500")
	fs.StringVar(&s.mode, "mode", "", "kcptun preset: normal (0,40,2,1) | fast (0,30,2,1) | fast2 (1,20,2,1) | fast3 (1,10,2,1); --nodelay etc. override it")
	fs.IntVar(&s.nodelay, "nodelay", -1, "kcp nodelay (-1 = kcp-go default 0)")
	fs.IntVar(&s.interval, "interval", -1, "kcp update interval in ms (-1 = kcp-go default 100)")
	fs.IntVar(&s.resend, "resend", -1, "fast resend threshold (-1 = kcp-go default 0)")
	fs.IntVar(&s.nc, "nc", -1, "1 = no congestion window (-1 = kcp-go default 0)")
	fs.IntVar(&s.wnd, "wnd", wndDefault, "send and receive window, in segments ("+wndDoc+")")
	fs.BoolVar(&s.stream, "stream", false, "stream mode (SetStreamMode)")
	fs.BoolVar(&s.ackNoDelay, "acknodelay", false, "SetACKNoDelay(true): acks flushed as each packet arrives")
	fs.DurationVar(&s.timeout, "timeout", 10*time.Second, "hard limit for the whole run; exceeding it fails loudly")
}

func parseFlags(fs *flag.FlagSet, args []string, s *settings) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if s != nil {
		s.set = map[string]bool{}
		fs.Visit(func(f *flag.Flag) { s.set[f.Name] = true })
		if s.ds < 0 || s.ps < 0 || s.ds > 255 || s.ps > 255 {
			return fmt.Errorf("--datashard/--parityshard must be in 0..255")
		}
		if (s.ds == 0) != (s.ps == 0) {
			return fmt.Errorf("--datashard and --parityshard must both be 0 (FEC off) or both > 0 (kcp-go turns FEC off if either is 0)")
		}
		if s.mtu < 50 || s.mtu > mtuLimit {
			return fmt.Errorf("--mtu must be in 50..1500 (kcp-go's limits)")
		}
		if s.mtu-kcpOverhead-s.headerSize() <= 0 {
			return fmt.Errorf("--mtu %d leaves no room for data after %d header bytes", s.mtu, kcpOverhead+s.headerSize())
		}
	}
	return nil
}

// resolved returns the nodelay parameters kcp-go will run with.
func (s *settings) resolved() (nodelay, interval, resend, nc int, err error) {
	nodelay, interval, resend, nc = 0, 100, 0, 0 // kcp-go's NewKCP defaults
	switch s.mode {
	case "":
	case "normal":
		nodelay, interval, resend, nc = 0, 40, 2, 1
	case "fast":
		nodelay, interval, resend, nc = 0, 30, 2, 1
	case "fast2":
		nodelay, interval, resend, nc = 1, 20, 2, 1
	case "fast3":
		nodelay, interval, resend, nc = 1, 10, 2, 1
	default:
		return 0, 0, 0, 0, fmt.Errorf("unknown --mode %q", s.mode)
	}
	if s.nodelay >= 0 {
		nodelay = s.nodelay
	}
	if s.interval >= 0 {
		interval = s.interval
	}
	if s.resend >= 0 {
		resend = s.resend
	}
	if s.nc >= 0 {
		nc = s.nc
	}
	return
}

func (s *settings) fec() bool { return s.ds > 0 && s.ps > 0 }

// headerSize is kcp-go's UDPSession.headerSize: what precedes the KCP bytes.
func (s *settings) headerSize() int {
	n := 0
	if s.crypt != "null" {
		n += cryptHeaderSize
	}
	if s.fec() {
		n += fecHeaderPlus2
	}
	return n
}

// mss is the KCP payload per segment, as kcp-go computes it after
// ReserveBytes(headerSize) and SetMtu(mtu).
func (s *settings) mss() int { return s.mtu - kcpOverhead - s.headerSize() }

// makeBlock builds the BlockCrypt exactly as kcptun does.
func makeBlock(crypt, pass string) (kcp.BlockCrypt, error) {
	key := pbkdf2.Key([]byte(pass), []byte(kcptunSalt), 4096, 32, sha1.New)
	switch crypt {
	case "null":
		return nil, nil
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

func applySettings(sess *kcp.UDPSession, s *settings) error {
	nodelay, interval, resend, nc, err := s.resolved()
	if err != nil {
		return err
	}
	sess.SetNoDelay(nodelay, interval, resend, nc)
	if s.wnd > 0 {
		sess.SetWindowSize(s.wnd, s.wnd)
	}
	if !sess.SetMtu(s.mtu) {
		return fmt.Errorf("SetMtu(%d) refused", s.mtu)
	}
	sess.SetStreamMode(s.stream)
	sess.SetACKNoDelay(s.ackNoDelay)
	sess.SetWriteDelay(false)
	return nil
}

func parseConv(str string) (uint32, error) {
	v, err := strconv.ParseUint(str, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("bad --conv %q: %v", str, err)
	}
	return uint32(v), nil
}

// ---------------------------------------------------------------------------
// in-memory packet connections

type memAddr string

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }

type packet struct {
	data []byte
	from net.Addr
}

// memConn is a net.PacketConn whose WriteTo hands a copy of each datagram
// to onWrite and whose ReadFrom yields what deliver() queued.
type memConn struct {
	local   net.Addr
	inbox   chan packet
	onWrite func(b []byte, to net.Addr)
	die     chan struct{}
	dieOnce sync.Once
}

func newMemConn(local string) *memConn {
	return &memConn{local: memAddr(local), inbox: make(chan packet, 1<<16), die: make(chan struct{})}
}

func (c *memConn) deliver(b []byte, from net.Addr) {
	select {
	case c.inbox <- packet{b, from}:
	default:
		fatalf("in-memory link to %s overflowed (%d datagrams queued)", c.local, cap(c.inbox))
	}
}

func (c *memConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case p := <-c.inbox:
		return copy(b, p.data), p.from, nil
	case <-c.die:
		return 0, nil, net.ErrClosed
	}
}

func (c *memConn) WriteTo(b []byte, to net.Addr) (int, error) {
	select {
	case <-c.die:
		return 0, net.ErrClosed
	default:
	}
	if c.onWrite != nil {
		c.onWrite(append([]byte(nil), b...), to)
	}
	return len(b), nil
}

func (c *memConn) Close() error                       { c.dieOnce.Do(func() { close(c.die) }); return nil }
func (c *memConn) LocalAddr() net.Addr                { return c.local }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// capture records datagrams in the order kcp-go wrote them.
type capture struct {
	mu   sync.Mutex
	pkts [][]byte
}

func (c *capture) add(b []byte) {
	c.mu.Lock()
	c.pkts = append(c.pkts, b)
	c.mu.Unlock()
}

func (c *capture) snapshot() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.pkts...)
}

func (c *capture) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pkts)
}

func fatalf(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "kcpgo: FAIL: "+format+"\n", a...)
	os.Exit(1)
}

// waitFor polls cond until it holds or the deadline passes. It is the only
// synchronisation with kcp-go's goroutines: every wait is on an observable
// condition, never a bare sleep.
func waitFor(deadline time.Time, what string, cond func() bool) error {
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(500 * time.Microsecond)
	}
	return nil
}

// ---------------------------------------------------------------------------
// hex line I/O

func readHexLines(r io.Reader) ([][]byte, error) {
	var out [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		b, err := hex.DecodeString(t)
		if err != nil {
			return nil, fmt.Errorf("stdin line %d: %v", line, err)
		}
		out = append(out, b)
	}
	return out, sc.Err()
}

func writeHexLines(w io.Writer, pkts [][]byte) error {
	bw := bufio.NewWriter(w)
	for _, p := range pkts {
		bw.WriteString(hex.EncodeToString(p))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ---------------------------------------------------------------------------
// decoding what kcp-go wrote (our code, mirroring kcp-go's packetInput)

type segJSON struct {
	Conv uint32 `json:"conv"`
	Cmd  uint8  `json:"cmd"`
	Frg  uint8  `json:"frg"`
	Wnd  uint16 `json:"wnd"`
	Ts   uint32 `json:"ts"`
	Sn   uint32 `json:"sn"`
	Una  uint32 `json:"una"`
	Len  uint32 `json:"len"`
	Data string `json:"data,omitempty"`
}

type dgramJSON struct {
	Index   int       `json:"index"`
	Len     int       `json:"len"`
	Nonce   string    `json:"nonce,omitempty"`
	CRC     string    `json:"crc,omitempty"`
	CRCOK   *bool     `json:"crc_ok,omitempty"`
	FECSeq  *uint32   `json:"fec_seqid,omitempty"`
	FECType string    `json:"fec_type,omitempty"` // data | parity
	FECSize *uint16   `json:"fec_size,omitempty"`
	Segs    []segJSON `json:"segs,omitempty"`
	Err     string    `json:"err,omitempty"`
}

// decodeDatagram decrypts a copy of b with block (nil = crypt "null") and
// parses it the way kcp-go's UDPSession.packetInput/kcpInput do: the FEC
// header is recognised by the u16 at offset 4 whatever FEC is configured.
func decodeDatagram(idx int, b []byte, block kcp.BlockCrypt, withData bool) dgramJSON {
	d := dgramJSON{Index: idx, Len: len(b)}
	data := append([]byte(nil), b...)
	if block != nil {
		if len(data) < cryptHeaderSize {
			d.Err = "shorter than the crypt header"
			return d
		}
		block.Decrypt(data, data)
		d.Nonce = hex.EncodeToString(data[:nonceSize])
		d.CRC = hex.EncodeToString(data[nonceSize:cryptHeaderSize])
		ok := crc32.ChecksumIEEE(data[cryptHeaderSize:]) == binary.LittleEndian.Uint32(data[nonceSize:])
		d.CRCOK = &ok
		if !ok {
			d.Err = "crc32 mismatch (kcp-go counts InCsumErrors and drops it)"
			return d
		}
		data = data[cryptHeaderSize:]
	}
	if len(data) < kcpOverhead {
		d.Err = "shorter than a KCP header (kcp-go drops it)"
		return d
	}
	if f := binary.LittleEndian.Uint16(data[4:]); f == typeData || f == typeParity {
		if len(data) < fecHeaderPlus2 {
			d.Err = "shorter than the FEC header"
			return d
		}
		seq := binary.LittleEndian.Uint32(data)
		d.FECSeq = &seq
		if f == typeParity {
			d.FECType = "parity"
			return d
		}
		d.FECType = "data"
		sz := binary.LittleEndian.Uint16(data[fecHeaderSize:])
		d.FECSize = &sz
		data = data[fecHeaderPlus2:]
	}
	for len(data) >= kcpOverhead {
		var s segJSON
		s.Conv = binary.LittleEndian.Uint32(data)
		s.Cmd = data[4]
		s.Frg = data[5]
		s.Wnd = binary.LittleEndian.Uint16(data[6:])
		s.Ts = binary.LittleEndian.Uint32(data[8:])
		s.Sn = binary.LittleEndian.Uint32(data[12:])
		s.Una = binary.LittleEndian.Uint32(data[16:])
		s.Len = binary.LittleEndian.Uint32(data[20:])
		data = data[kcpOverhead:]
		if uint32(len(data)) < s.Len {
			d.Err = "segment length runs past the datagram"
			d.Segs = append(d.Segs, s)
			return d
		}
		if withData {
			s.Data = hex.EncodeToString(data[:s.Len])
		}
		data = data[s.Len:]
		d.Segs = append(d.Segs, s)
	}
	if len(data) > 0 {
		d.Err = fmt.Sprintf("%d trailing bytes", len(data))
	}
	return d
}

// createsSession says whether kcp-go's Listener.packetInput would create a
// session for this datagram from an unknown address: it must authenticate
// and be a plain KCP packet or an FEC data shard (never a parity shard).
func createsSession(b []byte, block kcp.BlockCrypt) bool {
	data := append([]byte(nil), b...)
	if block != nil {
		if len(data) < cryptHeaderSize {
			return false
		}
		block.Decrypt(data, data)
		if crc32.ChecksumIEEE(data[cryptHeaderSize:]) != binary.LittleEndian.Uint32(data[nonceSize:]) {
			return false
		}
		data = data[cryptHeaderSize:]
	}
	if len(data) < kcpOverhead {
		return false
	}
	switch binary.LittleEndian.Uint16(data[4:]) {
	case typeData:
		return len(data) >= fecHeaderPlus2+kcpOverhead
	case typeParity:
		return false
	}
	return true
}

func cmdDecode(args []string) error {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	crypt := fs.String("crypt", "null", "null | none | salsa20 | aes | aes-128 | aes-192")
	key := fs.String("key", "it's a secrect", "passphrase (kcptun derivation)")
	noData := fs.Bool("no-data", false, "omit segment payloads")
	if err := parseFlags(fs, args, nil); err != nil {
		return err
	}
	block, err := makeBlock(*crypt, *key)
	if err != nil {
		return err
	}
	pkts, err := readHexLines(os.Stdin)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	for i, p := range pkts {
		if err := enc.Encode(decodeDatagram(i, p, block, !*noData)); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// emit

type emitSummary struct {
	Conv          uint32 `json:"conv"`
	Datagrams     int    `json:"datagrams"`
	FECData       int    `json:"fec_data"`
	FECParity     int    `json:"fec_parity"`
	PushSegments  int    `json:"push_segments"`
	AckOnly       int    `json:"ack_only_datagrams"`
	Messages      int    `json:"messages"`
	Bytes         int    `json:"bytes"`
	MSS           int    `json:"mss"`
	HeaderSize    int    `json:"header_size"`
	Peer          bool   `json:"peer"`
	FECFlushPokes int    `json:"fec_flush_pokes"`
	Nodelay       int    `json:"nodelay"`
	Interval      int    `json:"interval"`
	Resend        int    `json:"resend"`
	NC            int    `json:"nc"`
	Wnd           int    `json:"wnd"`
}

func cmdEmit(args []string) error {
	var s settings
	fs := flag.NewFlagSet("emit", flag.ContinueOnError)
	addSettingsFlags(fs, &s, 0, "0 = kcp-go's default 32")
	peer := fs.Bool("peer", false, "run a kcp-go listener (ServeConn) in process as the receiver, so acks flow; needed for nc=0 and for more than 32 segments (without --peer, --nc and --mode, emit runs nc=1)")
	fecFlush := fs.Bool("fec-flush", true, "with FEC, end on a complete FEC group: after the messages, make the client send ack-only datagrams (it acks 1-byte messages from a kcp-go peer) until its parity shards are out")
	explain := fs.Bool("explain", false, "also print each emitted datagram decoded, as JSON lines, on stderr")
	if err := parseFlags(fs, args, &s); err != nil {
		return err
	}
	deadline := time.Now().Add(s.timeout)
	block, err := makeBlock(s.crypt, s.key)
	if err != nil {
		return err
	}
	msgs, err := readHexLines(os.Stdin)
	if err != nil {
		return err
	}
	total := 0
	segs := 0
	mss := s.mss()
	for i, m := range msgs {
		if len(m) == 0 {
			return fmt.Errorf("message %d is empty: kcp-go's Write sends nothing for an empty buffer", i)
		}
		total += len(m)
		segs += (len(m) + mss - 1) / mss // UDPSession.Write cuts at mss, one Send each
	}
	// Without a receiver nobody acks: kcp-go starts with cwnd 0 (the first
	// flush sends nothing, later ones one segment at a time) unless nc=1,
	// and it never has more than min(sndwnd, rmt_wnd = 32) segments in flight.
	if !*peer && !s.set["nc"] && s.mode == "" {
		s.nc = 1
	}
	nodelay, interval, resend, nc, err := s.resolved()
	if err != nil {
		return err
	}
	wnd := s.wnd
	if wnd <= 0 {
		wnd = kcpgoWndDefault
	}
	if !*peer {
		if nc != 1 {
			return fmt.Errorf("nc=0 without --peer: kcp-go's congestion window starts at 0 and grows only with acks; use --nc 1 or --peer")
		}
		limit := wnd
		if limit > kcpgoWndDefault {
			limit = kcpgoWndDefault
		}
		if !s.stream && segs > limit {
			return fmt.Errorf("%d segments without --peer: kcp-go keeps at most min(wnd %d, initial rmt_wnd 32) = %d unacked; use --peer", segs, wnd, limit)
		}
	}

	clientAddr, serverAddr := memAddr("kcpgo-client:1"), memAddr("kcpgo-server:2")
	cconn := newMemConn(string(clientAddr))
	var out capture
	var client *kcp.UDPSession

	// The receiver that acks (--peer), or that only pokes the client for an
	// FEC flush (no --peer). Either way a genuine kcp-go session.
	var peerSess *kcp.UDPSession
	var peerMu sync.Mutex
	var received []byte
	peerErr := make(chan error, 1)

	if *peer {
		sconn := newMemConn(string(serverAddr))
		cconn.onWrite = func(b []byte, to net.Addr) { out.add(b); sconn.deliver(b, clientAddr) }
		sconn.onWrite = func(b []byte, to net.Addr) { cconn.deliver(b, serverAddr) }
		l, err := kcp.ServeConn(block, s.ds, s.ps, sconn)
		if err != nil {
			return err
		}
		l.SetReadDeadline(deadline)
		go func() {
			sess, err := l.AcceptKCP()
			if err != nil {
				peerErr <- fmt.Errorf("peer accept: %v", err)
				return
			}
			if err := applySettings(sess, &s); err != nil {
				peerErr <- err
				return
			}
			peerMu.Lock()
			peerSess = sess
			peerMu.Unlock()
			buf := make([]byte, 256*mtuLimit)
			for {
				sess.SetReadDeadline(deadline)
				n, err := sess.Read(buf)
				if err != nil {
					peerErr <- fmt.Errorf("peer read: %v", err)
					return
				}
				peerMu.Lock()
				received = append(received, buf[:n]...)
				peerMu.Unlock()
			}
		}()
	} else {
		cconn.onWrite = func(b []byte, to net.Addr) { out.add(b) }
	}

	if s.conv != "" {
		conv, err := parseConv(s.conv)
		if err != nil {
			return err
		}
		client, err = kcp.NewConn3(conv, serverAddr, block, s.ds, s.ps, cconn)
		if err != nil {
			return err
		}
	} else {
		client, err = kcp.NewConn2(serverAddr, block, s.ds, s.ps, cconn)
		if err != nil {
			return err
		}
	}
	if err := applySettings(client, &s); err != nil {
		return err
	}

	for i, m := range msgs {
		client.SetWriteDeadline(deadline)
		if _, err := client.Write(m); err != nil {
			return fmt.Errorf("Write of message %d: %v", i, err)
		}
	}

	// Wait until every byte has left kcp-go at least once.
	if *peer {
		err = waitFor(deadline, "the peer to receive every byte", func() bool {
			select {
			case e := <-peerErr:
				fatalf("%v", e)
			default:
			}
			peerMu.Lock()
			defer peerMu.Unlock()
			return len(received) >= total
		})
		if err != nil {
			return err
		}
		want := make([]byte, 0, total)
		for _, m := range msgs {
			want = append(want, m...)
		}
		peerMu.Lock()
		same := string(received) == string(want)
		peerMu.Unlock()
		if !same {
			return fmt.Errorf("the kcp-go peer received different bytes than were written")
		}
	} else {
		err = waitFor(deadline, "every PUSH segment in the capture", func() bool {
			return pushBytes(out.snapshot(), block) >= total
		})
		if err != nil {
			return err
		}
	}

	pokes := 0
	var pkts [][]byte
	if s.fec() && *fecFlush {
		group := s.ds + s.ps
		var poker *kcp.UDPSession
		if *peer {
			peerMu.Lock()
			poker = peerSess
			peerMu.Unlock()
		} else {
			pconn := newMemConn(string(serverAddr))
			pconn.onWrite = func(b []byte, to net.Addr) { cconn.deliver(b, serverAddr) }
			poker, err = kcp.NewConn3(client.GetConv(), clientAddr, block, s.ds, s.ps, pconn)
			if err != nil {
				return err
			}
			poker.SetNoDelay(-1, -1, -1, 1)
			poker.SetWindowSize(1024, 1024)
			poker.SetMtu(s.mtu)
		}
		// The client acks each poke at once, in an ack-only datagram: one more
		// FEC data shard each, until the group is complete and its parity out.
		client.SetACKNoDelay(true)
		go func() { // keep the client's receive window open
			buf := make([]byte, 256*mtuLimit)
			for {
				if _, err := client.Read(buf); err != nil {
					return
				}
			}
		}()
		for {
			n := -1
			out.mu.Lock()
			if len(out.pkts)%group == 0 {
				pkts = append([][]byte(nil), out.pkts...)
				n = len(out.pkts)
			}
			out.mu.Unlock()
			if n >= 0 {
				break
			}
			before := out.len()
			poker.SetWriteDeadline(deadline)
			if _, err := poker.Write([]byte{byte(pokes)}); err != nil {
				return fmt.Errorf("FEC flush poke: %v", err)
			}
			pokes++
			if err := waitFor(deadline, "the client's ack of an FEC flush poke", func() bool { return out.len() > before }); err != nil {
				return err
			}
		}
	} else {
		pkts = out.snapshot()
	}

	if err := writeHexLines(os.Stdout, pkts); err != nil {
		return err
	}

	sum := emitSummary{Conv: client.GetConv(), Datagrams: len(pkts), Messages: len(msgs), Bytes: total,
		MSS: mss, HeaderSize: s.headerSize(), Peer: *peer, FECFlushPokes: pokes,
		Nodelay: nodelay, Interval: interval, Resend: resend, NC: nc, Wnd: wnd}
	enc := json.NewEncoder(os.Stderr)
	for i, p := range pkts {
		d := decodeDatagram(i, p, block, false)
		switch d.FECType {
		case "data":
			sum.FECData++
		case "parity":
			sum.FECParity++
		}
		push := 0
		for _, sg := range d.Segs {
			if sg.Cmd == 81 {
				push++
			}
		}
		sum.PushSegments += push
		if push == 0 && len(d.Segs) > 0 {
			sum.AckOnly++
		}
		if *explain {
			enc.Encode(d)
		}
	}
	b, _ := json.Marshal(sum)
	fmt.Fprintf(os.Stderr, "%s\n", b)
	return nil
}

// pushBytes counts the payload bytes of distinct PUSH sequence numbers.
func pushBytes(pkts [][]byte, block kcp.BlockCrypt) int {
	seen := map[uint32]bool{}
	n := 0
	for i, p := range pkts {
		for _, sg := range decodeDatagram(i, p, block, false).Segs {
			if sg.Cmd == 81 && !seen[sg.Sn] {
				seen[sg.Sn] = true
				n += int(sg.Len)
			}
		}
	}
	return n
}

// ---------------------------------------------------------------------------
// absorb

// feedConn yields the given datagrams, in order, from one remote address and
// records what the listener writes back. While no session has been accepted
// and configured, it holds back the next datagram after one that creates a
// session, so the --wnd setting is in force before the rest arrives.
type feedConn struct {
	pkts       [][]byte
	block      kcp.BlockCrypt
	from, here net.Addr
	deadline   time.Time

	mu         sync.Mutex
	next       int
	configured chan struct{}
	drained    chan struct{}
	die        chan struct{}
	dieOnce    sync.Once
	replies    capture
}

func (f *feedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	f.mu.Lock()
	i := f.next
	f.next++
	f.mu.Unlock()
	select {
	case <-f.configured:
	default:
		if i > 0 && i-1 < len(f.pkts) && createsSession(f.pkts[i-1], f.block) {
			select {
			case <-f.configured:
			case <-f.die:
				return 0, nil, net.ErrClosed
			case <-time.After(time.Until(f.deadline)):
			}
		}
	}
	if i >= len(f.pkts) {
		if i == len(f.pkts) {
			close(f.drained) // kcp-go has finished with the last datagram
		}
		<-f.die
		return 0, nil, net.ErrClosed
	}
	return copy(b, f.pkts[i]), f.from, nil
}

func (f *feedConn) WriteTo(b []byte, to net.Addr) (int, error) {
	f.replies.add(append([]byte(nil), b...))
	return len(b), nil
}

func (f *feedConn) Close() error                       { f.dieOnce.Do(func() { close(f.die) }); return nil }
func (f *feedConn) LocalAddr() net.Addr                { return f.here }
func (f *feedConn) SetDeadline(t time.Time) error      { return nil }
func (f *feedConn) SetReadDeadline(t time.Time) error  { return nil }
func (f *feedConn) SetWriteDeadline(t time.Time) error { return nil }

type absorbStats struct {
	Messages    int    `json:"messages"`
	Bytes       int    `json:"bytes"`
	DatagramsIn int    `json:"datagrams_in"`
	Replies     int    `json:"replies"`
	Conv        uint32 `json:"conv"`
	*kcp.Snmp
}

func cmdAbsorb(args []string) error {
	var s settings
	fs := flag.NewFlagSet("absorb", flag.ContinueOnError)
	addSettingsFlags(fs, &s, 1024, "absorb's default 1024, so a replayed capture fits; kcp-go's own default is 32")
	expect := fs.Int("expect", 0, "number of messages to wait for; 0 = whatever is deliverable once every datagram has been processed")
	repliesFile := fs.String("replies", "", "write the datagrams kcp-go's listener sent back (acks) to this file, hex lines")
	if err := parseFlags(fs, args, &s); err != nil {
		return err
	}
	if s.conv != "" {
		return fmt.Errorf("--conv does not apply to absorb: kcp-go's listener takes the conv of the first packet")
	}
	deadline := time.Now().Add(s.timeout)
	block, err := makeBlock(s.crypt, s.key)
	if err != nil {
		return err
	}
	pkts, err := readHexLines(os.Stdin)
	if err != nil {
		return err
	}
	feed := &feedConn{pkts: pkts, block: block, from: memAddr("kcpgo-peer:1"), here: memAddr("kcpgo-absorb:2"),
		deadline: deadline, configured: make(chan struct{}), drained: make(chan struct{}), die: make(chan struct{})}
	l, err := kcp.ServeConn(block, s.ds, s.ps, feed)
	if err != nil {
		return err
	}

	var msgs [][]byte
	var conv uint32
	stats := func() {
		st := absorbStats{Messages: len(msgs), DatagramsIn: len(pkts), Replies: feed.replies.len(), Conv: conv, Snmp: kcp.DefaultSnmp.Copy()}
		for _, m := range msgs {
			st.Bytes += len(m)
		}
		b, _ := json.Marshal(st)
		fmt.Fprintf(os.Stderr, "%s\n", b)
		if *repliesFile != "" {
			f, err := os.Create(*repliesFile)
			if err == nil {
				writeHexLines(f, feed.replies.snapshot())
				f.Close()
			}
		}
	}
	fail := func(format string, a ...interface{}) error {
		writeHexLines(os.Stdout, msgs)
		stats()
		return fmt.Errorf(format, a...)
	}

	isDrained := func() bool {
		select {
		case <-feed.drained:
			return true
		default:
			return false
		}
	}
	var sess *kcp.UDPSession
	for sess == nil {
		// Once every datagram has been processed, a session either is in
		// the accept queue already or will never exist: fail at once.
		// (AcceptKCP selects between the queue and a timer, so the deadline
		// is never in the past: a queued session always wins.)
		drained := isDrained()
		l.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		s, err := l.AcceptKCP()
		if err == nil {
			sess = s
		} else if drained || time.Now().After(deadline) {
			return fail("no session: none of the %d datagrams made kcp-go's listener create one (wrong --crypt/--key, or only parity shards?)", len(pkts))
		}
	}
	conv = sess.GetConv()
	if err := applySettings(sess, &s); err != nil {
		return err
	}
	close(feed.configured)

	buf := make([]byte, 256*mtuLimit) // kcp-go's largest message: 255 fragments
	for *expect == 0 || len(msgs) < *expect {
		if *expect == 0 && isDrained() {
			break
		}
		if time.Now().After(deadline) {
			if *expect > 0 {
				return fail("timeout: %d of %d messages arrived", len(msgs), *expect)
			}
			return fail("timeout: kcp-go did not consume all %d datagrams", len(pkts))
		}
		// A short read deadline so the loop can notice drained/timeout. Read
		// returns queued data before it looks at the deadline, and once every
		// datagram has been processed nothing new can become readable: a
		// timeout after drained is final.
		drained := isDrained()
		sess.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, err := sess.Read(buf)
		if err != nil {
			if !strings.Contains(err.Error(), "timeout") {
				return fail("Read: %v", err)
			}
			if drained && *expect > 0 {
				return fail("all %d datagrams processed, only %d of %d messages deliverable", len(pkts), len(msgs), *expect)
			}
			continue
		}
		msgs = append(msgs, append([]byte(nil), buf[:n]...))
	}
	if err := waitFor(deadline, "kcp-go to process every input datagram", isDrained); err != nil {
		return fail("%v", err)
	}
	// Every datagram has been through packetInput: whatever else is
	// deliverable is queued now. A past deadline makes Read non-blocking.
	extra := 0
	for {
		sess.SetReadDeadline(time.Now().Add(-time.Second))
		n, err := sess.Read(buf)
		if err != nil {
			break
		}
		msgs = append(msgs, append([]byte(nil), buf[:n]...))
		extra++
	}
	if *expect > 0 && extra > 0 {
		return fail("expected %d messages, got %d", *expect, len(msgs))
	}
	if err := writeHexLines(os.Stdout, msgs); err != nil {
		return err
	}
	stats()
	return nil
}

// ---------------------------------------------------------------------------
// gen

func cmdGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	count := fs.Int("count", 20, "number of messages")
	seed := fs.Int64("seed", 1, "PRNG seed (math/rand)")
	min := fs.Int("min", 1, "smallest message")
	max := fs.Int("max", 1300, "largest message")
	if err := parseFlags(fs, args, nil); err != nil {
		return err
	}
	if *min < 1 || *max < *min {
		return fmt.Errorf("need 1 <= --min <= --max")
	}
	r := rand.New(rand.NewSource(*seed))
	msgs := make([][]byte, *count)
	for i := range msgs {
		m := make([]byte, *min+r.Intn(*max-*min+1))
		r.Read(m)
		msgs[i] = m
	}
	return writeHexLines(os.Stdout, msgs)
}

// ---------------------------------------------------------------------------
// bench: kcp-go's datagram codec, without KCP, goroutines or syscalls.
//
// Encode mirrors UDPSession.output for one datagram of --size bytes: kcp-go's
// fecEncoder steps (header marks, copy into the shard cache, and every
// dataShards packets zero-padding plus reedsolomon Encode and parity marks),
// then for the datagram and each parity shard: a nonce from an AES-128 PRNG
// (kcp-go's nonceAES128), crc32 IEEE of bytes [20..], BlockCrypt.Encrypt in
// place. Decode mirrors packetInput + fecDecoder: copy the received datagram
// (the recvfrom buffer), Decrypt in place, crc32 check, copy the FEC packet
// into the decoder's queue, and when a group is complete either free it (no
// loss) or ReconstructData (one data shard per group lost). MB/s counts the
// --size bytes of each data datagram (parity is overhead), MB = 10^6 bytes.

type nonceGen struct {
	seed  [16]byte
	block cipher.Block
}

func newNonceGen() *nonceGen {
	n := &nonceGen{}
	var key [16]byte
	rand.Read(key[:])
	rand.Read(n.seed[:])
	n.block, _ = aes.NewCipher(key[:])
	return n
}

func (n *nonceGen) fill(b []byte) {
	if n.seed[0] == 0 {
		rand.Read(n.seed[:])
	}
	n.block.Encrypt(n.seed[:], n.seed[:])
	copy(b, n.seed[:])
}

type codec struct {
	block        kcp.BlockCrypt
	ds, ps, size int
	hdr, payload int // FEC header offset, offset of the size field
	rs           reedsolomon.Encoder
	shardCache   [][]byte
	encodeCache  [][]byte
	zeros        []byte
	shardCount   int
	maxSize      int
	next         uint32
	nonce        *nonceGen
}

func newCodec(block kcp.BlockCrypt, ds, ps, size int) *codec {
	c := &codec{block: block, ds: ds, ps: ps, size: size, nonce: newNonceGen(), zeros: make([]byte, mtuLimit)}
	if block != nil {
		c.hdr = cryptHeaderSize
	}
	c.payload = c.hdr + fecHeaderSize
	if ds > 0 {
		rs, err := reedsolomon.New(ds, ps)
		if err != nil {
			fatalf("reedsolomon.New(%d, %d): %v", ds, ps, err)
		}
		c.rs = rs
		c.shardCache = make([][]byte, ds+ps)
		for k := range c.shardCache {
			c.shardCache[k] = make([]byte, mtuLimit)
		}
		c.encodeCache = make([][]byte, ds+ps)
	}
	return c
}

func (c *codec) seal(b []byte) {
	if c.block == nil {
		return
	}
	c.nonce.fill(b[:nonceSize])
	binary.LittleEndian.PutUint32(b[nonceSize:], crc32.ChecksumIEEE(b[cryptHeaderSize:]))
	c.block.Encrypt(b, b)
}

// encode processes one outgoing datagram in place; it returns the parity
// shards produced (valid until the next call).
func (c *codec) encode(b []byte) (parity [][]byte) {
	if c.rs != nil {
		binary.LittleEndian.PutUint32(b[c.hdr:], c.next)
		binary.LittleEndian.PutUint16(b[c.hdr+4:], typeData)
		c.next++
		binary.LittleEndian.PutUint16(b[c.payload:], uint16(len(b)-c.payload))
		sz := len(b)
		c.shardCache[c.shardCount] = c.shardCache[c.shardCount][:sz]
		copy(c.shardCache[c.shardCount][c.payload:], b[c.payload:])
		c.shardCount++
		if sz > c.maxSize {
			c.maxSize = sz
		}
		if c.shardCount == c.ds {
			for i := 0; i < c.ds; i++ {
				shard := c.shardCache[i]
				copy(shard[len(shard):c.maxSize], c.zeros)
			}
			for k := range c.encodeCache {
				c.encodeCache[k] = c.shardCache[k][c.payload:c.maxSize]
			}
			if err := c.rs.Encode(c.encodeCache); err != nil {
				fatalf("reedsolomon Encode: %v", err)
			}
			parity = c.shardCache[c.ds:]
			for k := range parity {
				binary.LittleEndian.PutUint32(parity[k][c.hdr:], c.next)
				binary.LittleEndian.PutUint16(parity[k][c.hdr+4:], typeParity)
				c.next++
				parity[k] = parity[k][:c.maxSize]
			}
			c.shardCount, c.maxSize = 0, 0
		}
	}
	c.seal(b)
	for _, p := range parity {
		c.seal(p)
	}
	return parity
}

type decoder struct {
	c         *codec
	work      []byte
	rx        [][]byte // the group being collected, indexed by seqid % (ds+ps)
	have      []bool
	group     uint32
	nshards   int
	ndata     int
	maxlen    int
	done      bool
	shards    [][]byte
	recovered int
}

func newDecoder(c *codec) *decoder {
	d := &decoder{c: c, work: make([]byte, mtuLimit)}
	if c.rs != nil {
		n := c.ds + c.ps
		d.rx = make([][]byte, n)
		for k := range d.rx {
			d.rx[k] = make([]byte, mtuLimit)
		}
		d.have = make([]bool, n)
		d.shards = make([][]byte, n)
	}
	return d
}

// decode processes one received datagram; it returns the data datagrams
// delivered by it (1 for a data shard, plus any reconstructed).
func (d *decoder) decode(pkt []byte) int {
	c := d.c
	b := d.work[:len(pkt)]
	copy(b, pkt)
	if c.block != nil {
		c.block.Decrypt(b, b)
		if crc32.ChecksumIEEE(b[cryptHeaderSize:]) != binary.LittleEndian.Uint32(b[nonceSize:]) {
			fatalf("bench: crc32 mismatch after Decrypt")
		}
		b = b[cryptHeaderSize:]
	}
	if c.rs == nil {
		return 1
	}
	n := uint32(c.ds + c.ps)
	seq := binary.LittleEndian.Uint32(b)
	isData := binary.LittleEndian.Uint16(b[4:]) == typeData
	if g := seq / n; g != d.group || d.nshards == 0 {
		d.group = g
		for k := range d.have {
			d.have[k] = false
		}
		d.nshards, d.ndata, d.maxlen, d.done = 0, 0, 0, false
	}
	delivered := 0
	if isData {
		delivered = 1
	}
	if d.done {
		return delivered
	}
	k := seq % n
	fp := d.rx[k][:len(b)]
	copy(fp, b) // fecDecoder keeps a copy of every FEC packet
	d.rx[k] = fp
	d.have[k] = true
	d.nshards++
	if isData {
		d.ndata++
	}
	if l := len(fp) - fecHeaderSize; l > d.maxlen {
		d.maxlen = l
	}
	if d.ndata == c.ds {
		d.done = true
	} else if d.nshards >= c.ds {
		for j := range d.shards {
			if d.have[j] {
				sh := d.rx[j][fecHeaderSize:]
				dl := len(sh)
				sh = sh[:d.maxlen]
				copy(sh[dl:], c.zeros)
				d.shards[j] = sh
			} else if j < c.ds {
				d.shards[j] = d.rx[j][fecHeaderSize:fecHeaderSize]
			} else {
				d.shards[j] = nil
			}
		}
		if err := c.rs.ReconstructData(d.shards); err != nil {
			fatalf("bench: ReconstructData: %v", err)
		}
		for j := 0; j < c.ds; j++ {
			if !d.have[j] {
				delivered++
				d.recovered++
			}
		}
		d.done = true
	}
	return delivered
}

type benchRow struct {
	Crypt          string   `json:"crypt"`
	DataShards     int      `json:"datashard"`
	ParityShards   int      `json:"parityshard"`
	EncMBps        float64  `json:"enc_MBps"`
	DecMBps        float64  `json:"dec_MBps"`
	DecRecoverMBps *float64 `json:"dec_recover_MBps,omitempty"`
	EncNsPerPkt    float64  `json:"enc_ns_per_pkt"`
	DecNsPerPkt    float64  `json:"dec_ns_per_pkt"`
}

type benchDoc struct {
	Tool       string     `json:"tool"`
	KcpGo      string     `json:"kcp_go"`
	Go         string     `json:"go"`
	GOARCH     string     `json:"goarch"`
	PacketSize int        `json:"packet_size"`
	Unit       string     `json:"unit"`
	RunMs      int        `json:"run_ms"`
	Runs       int        `json:"runs"`
	Results    []benchRow `json:"results"`
}

// timed runs step in batches until dur has passed; it returns units/second
// where step reports the units it produced.
func timed(dur time.Duration, step func() int) float64 {
	for i := 0; i < 256; i++ { // warm-up
		step()
	}
	units := 0
	start := time.Now()
	var el time.Duration
	for {
		for i := 0; i < 64; i++ {
			units += step()
		}
		if el = time.Since(start); el >= dur {
			break
		}
	}
	return float64(units) / el.Seconds()
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

func cmdBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	crypt := fs.String("crypt", "", "only this cipher (default: null none salsa20 aes-128 aes-192 aes)")
	key := fs.String("key", "it's a secrect", "passphrase (kcptun derivation)")
	ds := fs.Int("datashard", 10, "FEC data shards for the FEC rows")
	ps := fs.Int("parityshard", 3, "FEC parity shards for the FEC rows")
	size := fs.Int("size", 1400, "datagram size in bytes, headers included")
	ms := fs.Int("ms", 300, "measuring time per run, ms")
	runs := fs.Int("runs", 3, "runs per figure (the median is reported)")
	if err := parseFlags(fs, args, nil); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	ciphers := []string{"null", "none", "salsa20", "aes-128", "aes-192", "aes"}
	if *crypt != "" {
		ciphers = []string{*crypt}
	}
	type fecCfg struct{ ds, ps int }
	fecs := []fecCfg{{0, 0}, {*ds, *ps}}
	if set["datashard"] || set["parityshard"] {
		fecs = []fecCfg{{*ds, *ps}}
	}
	if *size < 64 || *size > mtuLimit || *runs < 1 || *ms < 1 {
		return fmt.Errorf("need 64 <= --size <= 1500, --runs >= 1, --ms >= 1")
	}
	dur := time.Duration(*ms) * time.Millisecond
	doc := benchDoc{Tool: "kcpgo bench", KcpGo: kcpgoVersion, Go: runtime.Version(), GOARCH: runtime.GOARCH,
		PacketSize: *size, Unit: "MB/s of data datagrams, MB = 10^6 bytes", RunMs: *ms, Runs: *runs}
	payload := make([]byte, *size)
	rand.New(rand.NewSource(7)).Read(payload)

	for _, cname := range ciphers {
		block, err := makeBlock(cname, *key)
		if err != nil {
			return err
		}
		for _, f := range fecs {
			if (f.ds == 0) != (f.ps == 0) {
				return fmt.Errorf("--datashard and --parityshard must both be 0 or both > 0")
			}
			row := benchRow{Crypt: cname, DataShards: f.ds, ParityShards: f.ps}
			// encode
			var enc []float64
			for r := 0; r < *runs; r++ {
				c := newCodec(block, f.ds, f.ps, *size)
				buf := make([]byte, *size)
				copy(buf, payload)
				enc = append(enc, timed(dur, func() int { c.encode(buf); return 1 }))
			}
			// a stream of sealed datagrams to decode: 16 FEC groups (or 64 packets)
			c := newCodec(block, f.ds, f.ps, *size)
			var stream [][]byte
			var lossy [][]byte // the same with one data shard per group missing
			ndata := 64
			if f.ds > 0 {
				ndata = 16 * f.ds
			}
			for i := 0; i < ndata; i++ {
				b := make([]byte, *size)
				copy(b, payload)
				b[len(b)-1] = byte(i)
				parity := c.encode(b)
				stream = append(stream, b)
				if f.ds == 0 || i%f.ds != 0 {
					lossy = append(lossy, b)
				}
				for _, p := range parity {
					cp := append([]byte(nil), p...)
					stream = append(stream, cp)
					lossy = append(lossy, cp)
				}
			}
			run := func(pkts [][]byte, wantRecovered bool) []float64 {
				var out []float64
				for r := 0; r < *runs; r++ {
					d := newDecoder(c)
					i := 0
					out = append(out, timed(dur, func() int {
						n := d.decode(pkts[i])
						i++
						if i == len(pkts) {
							i = 0
						}
						return n
					}))
					if wantRecovered && d.recovered == 0 {
						fatalf("bench: the lossy stream recovered nothing")
					}
				}
				return out
			}
			dec := run(stream, false)
			mb := float64(*size) / 1e6
			row.EncMBps = round1(median(enc) * mb)
			row.DecMBps = round1(median(dec) * mb)
			row.EncNsPerPkt = round1(1e9 / median(enc))
			row.DecNsPerPkt = round1(1e9 / median(dec))
			if f.ds > 0 {
				v := round1(median(run(lossy, true)) * mb)
				row.DecRecoverMBps = &v
			}
			doc.Results = append(doc.Results, row)
			fmt.Fprintf(os.Stderr, "bench: %-8s fec %d/%d  enc %8.1f MB/s  dec %8.1f MB/s\n", cname, f.ds, f.ps, row.EncMBps, row.DecMBps)
		}
	}
	out, _ := json.MarshalIndent(doc, "", "  ")
	fmt.Println(string(out))
	return nil
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

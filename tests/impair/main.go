// Command impair is a user-space UDP impairment proxy for loopback tests.
// This kernel has no netem, so loss, delay, jitter, reordering,
// duplication and corruption between two UDP endpoints are applied here.
//
// Clients send to the proxy's one listening socket. Each distinct client
// address gets its own upstream-facing socket (like a NAT mapping), so the
// upstream server sees one source address per client and several clients
// can share one proxy. Every datagram in either direction is, independently
// and from a deterministic RNG:
//
//	dropped with probability --loss; otherwise
//	corrupted (one random byte flipped) with probability --corrupt,
//	duplicated with probability --dup (the copy gets its own delay),
//	delayed by --delay + uniform(0, --jitter), and
//	with probability --reorder held back further: once due it waits until
//	two later datagrams of the same flow and direction have gone out, or
//	for 3 x (delay + jitter) (at least 1 ms), whichever comes first.
//
// All sends go through one timer heap served by one goroutine, not a
// goroutine per datagram, so it sustains tens of thousands of datagrams/s.
package main

import (
	"container/heap"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	maxDatagram = 65535
	// pooledSize holds any KCP datagram (kcp-go's limit is 1500); a
	// scheduled datagram larger than this gets its own allocation.
	pooledSize = 2048
)

const (
	up   = 0 // client -> upstream
	down = 1 // upstream -> client
)

type config struct {
	loss, reorder, dup, corrupt float64
	lossDown                    float64 // upstream -> client; < 0: the same as loss
	delay, jitter               time.Duration
	seed                        int64
	sockbuf                     int
}

// counters are per direction; readers and the sender update them.
type counters struct {
	In         uint64 `json:"in"`
	Dropped    uint64 `json:"dropped"`
	Reordered  uint64 `json:"reordered"`
	Duplicated uint64 `json:"duplicated"`
	Corrupted  uint64 `json:"corrupted"`
	Out        uint64 `json:"out"`
	SendErrors uint64 `json:"send_errors"`
}

func (c *counters) snapshot() counters {
	return counters{
		In: atomic.LoadUint64(&c.In), Dropped: atomic.LoadUint64(&c.Dropped),
		Reordered: atomic.LoadUint64(&c.Reordered), Duplicated: atomic.LoadUint64(&c.Duplicated),
		Corrupted: atomic.LoadUint64(&c.Corrupted), Out: atomic.LoadUint64(&c.Out),
		SendErrors: atomic.LoadUint64(&c.SendErrors),
	}
}

// flow is one client's NAT mapping: its address and its upstream socket.
type flow struct {
	client *net.UDPAddr
	up     *net.UDPConn
	// held are this flow's reordered datagrams not yet sent, per
	// direction. Only the sender goroutine touches them.
	held [2][]*item
}

// item is one scheduled send.
type item struct {
	due      time.Time
	seq      uint64 // FIFO among equal due times
	data     []byte
	buf      *[]byte // returned to the pool after the send
	dir      int
	flow     *flow
	reorder  bool // to be held back behind later datagrams
	parked   bool // reorder: in its flow's held list, fallback timer armed
	passed   int  // reorder: later datagrams of its direction sent since parked
	released bool // reorder: sent (a later heap entry for it is skipped)
}

type itemHeap []*item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h itemHeap) Swap(i, j int)       { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x interface{}) { *h = append(*h, x.(*item)) }
func (h *itemHeap) Pop() interface{} {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}

type proxy struct {
	cfg      config
	listen   *net.UDPConn
	upstream *net.UDPAddr
	stats    [2]counters
	nflows   int64

	mu   sync.Mutex
	heap itemHeap
	seq  uint64
	wake chan struct{}

	pool sync.Pool
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "impair: FAIL: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("impair", flag.ContinueOnError)
	var cfg config
	listen := fs.String("listen", "127.0.0.1:0", "client-facing UDP address (port 0: any; the port is printed)")
	upstream := fs.String("upstream", "", "HOST:PORT of the server (required)")
	fs.Float64Var(&cfg.loss, "loss", 0, "drop probability, each direction")
	fs.Float64Var(&cfg.lossDown, "loss-down", -1, "drop probability upstream -> client only (default: --loss)")
	fs.Float64Var(&cfg.reorder, "reorder", 0, "probability a datagram is held back behind later ones")
	fs.DurationVar(&cfg.delay, "delay", 0, "one-way delay, each direction")
	fs.DurationVar(&cfg.jitter, "jitter", 0, "extra delay, uniform in [0, jitter)")
	fs.Float64Var(&cfg.dup, "dup", 0, "duplication probability")
	fs.Float64Var(&cfg.corrupt, "corrupt", 0, "probability one random byte is flipped")
	fs.Int64Var(&cfg.seed, "seed", 1, "RNG seed (math/rand): the same datagram sequence gets the same fate")
	fs.IntVar(&cfg.sockbuf, "sockbuf", 4<<20, "SO_RCVBUF/SO_SNDBUF of every socket (0 = kernel default)")
	timeout := fs.Duration("timeout", 60*time.Second, "exit (0, printing the counters) after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *upstream == "" {
		return fmt.Errorf("--upstream HOST:PORT is required")
	}
	for name, p := range map[string]float64{"loss": cfg.loss, "reorder": cfg.reorder, "dup": cfg.dup, "corrupt": cfg.corrupt} {
		if p < 0 || p > 1 {
			return fmt.Errorf("--%s must be a probability in [0, 1]", name)
		}
	}
	if cfg.lossDown < 0 {
		cfg.lossDown = cfg.loss
	} else if cfg.lossDown > 1 {
		return fmt.Errorf("--loss-down must be a probability in [0, 1]")
	}
	if cfg.delay < 0 || cfg.jitter < 0 || *timeout <= 0 {
		return fmt.Errorf("--delay and --jitter must be >= 0, --timeout > 0")
	}
	upAddr, err := net.ResolveUDPAddr("udp", *upstream)
	if err != nil {
		return fmt.Errorf("--upstream: %v", err)
	}
	lAddr, err := net.ResolveUDPAddr("udp", *listen)
	if err != nil {
		return fmt.Errorf("--listen: %v", err)
	}
	lc, err := net.ListenUDP("udp", lAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %v", *listen, err)
	}
	p := &proxy{cfg: cfg, listen: lc, upstream: upAddr, wake: make(chan struct{}, 1)}
	p.pool.New = func() interface{} { b := make([]byte, pooledSize); return &b }
	p.sizeBuffers(lc)

	printJSON(struct {
		Event string `json:"event"`
		Addr  string `json:"addr"`
	}{"listening", lc.LocalAddr().String()})

	go p.sender()
	go p.readClients()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sig:
	case <-time.After(*timeout):
	}
	printJSON(struct {
		Event   string   `json:"event"`
		Clients int64    `json:"clients"`
		Up      counters `json:"up"`
		Down    counters `json:"down"`
	}{"done", atomic.LoadInt64(&p.nflows), p.stats[up].snapshot(), p.stats[down].snapshot()})
	return nil
}

func printJSON(v interface{}) {
	b, _ := json.Marshal(v)
	os.Stdout.Write(append(b, '\n')) // unbuffered: tests wait for these lines
}

func (p *proxy) sizeBuffers(c *net.UDPConn) {
	if p.cfg.sockbuf > 0 {
		// Kernel drops at a full socket buffer would be loss nobody asked
		// for and nobody counted.
		c.SetReadBuffer(p.cfg.sockbuf)
		c.SetWriteBuffer(p.cfg.sockbuf)
	}
}

// readClients reads the client-facing socket. It alone owns the flow map
// and the client->upstream RNG, so neither needs a lock.
func (p *proxy) readClients() {
	flows := map[string]*flow{}
	rng := rand.New(rand.NewSource(p.cfg.seed))
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := p.listen.ReadFromUDP(buf)
		if err != nil {
			if isRefused(err) {
				continue
			}
			fmt.Fprintf(os.Stderr, "impair: FAIL: reading the listening socket: %v\n", err)
			os.Exit(1)
		}
		key := from.String()
		f := flows[key]
		if f == nil {
			uc, err := net.DialUDP("udp", nil, p.upstream)
			if err != nil {
				fmt.Fprintf(os.Stderr, "impair: FAIL: upstream socket for %s: %v\n", key, err)
				os.Exit(1)
			}
			p.sizeBuffers(uc)
			f = &flow{client: from, up: uc}
			flows[key] = f
			k := atomic.AddInt64(&p.nflows, 1)
			// Each flow's return direction has its own RNG, so its fate
			// depends only on its own datagram sequence.
			go p.readUpstream(f, rand.New(rand.NewSource(p.cfg.seed+1000003*k)))
		}
		p.impair(rng, up, f, buf[:n])
	}
}

// readUpstream reads one flow's upstream socket (connected: only the
// upstream's datagrams arrive).
func (p *proxy) readUpstream(f *flow, rng *rand.Rand) {
	buf := make([]byte, maxDatagram)
	for {
		n, err := f.up.Read(buf)
		if err != nil {
			if isRefused(err) {
				continue // ICMP port unreachable from an earlier send: the server is not up (yet)
			}
			return
		}
		p.impair(rng, down, f, buf[:n])
	}
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// impair decides one datagram's fate and schedules what survives (copies:
// the caller reuses its read buffer).
func (p *proxy) impair(rng *rand.Rand, dir int, f *flow, in []byte) {
	n := len(in)
	st := &p.stats[dir]
	atomic.AddUint64(&st.In, 1)
	// Draw every decision for every datagram, in a fixed order, so one
	// probability's setting does not shift the others' random streams.
	loss := p.cfg.loss
	if dir == down {
		loss = p.cfg.lossDown
	}
	lost := rng.Float64() < loss
	corrupt := rng.Float64() < p.cfg.corrupt
	dup := rng.Float64() < p.cfg.dup
	reorder := rng.Float64() < p.cfg.reorder
	delay := p.delay(rng)
	dupDelay := p.delay(rng)
	pos, flip := rng.Intn(maxDatagram), byte(1+rng.Intn(255))
	if lost {
		atomic.AddUint64(&st.Dropped, 1)
		return
	}
	data, bp := p.copyOf(in)
	var dupItem *item
	if dup {
		atomic.AddUint64(&st.Duplicated, 1)
		dd, db := p.copyOf(in)
		dupItem = &item{data: dd, buf: db, dir: dir, flow: f}
	}
	if corrupt && n > 0 {
		atomic.AddUint64(&st.Corrupted, 1)
		data[pos%n] ^= flip
	}
	it := &item{data: data, buf: bp, dir: dir, flow: f, reorder: reorder}
	if reorder {
		atomic.AddUint64(&st.Reordered, 1)
	}
	now := time.Now()
	it.due = now.Add(delay)
	p.mu.Lock()
	p.push(it)
	if dupItem != nil {
		dupItem.due = now.Add(dupDelay)
		p.push(dupItem)
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// copyOf copies a datagram into a pooled buffer (nil pool entry when too
// big for one).
func (p *proxy) copyOf(in []byte) ([]byte, *[]byte) {
	if len(in) > pooledSize {
		return append([]byte(nil), in...), nil
	}
	bp := p.pool.Get().(*[]byte)
	return (*bp)[:copy(*bp, in)], bp
}

func (p *proxy) delay(rng *rand.Rand) time.Duration {
	d := p.cfg.delay
	if p.cfg.jitter > 0 {
		d += time.Duration(rng.Int63n(int64(p.cfg.jitter)))
	}
	return d
}

// push adds to the heap; p.mu is held.
func (p *proxy) push(it *item) {
	p.seq++
	it.seq = p.seq
	heap.Push(&p.heap, it)
}

// sender is the one goroutine that writes: it sends whatever is due, then
// sleeps until the next due time or until a reader schedules something.
func (p *proxy) sender() {
	timer := time.NewTimer(time.Hour)
	if !timer.Stop() {
		<-timer.C
	}
	var ready []*item
	for {
		p.mu.Lock()
		now := time.Now()
		ready = ready[:0]
		for len(p.heap) > 0 && !p.heap[0].due.After(now) {
			ready = append(ready, heap.Pop(&p.heap).(*item))
		}
		wait := time.Duration(-1)
		if len(p.heap) > 0 {
			wait = p.heap[0].due.Sub(now)
		}
		p.mu.Unlock()

		if len(ready) > 0 {
			for _, it := range ready {
				p.dispatch(it)
			}
			continue
		}
		if wait < 0 {
			<-p.wake
			continue
		}
		timer.Reset(wait)
		select {
		case <-p.wake:
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
		}
	}
}

// dispatch handles an item whose due time came. A reordered one is parked
// then: it goes out once two later datagrams of its flow and direction
// have gone out, or when its fallback timer (3 x (delay + jitter), at
// least 1 ms, so a quiet line does not hold it forever) expires. Any other
// item is sent, and counts toward releasing the parked ones.
func (p *proxy) dispatch(it *item) {
	f := it.flow
	if it.reorder {
		switch {
		case it.released:
			// Already sent behind two later datagrams: this was its
			// fallback timer.
		case !it.parked:
			it.parked = true
			f.held[it.dir] = append(f.held[it.dir], it)
			it.due = time.Now().Add(p.reorderHold())
			p.mu.Lock()
			p.push(it)
			p.mu.Unlock()
		default:
			p.release(it)
		}
		return
	}
	p.send(it)
	held := f.held[it.dir]
	for i := 0; i < len(held); {
		h := held[i]
		h.passed++
		if h.passed >= 2 {
			held = append(held[:i], held[i+1:]...)
			h.released = true
			p.send(h)
			continue
		}
		i++
	}
	f.held[it.dir] = held
}

func (p *proxy) reorderHold() time.Duration {
	hold := 3 * (p.cfg.delay + p.cfg.jitter)
	if hold < time.Millisecond {
		hold = time.Millisecond
	}
	return hold
}

// release sends a parked item whose fallback timer expired.
func (p *proxy) release(it *item) {
	held := it.flow.held[it.dir]
	for i, h := range held {
		if h == it {
			it.flow.held[it.dir] = append(held[:i], held[i+1:]...)
			break
		}
	}
	it.released = true
	p.send(it)
}

func (p *proxy) send(it *item) {
	var err error
	if it.dir == up {
		_, err = it.flow.up.Write(it.data)
	} else {
		_, err = p.listen.WriteToUDP(it.data, it.flow.client)
	}
	if err != nil {
		atomic.AddUint64(&p.stats[it.dir].SendErrors, 1)
	} else {
		atomic.AddUint64(&p.stats[it.dir].Out, 1)
	}
	if it.buf != nil {
		p.pool.Put(it.buf)
	}
	it.buf, it.data = nil, nil
}

package main

// players: the server-CPU-per-player case (issue 8, item 8). S kcp-go
// clients, each with its own UDP socket, dial a server running elsewhere
// (--remote) and each sends a --size message every 1/--rate s without
// waiting for echoes, as game clients send their inputs at the tick rate.
// Once every client has had one echo, a window of --seconds is measured:
// the echoes received in it, their round trips (each message carries its
// send time), and the CPU the server process (--server-pid) used in it,
// read from /proc.

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	kcp "github.com/xtaci/kcp-go"
)

type playersLine struct {
	Impl         string  `json:"impl"`
	Case         string  `json:"case"`
	Sessions     int     `json:"sessions"`
	Rate         float64 `json:"rate_hz"`
	Size         int     `json:"size"`
	Seconds      float64 `json:"seconds"`
	Echoes       int64   `json:"echoes"`
	RttP50       float64 `json:"rtt_us_p50"`
	RttP99       float64 `json:"rtt_us_p99"`
	RttAvg       float64 `json:"rtt_us_avg"`
	ServerCPU    float64 `json:"server_cpu_percent"`
	RetransSegs  uint64  `json:"retrans_segs"`
	EstablishSec float64 `json:"establish_s"`
	benchTail
}

// cpuSeconds is the user + system time process pid has used.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		failf("players: read the server's CPU time: %v", err)
	}
	// The fields after the command name, which may hold spaces.
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

func benchPlayers(o *benchOpts, remote string, rate float64, serverPid int) {
	raiseNoFile(o.sessions + 64)
	period := time.Duration(float64(time.Second) / rate)
	const (
		warmup = iota
		measure
		stop
	)
	var phase int32
	var established sync.WaitGroup
	var writers, readers sync.WaitGroup
	established.Add(o.sessions)
	counts := make([]int64, o.sessions)
	samples := make([][]uint32, o.sessions)
	start := time.Now()
	clients := make([]*kcp.UDPSession, o.sessions)
	for i := range clients {
		clients[i] = dialClient(&o.s, remote)
	}
	for i, c := range clients {
		readers.Add(1)
		go func(i int, c *kcp.UDPSession) { // echoes
			defer readers.Done()
			back := make([]byte, o.size+4096)
			first := true
			for {
				n, err := c.Read(back)
				if err != nil {
					return // closed at the end
				}
				if n != o.size {
					failf("players: client %d: an echo of %d bytes, sent %d", i, n, o.size)
				}
				sent := int64(binary.LittleEndian.Uint64(back))
				rtt := uint32(time.Since(start).Microseconds() - sent/1000)
				if first {
					first = false
					established.Done()
				}
				if atomic.LoadInt32(&phase) == measure {
					counts[i]++
					samples[i] = append(samples[i], rtt)
				}
			}
		}(i, c)
		writers.Add(1)
		go func(i int, c *kcp.UDPSession) { // inputs at the tick rate
			defer writers.Done()
			msg := make([]byte, o.size)
			// Spread the clients over the tick, as real players are.
			time.Sleep(time.Duration(int64(period) * int64(i) / int64(o.sessions)))
			tick := time.NewTicker(period)
			defer tick.Stop()
			for atomic.LoadInt32(&phase) != stop {
				binary.LittleEndian.PutUint64(msg, uint64(time.Since(start).Nanoseconds()))
				if _, err := c.Write(msg); err != nil {
					failf("players: client %d: write: %v", i, err)
				}
				<-tick.C
			}
		}(i, c)
	}
	established.Wait()
	establish := time.Since(start).Seconds()
	retrans0 := atomic.LoadUint64(&kcp.DefaultSnmp.RetransSegs)
	cpu0 := cpuSeconds(serverPid)
	t0 := time.Now()
	atomic.StoreInt32(&phase, measure)
	time.Sleep(time.Duration(o.seconds * float64(time.Second)))
	atomic.StoreInt32(&phase, stop)
	window := time.Since(t0).Seconds()
	cpu := cpuSeconds(serverPid) - cpu0
	retrans := atomic.LoadUint64(&kcp.DefaultSnmp.RetransSegs) - retrans0
	writers.Wait()
	for _, c := range clients {
		c.Close()
	}
	readers.Wait()
	total, st := gather(counts, samples)
	emit(playersLine{Impl: "kcp-go", Case: "players", Sessions: o.sessions, Rate: rate, Size: o.size,
		Seconds: round(window, 6), Echoes: total, RttP50: st.p50, RttP99: st.p99, RttAvg: round(st.avg, 2),
		ServerCPU: round(100*cpu/window, 2), RetransSegs: retrans, EstablishSec: round(establish, 6),
		benchTail: o.tail(false)})
}

/*
 * latency.c: the reference echo-latency scenario, through the C API only.
 *
 * This is the C twin of kcp-bench/src/echo_scenario.rs (`run()`), with its
 * own copy of the parts of kcp-core/src/sim.rs that the scenario uses: the
 * SplitMix64 generator and a lossy, delaying, FIFO link. Same seeds, same
 * order of random draws, same per-millisecond loop: for the same seeds it
 * prints the same numbers as `cargo run --release -p kcp-bench --bin latency`.
 *
 * Two endpoints; 5% loss each way; one-way delay uniform in 30..62 ms;
 * every 20 ms the first sends an 8-byte message (index, send time) that the
 * second echoes back; 1000 echoes per run; windows 128/128.
 *
 * Usage: latency [SEEDS] [classic|improved]     (defaults: 20 improved)
 * Prints one JSON line per mode (fast, then normal) on stdout, and a
 * readable summary on stderr.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcp.h"
#ifdef KCP_BENCH_IKCP
/* scripts/bench-ikcp.sh: the same program on the reference C ikcp. */
#include "../bench/ikcp_shim.h"
#endif

#define CONV 0x11223344u
#define ECHOES 1000
#define START (UINT32_MAX - 5000u)

/* ---- the simulator's pieces (kcp-core/src/sim.rs) ------------------------ */

/* SplitMix64, as sim::Rng. */
typedef struct {
    uint64_t state;
} Rng;

static uint64_t rng_next(Rng *r) {
    r->state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = r->state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in 0..n (n > 0), as Rng::below. */
static uint32_t rng_below(Rng *r, uint32_t n) {
    return (uint32_t)(rng_next(r) % (uint64_t)(n ? n : 1));
}

/* True with probability p, as Rng::chance: no draw at all when p == 0. */
static int rng_chance(Rng *r, double p) {
    return p > 0.0 && (double)(rng_next(r) >> 11) / 9007199254740992.0 < p;
}

/* One datagram in flight. */
typedef struct Datagram {
    struct Datagram *next;
    uint32_t at; /* arrival time */
    size_t len;
    uint8_t data[];
} Datagram;

/* One direction of the path, as sim::Link with the scenario's LinkConfig:
 * loss 0.05, delay 30..62, fifo, no duplication, no corruption. */
typedef struct {
    double loss;
    uint32_t delay_start, delay_end;
    double duplicate, corrupt;
    Rng rng;
    Datagram *head, *tail; /* FIFO: arrival times never decrease */
    uint64_t sent;         /* datagrams offered, dropped ones included */
    const uint32_t *clock; /* the scenario's virtual time */
    int out_of_memory;
} Link;

static void link_init(Link *l, uint64_t seed, const uint32_t *clock) {
    memset(l, 0, sizeof *l);
    l->loss = 0.05;
    l->delay_start = 30;
    l->delay_end = 62;
    l->duplicate = 0.0;
    l->corrupt = 0.0;
    l->rng.state = seed;
    l->clock = clock;
}

static int before(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

/* Link::send: loss draw; duplicate draw (none: p is 0); per copy a delay
 * draw and a corruption draw (none: p is 0); then the FIFO rule. */
static void link_send(Link *l, const uint8_t *buf, size_t len) {
    uint32_t now = *l->clock;
    l->sent++;
    if (rng_chance(&l->rng, l->loss)) return;
    int copies = rng_chance(&l->rng, l->duplicate) ? 2 : 1;
    for (int c = 0; c < copies; c++) {
        uint32_t span = l->delay_end > l->delay_start ? l->delay_end - l->delay_start : 0;
        uint32_t delay = l->delay_start + rng_below(&l->rng, span);
        Datagram *d = malloc(sizeof *d + len);
        if (!d) {
            l->out_of_memory = 1;
            return;
        }
        d->next = NULL;
        d->at = now + delay;
        d->len = len;
        memcpy(d->data, buf, len);
        /* The scenario never corrupts (p == 0), so chance() draws nothing. */
        (void)rng_chance(&l->rng, l->corrupt);
        /* FIFO: never overtake the datagram queued last. */
        if (l->tail && before(d->at, l->tail->at)) d->at = l->tail->at;
        if (l->tail) l->tail->next = d;
        else l->head = d;
        l->tail = d;
    }
}

/* Link::recv: the next datagram due at or before now, or NULL. The caller frees it. */
static Datagram *link_recv(Link *l, uint32_t now) {
    Datagram *d = l->head;
    if (!d || (int32_t)(now - d->at) < 0) return NULL;
    l->head = d->next;
    if (!l->head) l->tail = NULL;
    return d;
}

static void link_free(Link *l) {
    Datagram *d = l->head;
    while (d) {
        Datagram *next = d->next;
        free(d);
        d = next;
    }
    l->head = l->tail = NULL;
}

/* The output callback: every datagram an endpoint emits goes onto its link. */
static int to_link(const uint8_t *buf, size_t len, void *user) {
    link_send((Link *)user, buf, len);
    return 0;
}

/* ---- the scenario (kcp-bench/src/echo_scenario.rs) ----------------------- */

typedef struct {
    const char *name;
    int nodelay, interval, resend, nc;
    int minrto; /* < 0: keep */
} Mode;

static const Mode FAST = {"fast", 2, 10, 2, 1, 10};
static const Mode NORMAL = {"normal", 0, 10, 0, 1, -1};

typedef struct {
    double avg_rtt;
    uint32_t max_rtt;
    uint64_t datagrams_a;
} RunResult;

static void die(const char *what, int rc) {
    fprintf(stderr, "latency: %s failed: %s (%s)\n", what, kcp_strerror(rc), kcp_last_error());
    exit(1);
}

static void check(const char *what, int rc) {
    if (rc < 0) die(what, rc);
}

/* Budgeted redundancy in percent (the third argument; 0 = off). */
static uint32_t redundancy;

static void configure(kcp_arq *arq, const Mode *m, int recovery) {
    check("kcp_arq_set_window", kcp_arq_set_window(arq, 128, 128));
    check("kcp_arq_set_nodelay", kcp_arq_set_nodelay(arq, m->nodelay, m->interval, m->resend, m->nc));
    if (m->minrto >= 0) check("kcp_arq_set_minrto", kcp_arq_set_minrto(arq, (uint32_t)m->minrto));
    check("kcp_arq_set_recovery", kcp_arq_set_recovery(arq, recovery));
    check("kcp_arq_set_redundancy", kcp_arq_set_redundancy(arq, redundancy));
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Feeds every datagram due on `link` to `to`. */
static void deliver(Link *link, kcp_arq *to, uint32_t now) {
    Datagram *d;
    while ((d = link_recv(link, now)) != NULL) {
        int rc = kcp_arq_input(to, d->data, d->len);
        free(d);
        check("kcp_arq_input", rc);
    }
}

static RunResult run(const Mode *m, int recovery, uint64_t seed) {
    uint32_t now = START;
    Link a_to_b, b_to_a;
    link_init(&a_to_b, seed * 2 + 1, &now);
    link_init(&b_to_a, seed * 2 + 2, &now);
    kcp_arq *a = NULL, *b = NULL;
    int rc = kcp_arq_create(CONV, to_link, &a_to_b, &a);
    if (rc == KCP_OK) rc = kcp_arq_create(CONV, to_link, &b_to_a, &b);
    if (rc != KCP_OK) die("kcp_arq_create", rc);
    configure(a, m, recovery);
    configure(b, m, recovery);

    uint32_t next_send = now + 20, index = 0, max = 0;
    uint64_t sum = 0;
    size_t next = 0;
    uint8_t buf[64];
    while (next < ECHOES) {
        now += 1;
        kcp_arq_update(a, now); /* outputs to a_to_b at `now` */
        kcp_arq_update(b, now);
        while ((int32_t)(now - next_send) >= 0) {
            uint8_t msg[8];
            put_le32(msg, index);
            put_le32(msg + 4, now);
            check("kcp_arq_send", kcp_arq_send(a, msg, sizeof msg));
            index++;
            next_send += 20;
        }
        deliver(&a_to_b, b, now);
        deliver(&b_to_a, a, now);
        intptr_t n;
        while ((n = kcp_arq_recv(b, buf, sizeof buf)) >= 0) {
            check("kcp_arq_send (echo)", kcp_arq_send(b, buf, (size_t)n));
        }
        if (n != KCP_EAGAIN) die("kcp_arq_recv (b)", (int)n);
        while ((n = kcp_arq_recv(a, buf, sizeof buf)) >= 0) {
            uint32_t sn = le32(buf), ts = le32(buf + 4);
            if (n != 8 || sn != next) {
                fprintf(stderr, "latency: echo %u arrived, expected %zu\n", sn, next);
                exit(1);
            }
            uint32_t rtt = now - ts;
            next++;
            sum += rtt;
            if (rtt > max) max = rtt;
        }
        if (n != KCP_EAGAIN) die("kcp_arq_recv (a)", (int)n);
        if (a_to_b.out_of_memory || b_to_a.out_of_memory) {
            fprintf(stderr, "latency: out of memory\n");
            exit(1);
        }
    }
    RunResult r = {(double)sum / (double)next, max, a_to_b.sent};
    kcp_arq_free(a);
    kcp_arq_free(b);
    link_free(&a_to_b);
    link_free(&b_to_a);
    return r;
}

/* The Rust report rounds to 3 decimals with f64::round (half away from
 * zero) before printing; round() is the same operation, so %.3f of the
 * result prints the same digits. */
static double round3(double v) { return round(v * 1000.0) / 1000.0; }

static void summarize(const Mode *m, int recovery, uint64_t seeds) {
    /* Means over seeds, summed in seed order as the Rust report does. */
    double avg = 0.0, max = 0.0, datagrams = 0.0;
    for (uint64_t s = 0; s < seeds; s++) {
        RunResult r = run(m, recovery, s);
        avg += r.avg_rtt;
        max += (double)r.max_rtt;
        datagrams += (double)r.datagrams_a;
    }
    double n = (double)seeds;
    avg /= n;
    max /= n;
    datagrams /= n;
    const char *rec = recovery == KCP_RECOVERY_CLASSIC ? "classic" : "improved";
#ifdef KCP_BENCH_IKCP
    rec = "ikcp"; /* ikcp has one recovery, whatever was asked */
#endif
    printf("{\"mode\": \"%s\", \"recovery\": \"%s\", \"redundancy_percent\": %u, \"seeds\": %llu, "
           "\"avg_rtt_ms\": %.3f, \"mean_max_rtt_ms\": %.3f, \"datagrams_first_endpoint\": %.3f}\n",
           m->name, rec, (unsigned)redundancy, (unsigned long long)seeds, round3(avg), round3(max),
           round3(datagrams));
    fflush(stdout);
    fprintf(stderr, "%-6s %-8s recovery: avg rtt %8.3f ms, mean max rtt %8.3f ms, %9.3f datagrams sent (%llu seeds)\n",
            m->name, rec, round3(avg), round3(max), round3(datagrams), (unsigned long long)seeds);
}

static void usage(void) {
    fprintf(stderr, "usage: latency [SEEDS] [classic|improved] [REDUNDANCY_PERCENT]\n");
    exit(2);
}

int main(int argc, char **argv) {
    uint64_t seeds = 20;
    int recovery = KCP_RECOVERY_IMPROVED;
    if (argc > 4) usage();
    if (argc > 1) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(argv[1], &end, 10);
        if (errno || *end || end == argv[1] || v == 0) usage();
        seeds = v;
    }
    if (argc > 2) {
        if (strcmp(argv[2], "classic") == 0) recovery = KCP_RECOVERY_CLASSIC;
        else if (strcmp(argv[2], "improved") == 0) recovery = KCP_RECOVERY_IMPROVED;
        else usage();
    }
    if (argc > 3) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(argv[3], &end, 10);
        if (errno || *end || end == argv[3] || v > KCP_REDUNDANCY_MAX) usage();
        redundancy = (uint32_t)v;
    }
    summarize(&FAST, recovery, seeds);
    summarize(&NORMAL, recovery, seeds);
    return 0;
}

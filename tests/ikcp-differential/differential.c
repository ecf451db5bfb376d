/*
 * differential.c: kcp-rs with KCP_RECOVERY_CLASSIC against the reference
 * ikcp, in lockstep, datagram for datagram.
 *
 * One binary links both engines: libkcp.a (kcp_arq_* symbols) and ikcp.c
 * from the PyPI `kcp` sdist (ikcp_* symbols), fetched by
 * scripts/ikcp-sdist.sh. For each of N random configurations it runs the
 * same two-endpoint conversation twice, once between two of our engines and
 * once between two ikcp engines, each pair over its own simulated links.
 * The two pairs' links are seeded identically, so as long as the engines
 * emit the same datagrams they make the same loss/duplicate/delay
 * decisions. Every call is made on both pairs at the same virtual time,
 * and the test fails at the first difference in
 *   - the datagrams an update or flush emits (count, order, every byte);
 *   - the result of send, input, recv (and the bytes received), peeksize
 *     (message mode), waitsnd and is_dead;
 *   - kcp_arq_check vs ikcp_check where the update schedule follows it, and
 *     with --check at every step for both endpoints.
 * On a difference it prints the configuration, the virtual time, both
 * datagrams decoded segment by segment (or both results), a command to
 * reproduce it, `K passed, 1 failed`, and exits 1. Otherwise it ends with
 * one line `N passed, 0 failed`. Received data is also checked against
 * what was sent (order, message boundaries, content).
 *
 * Configuration K draws everything from SplitMix64 seeded with
 * 0x6b63702d64696666 + K: per endpoint, nodelay 0/1/2, interval 10..100,
 * resend 0..3, nc 0/1, send window 1..1024, receive window 128..1024, MTU
 * 200..1400, an update schedule (every ms, a fixed step, random gaps, or
 * the time kcp_arq_check names; the first update possibly late), traffic
 * (gaps, bursts, message sizes, 0-byte sends, kcp_arq_flush after a send),
 * reader stalls (recv not called; long ones close the window, so ikcp
 * probes it) and pauses (nothing called; a few datagrams wait in the
 * socket, the rest are lost; rarely over 10 s, so ikcp resynchronises its
 * clock); stream or message mode; per direction loss, duplication, delay
 * and jitter with or without reordering, and outages. A few configurations
 * also change windows, interval, resend and nc mid-run. Virtual time
 * starts anywhere, often just before the 32-bit wrap. The link and driver
 * decisions come from their own streams, drawn the same way in both
 * worlds.
 *
 * Deliberate differences between the engines, kept out of the generated
 * configurations (each is documented in README.md or kcp-core):
 *   1. ikcp raises a receive window below 128 to 128: receive windows are
 *      >= 128.
 *   2. ikcp refuses a message of 128 fragments or more; ours refuses one
 *      with more fragments than the peer's largest advertised window (or
 *      our receive window before the peer spoke): message sizes are
 *      clamped to min(127, that window) fragments, the harness tracking
 *      the window from the datagrams it delivers. Stream-mode sends stay
 *      under 100 segments.
 *   3. Our RTO is capped at 60 s during back-off, ikcp's is not: outages
 *      last at most 6 s and pauses 15 s, so back-off stays below 60 s.
 *   4. Our kcp_arq_set_minrto raises the current RTO at once, ikcp's
 *      rx_minrto applies at the next sample: minrto is never set, and
 *      nodelay (which sets it) only before traffic.
 *   5. Ours ignores RTT samples over 60 s: link delays (<= 250 ms) and
 *      pauses (<= 15 s) keep every sample below.
 *   6. A first RTT sample of 0 ms gives our srtt 1, ikcp's 0: link delays
 *      are >= 1 ms, and since an endpoint's clock is that of its last
 *      update, a datagram whose first RTT sample would be 0 is fed after
 *      an update to the current time (a "clock nudge", counted).
 *   7. Ours keeps at most 2 x rcv_wnd pending ACKs: duplication is
 *      moderate (<= 8%) and a paused endpoint's socket holds at most 16
 *      datagrams.
 *   8. Ours refuses a malformed datagram whole: only the engines' own
 *      datagrams are fed.
 *   9. Stream-mode kcp_arq_recv fills the buffer across segments (ikcp
 *      returns one segment per call) and kcp_arq_peek_size counts all ready
 *      bytes: in stream mode both are drained each step and the bytes
 *      compared; peeksize is compared in message mode only.
 * Should a run still reach 3, 5 or 7 (the ikcp pair's state is checked
 * around every call), the configuration ends there, counted as passed up
 * to that point, and the summary says how many did (a few in a thousand,
 * all so far from 7 after a pause).
 *
 * Usage: differential [--check] [--trace] [--config K] [COUNT]
 *   COUNT      configurations 0..COUNT-1 (default 500)
 *   --check    also compare kcp_arq_check and ikcp_check at every step
 *   --config K run configuration K only; --trace prints every call's
 *              datagrams (ikcp's; ours are identical up to a difference)
 * Build: see scripts/test-c.sh (ikcp.c compiled on its own; this file with
 * -std=c11 -Wall -Wextra -Werror -isystem <dir of ikcp.h>).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcp.h"
#include "ikcp.h"

#define DEFAULT_COUNT 500u
#define BASE_SEED 0x6b63702d64696666ull /* "kcp-diff" */
#define HEADER 24u
#define RECV_CAP (1024u * 1400u) /* the largest receive queue: 1024 segments */
#define MAX_SPANS 3
#define MAX_WAITSND 3000 /* back-pressure: the app stops sending above this */
#define RTO_LIMIT 60000u
#define SEGMENT_LIMIT 127u /* ikcp refuses messages of 128 fragments or more */
#define STREAM_LIMIT 100u  /* segments per stream-mode send */

enum { OURS = 0, REF = 1 };

/* ---- random numbers -------------------------------------------------- */

typedef struct {
    uint64_t s;
} Rng;

static uint64_t rng_next(Rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n is 0. */
static uint32_t below(Rng *r, uint32_t n) { return n ? (uint32_t)(rng_next(r) % n) : 0; }

/* Uniform in [lo, hi]. */
static uint32_t range(Rng *r, uint32_t lo, uint32_t hi) { return lo + below(r, hi - lo + 1); }

/* True with probability pm/1000. */
static bool chance(Rng *r, uint32_t pm) { return below(r, 1000) < pm; }

static uint32_t pick(Rng *r, const uint32_t *v, size_t n) { return v[below(r, (uint32_t)n)]; }
#define PICK(r, ...) pick((r), (const uint32_t[]){__VA_ARGS__}, sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t))

/* ---- configuration ---------------------------------------------------- */

typedef struct {
    uint32_t from, to; /* [from, to) in ms since the start */
} Span;

static bool in_spans(const Span *s, int n, uint32_t t) {
    for (int i = 0; i < n; i++)
        if (t >= s[i].from && t < s[i].to) return true;
    return false;
}

typedef struct {
    uint32_t loss_pm, dup_pm;
    uint32_t delay, jitter; /* delay + [0, jitter] ms */
    bool reorder;           /* false: FIFO, later datagrams wait for earlier ones */
    int n_outage;
    Span outage[MAX_SPANS]; /* everything sent is lost */
} LinkCfg;

enum { SCHED_EVERY_MS, SCHED_STEP, SCHED_RANDOM, SCHED_CHECK };
static const char *const sched_name[] = {"every-ms", "step", "random", "check"};

typedef struct {
    int nodelay, interval, resend, nc;
    uint32_t snd_wnd, rcv_wnd, mtu;
    int sched;
    uint32_t step;  /* SCHED_STEP: the step; SCHED_RANDOM: largest gap */
    uint32_t first; /* time of the first update */
    uint32_t send_gap; /* 0: never sends */
    uint32_t burst, size_max, zero_pm, flush_pm;
    uint32_t held_max; /* datagrams a paused endpoint's socket holds */
    int n_stall, n_pause;
    Span stall[MAX_SPANS]; /* recv is not called */
    Span pause[MAX_SPANS]; /* nothing is called; datagrams wait */
} EndCfg;

typedef struct {
    unsigned index;
    uint64_t seed;
    uint32_t conv, start;
    bool stream;
    uint32_t traffic_ms, limit_ms;
    uint32_t reconfig_gap; /* 0: none */
    EndCfg end[2];
    LinkCfg link[2]; /* link[i] carries end i's datagrams to end 1-i */
    uint64_t link_seed, drive_seed;
} Config;

/* With probability pm/1000, 1..MAX_SPANS spans of 50..max_len ms starting
 * in [100, until); they may overlap, and last past `until`. */
static void draw_spans(Rng *r, Span *s, int *n, uint32_t until, uint32_t pm, uint32_t max_len) {
    *n = 0;
    if (!chance(r, pm)) return;
    int count = (int)range(r, 1, MAX_SPANS);
    for (int i = 0; i < count; i++) {
        uint32_t from = range(r, 100, until);
        s[(*n)++] = (Span){from, from + range(r, 50, max_len)};
    }
}

static void draw_config(Config *c, unsigned index) {
    memset(c, 0, sizeof *c);
    c->index = index;
    c->seed = BASE_SEED + index;
    Rng r = {c->seed};
    c->conv = (uint32_t)rng_next(&r);
    c->start = chance(&r, 500) ? (uint32_t)(0u - range(&r, 0, 20000)) : (uint32_t)rng_next(&r);
    c->stream = chance(&r, 300);
    c->traffic_ms = range(&r, 500, 8000);
    c->limit_ms = c->traffic_ms + 30000;
    c->reconfig_gap = chance(&r, 150) ? range(&r, 200, 3000) : 0;
    bool same = chance(&r, 500); /* both ends configured alike */
    for (int e = 0; e < 2; e++) {
        EndCfg *d = &c->end[e];
        if (e == 1 && same) {
            *d = c->end[0];
        } else {
            d->nodelay = (int)below(&r, 3);
            d->interval = chance(&r, 500) ? (int)PICK(&r, 10, 20, 40, 50, 100) : (int)range(&r, 10, 100);
            d->resend = (int)below(&r, 4);
            d->nc = (int)below(&r, 2);
            d->snd_wnd = PICK(&r, 1, 2, 4, 8, 16, 32, 64, 128, 256, 1024);
            d->rcv_wnd = PICK(&r, 128, 129, 200, 256, 512, 1024);
            d->mtu = chance(&r, 400) ? 1400 : range(&r, 200, 1400);
        }
        d->sched = (int)below(&r, 4);
        d->step = range(&r, 1, 2 * (uint32_t)d->interval + 20);
        d->first = chance(&r, 500) ? 0 : range(&r, 1, 300);
        d->send_gap = (e == 1 && chance(&r, 300)) ? 0 : PICK(&r, 1, 3, 10, 30, 100, 300);
        d->burst = PICK(&r, 1, 1, 2, 5, 20);
        d->size_max = PICK(&r, 1, 16, 200, 1400, 3000, 10000, 60000);
        d->zero_pm = chance(&r, 200) ? range(&r, 1, 100) : 0;
        d->flush_pm = chance(&r, 300) ? range(&r, 1, 1000) : 0;
        d->held_max = range(&r, 1, 16);
        /* Long stalls close the window: ikcp probes it after 7 s. */
        draw_spans(&r, d->stall, &d->n_stall, c->traffic_ms, 250, 20000);
        draw_spans(&r, d->pause, &d->n_pause, c->traffic_ms, 120, 6000);
        if (chance(&r, 30) && d->n_pause < MAX_SPANS) {
            /* A sleep of over 10 s: ikcp's update resynchronises its clock. */
            uint32_t from = range(&r, 100, c->traffic_ms);
            d->pause[d->n_pause++] = (Span){from, from + range(&r, 10000, 15000)};
        }
    }
    bool symmetric = chance(&r, 500);
    for (int l = 0; l < 2; l++) {
        LinkCfg *k = &c->link[l];
        if (l == 1 && symmetric) {
            *k = c->link[0]; /* the outages are drawn anew below */
        } else {
            k->loss_pm = chance(&r, 200) ? 0 : range(&r, 0, 200);
            k->dup_pm = chance(&r, 500) ? 0 : range(&r, 0, 80);
            k->delay = range(&r, 1, 150);
            k->jitter = chance(&r, 300) ? 0 : range(&r, 0, 100);
            k->reorder = chance(&r, 500);
        }
        draw_spans(&r, k->outage, &k->n_outage, c->traffic_ms, 300, 6000);
    }
    c->link_seed = rng_next(&r);
    c->drive_seed = rng_next(&r);
}

static void print_spans(const char *what, const Span *s, int n) {
    if (n == 0) return;
    printf(" %s", what);
    for (int i = 0; i < n; i++) printf("%s%u-%u", i ? "," : "=", s[i].from, s[i].to);
}

static void print_config(const Config *c) {
    printf("configuration %u (seed 0x%016" PRIx64 "): conv=%" PRIu32 " start=%" PRIu32 " mode=%s"
           " traffic=%ums limit=%ums reconfig_gap=%u\n",
           c->index, c->seed, c->conv, c->start, c->stream ? "stream" : "message", c->traffic_ms,
           c->limit_ms, c->reconfig_gap);
    for (int e = 0; e < 2; e++) {
        const EndCfg *d = &c->end[e];
        printf("  end %c: nodelay=%d interval=%d resend=%d nc=%d snd_wnd=%u rcv_wnd=%u mtu=%u"
               " schedule=%s step=%u first=%u send_gap=%u burst=%u size_max=%u zero=%u/1000"
               " flush=%u/1000 held_max=%u",
               'A' + e, d->nodelay, d->interval, d->resend, d->nc, d->snd_wnd, d->rcv_wnd, d->mtu,
               sched_name[d->sched], d->step, d->first, d->send_gap, d->burst, d->size_max,
               d->zero_pm, d->flush_pm, d->held_max);
        print_spans("stalls", d->stall, d->n_stall);
        print_spans("pauses", d->pause, d->n_pause);
        printf("\n");
    }
    for (int l = 0; l < 2; l++) {
        const LinkCfg *k = &c->link[l];
        printf("  link %c->%c: loss=%u/1000 dup=%u/1000 delay=%u+[0,%u]ms %s", 'A' + l, 'B' - l,
               k->loss_pm, k->dup_pm, k->delay, k->jitter, k->reorder ? "reordering" : "fifo");
        print_spans("outages", k->outage, k->n_outage);
        printf("\n");
    }
}

/* ---- datagrams --------------------------------------------------------- */

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const char *cmd_name(unsigned cmd) {
    switch (cmd) {
    case 81: return "PUSH";
    case 82: return "ACK";
    case 83: return "WASK";
    case 84: return "WINS";
    default: return "?";
    }
}

static void print_datagram(const char *label, const uint8_t *d, size_t len) {
    if (!d) {
        printf("  %s: (none)\n", label);
        return;
    }
    printf("  %s: %zu bytes\n", label, len);
    size_t off = 0;
    for (int i = 0; off + HEADER <= len; i++) {
        const uint8_t *p = d + off;
        uint32_t n = le32(p + 20);
        printf("    seg %d: conv=%" PRIu32 " cmd=%u(%s) frg=%u wnd=%u ts=%" PRIu32 " sn=%" PRIu32
               " una=%" PRIu32 " len=%" PRIu32 "\n",
               i, le32(p), p[4], cmd_name(p[4]), p[5], (unsigned)(p[6] | p[7] << 8), le32(p + 8),
               le32(p + 12), le32(p + 16), n);
        off += HEADER + n;
    }
    if (off != len) printf("    (%zu trailing bytes)\n", len > off ? len - off : 0);
}

/* Names the header field or data byte at offset k of a datagram. */
static void describe_offset(const uint8_t *d, size_t len, size_t k, char *out, size_t cap) {
    static const char *const field[HEADER] = {"conv", "conv", "conv", "conv", "cmd", "frg", "wnd", "wnd",
                                              "ts",   "ts",   "ts",   "ts",   "sn",  "sn",  "sn",  "sn",
                                              "una",  "una",  "una",  "una",  "len", "len", "len", "len"};
    size_t off = 0;
    for (int i = 0; off + HEADER <= len; i++) {
        size_t n = le32(d + off + 20);
        if (k < off + HEADER) {
            snprintf(out, cap, "segment %d, %s", i, field[k - off]);
            return;
        }
        if (k < off + HEADER + n) {
            snprintf(out, cap, "segment %d, data byte %zu", i, k - off - HEADER);
            return;
        }
        off += HEADER + n;
    }
    snprintf(out, cap, "past the end of the shorter datagram");
}

typedef struct {
    uint8_t *data;
    size_t len;
} Datagram;

typedef struct {
    Datagram *v;
    size_t n, cap;
} DatagramList;

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return q;
}

static uint8_t *copy_bytes(const void *p, size_t n) {
    uint8_t *q = xrealloc(NULL, n ? n : 1);
    memcpy(q, p, n);
    return q;
}

static void list_push(DatagramList *l, const void *p, size_t n) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (Datagram){copy_bytes(p, n), n};
}

static void list_clear(DatagramList *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i].data);
    l->n = 0;
}

static void list_free(DatagramList *l) {
    list_clear(l);
    free(l->v);
    *l = (DatagramList){0};
}

/* ---- the simulated link ------------------------------------------------ */

typedef struct {
    uint32_t at; /* delivery time, ms since the start */
    uint64_t order;
    uint8_t *data;
    size_t len;
} Pending;

typedef struct {
    const LinkCfg *cfg;
    Rng rng;
    Pending *q; /* sorted by (at, order) */
    size_t n, cap;
    uint64_t order;
    uint32_t last_at;
} Link;

static void link_insert(Link *l, uint32_t at, const uint8_t *data, size_t len) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->q = xrealloc(l->q, l->cap * sizeof *l->q);
    }
    size_t i = l->n;
    while (i > 0 && l->q[i - 1].at > at) i--;
    memmove(&l->q[i + 1], &l->q[i], (l->n - i) * sizeof *l->q);
    l->q[i] = (Pending){at, l->order++, copy_bytes(data, len), len};
    l->n++;
}

static void link_send(Link *l, uint32_t t, const uint8_t *data, size_t len) {
    const LinkCfg *c = l->cfg;
    if (in_spans(c->outage, c->n_outage, t)) return;
    if (chance(&l->rng, c->loss_pm)) return;
    int copies = chance(&l->rng, c->dup_pm) ? 2 : 1;
    for (int k = 0; k < copies; k++) {
        uint32_t at = t + c->delay + below(&l->rng, c->jitter + 1);
        if (!c->reorder && at < l->last_at) at = l->last_at;
        l->last_at = at > l->last_at ? at : l->last_at;
        link_insert(l, at, data, len);
    }
}

/* Takes the next datagram due at t, if any. The caller frees p->data. */
static bool link_take(Link *l, uint32_t t, Pending *p) {
    if (l->n == 0 || l->q[0].at > t) return false;
    *p = l->q[0];
    memmove(&l->q[0], &l->q[1], (l->n - 1) * sizeof *l->q);
    l->n--;
    return true;
}

static void link_free(Link *l) {
    for (size_t i = 0; i < l->n; i++) free(l->q[i].data);
    free(l->q);
    *l = (Link){0};
}

/* ---- the two engines ---------------------------------------------------- */

typedef struct {
    kcp_arq *ours;
    ikcpcb *ref;
    DatagramList out; /* what the current call emitted */
} Engine;

static int ours_output(const uint8_t *buf, size_t len, void *user) {
    list_push(&((Engine *)user)->out, buf, len);
    return 0;
}

static int ref_output(const char *buf, int len, ikcpcb *kcp, void *user) {
    (void)kcp;
    list_push(&((Engine *)user)->out, buf, (size_t)len);
    return 0;
}

/* world[OURS] is a pair of our engines, world[REF] a pair of ikcp engines. */
typedef struct {
    Engine end[2];
    Link link[2];
} World;

/* ---- a run ------------------------------------------------------------- */

typedef struct {
    uint32_t *lens; /* message mode: lengths sent, in order */
    size_t n_lens, cap_lens, next_len;
    uint64_t sent, received; /* bytes */
} Direction;

typedef struct {
    bool truncated;
    const char *why;
} Outcome;

typedef struct {
    uint64_t configs, truncated, nudges, clamped, held_lost, datagrams, virtual_ms, messages, checks, dead;
    uint64_t segments[4]; /* emitted by the ikcp pair: PUSH, ACK, WASK, WINS */
} Totals;

typedef struct {
    const Config *cfg;
    Rng drive; /* the driver's decisions, applied to both worlds */
    World w[2];
    uint32_t t;
    bool check_every_step, trace;
    uint32_t next_update[2], next_send[2], next_reconfig;
    bool updated_once[2];
    uint16_t peer_wnd_max[2]; /* largest window end e has been told (our send limit) */
    bool peer_spoke[2];
    uint32_t rcv_wnd[2], mss[2];
    Direction dir[2]; /* dir[e]: from end e to end 1-e */
    DatagramList held[2]; /* datagrams waiting in a paused end's socket */
    bool done;
    Outcome outcome;
    uint64_t nudges, clamped, held_lost, datagrams, messages, checks;
    uint64_t segments[4];
    bool dead;
    uint8_t *rx[2];
} Run;

static uint32_t now_of(const Run *r) { return r->cfg->start + r->t; }

static bool paused(const Run *r, int e) {
    const EndCfg *d = &r->cfg->end[e];
    return in_spans(d->pause, d->n_pause, r->t);
}

/* The end of the pause end e is in. */
static uint32_t pause_end(const Run *r, int e) {
    const EndCfg *d = &r->cfg->end[e];
    uint32_t to = r->t + 1;
    for (int i = 0; i < d->n_pause; i++)
        if (r->t >= d->pause[i].from && r->t < d->pause[i].to && d->pause[i].to > to) to = d->pause[i].to;
    return to;
}

static bool stalled(const Run *r, int e) {
    const EndCfg *d = &r->cfg->end[e];
    return in_spans(d->stall, d->n_stall, r->t);
}

static void fail_header(const Run *r, const char *what, int e) {
    printf("\nDIFFERENCE in configuration %u at virtual time %" PRIu32 " (t=%u ms): %s, end %c\n",
           r->cfg->index, now_of(r), r->t, what, 'A' + e);
    print_config(r->cfg);
}

static void fail_exit(const Run *r, unsigned passed) {
    printf("reproduce: differential --config %u --trace\n", r->cfg->index);
    printf("%u passed, 1 failed\n", passed);
    fflush(stdout);
    exit(1);
}

static unsigned g_passed;

/* Compares what both worlds' end e emitted in the call just made. */
static void compare_emitted(Run *r, int e, const char *call) {
    const DatagramList *a = &r->w[OURS].end[e].out, *b = &r->w[REF].end[e].out;
    size_t n = a->n > b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        const Datagram *x = i < a->n ? &a->v[i] : NULL, *y = i < b->n ? &b->v[i] : NULL;
        if (x && y && x->len == y->len && memcmp(x->data, y->data, x->len) == 0) continue;
        char what[160];
        snprintf(what, sizeof what, "datagram %zu of %s (kcp-rs emitted %zu, ikcp %zu)", i, call, a->n, b->n);
        fail_header(r, what, e);
        print_datagram("kcp-rs", x ? x->data : NULL, x ? x->len : 0);
        print_datagram("ikcp  ", y ? y->data : NULL, y ? y->len : 0);
        if (x && y) {
            size_t k = 0;
            while (k < x->len && k < y->len && x->data[k] == y->data[k]) k++;
            char where[96];
            describe_offset(y->data, y->len < x->len ? y->len : x->len, k, where, sizeof where);
            printf("  first differing byte: offset %zu (%s)\n", k, where);
        }
        fail_exit(r, g_passed);
    }
}

static void trace_emitted(const Run *r, int e, const char *call) {
    if (!r->trace) return;
    const DatagramList *l = &r->w[REF].end[e].out;
    for (size_t i = 0; i < l->n; i++) {
        char label[96];
        snprintf(label, sizeof label, "t=%u %c->%c %s", r->t, 'A' + e, 'B' - e, call);
        print_datagram(label, l->v[i].data, l->v[i].len);
    }
}

/* Hands what each world's end e emitted to that world's link. */
static void route_emitted(Run *r, int e) {
    for (int k = 0; k < 2; k++) {
        DatagramList *l = &r->w[k].end[e].out;
        for (size_t i = 0; i < l->n; i++) link_send(&r->w[k].link[e], r->t, l->v[i].data, l->v[i].len);
        if (k == REF) {
            r->datagrams += l->n;
            for (size_t i = 0; i < l->n; i++) {
                const uint8_t *d = l->v[i].data;
                for (size_t off = 0; off + HEADER <= l->v[i].len; off += HEADER + le32(d + off + 20))
                    if (d[off + 4] >= 81 && d[off + 4] <= 84) r->segments[d[off + 4] - 81]++;
            }
        }
        list_clear(l);
    }
}

/* Ends the run before a deliberate difference would show (see the header). */
static void end_run(Run *r, const char *why) {
    r->done = true;
    r->outcome = (Outcome){true, why};
}

/* After an update: ikcp's back-off must not have passed our 60 s cap. */
static bool rto_in_domain(const Run *r, int e) {
    const ikcpcb *kcp = r->w[REF].end[e].ref;
    for (const struct IQUEUEHEAD *p = kcp->snd_buf.next; p != &kcp->snd_buf; p = p->next) {
        const struct IKCPSEG *seg = iqueue_entry(p, const struct IKCPSEG, node);
        if (seg->rto > RTO_LIMIT) return false;
    }
    return true;
}

static void check_compare(Run *r, int e, uint32_t *out_check) {
    uint32_t now = now_of(r);
    uint32_t a = kcp_arq_check(r->w[OURS].end[e].ours, now);
    uint32_t b = (uint32_t)ikcp_check(r->w[REF].end[e].ref, now);
    r->checks++;
    if (a != b) {
        char what[128];
        snprintf(what, sizeof what, "check(%" PRIu32 "): kcp-rs %" PRIu32 " (+%d), ikcp %" PRIu32 " (+%d)", now, a,
                 (int32_t)(a - now), b, (int32_t)(b - now));
        fail_header(r, what, e);
        fail_exit(r, g_passed);
    }
    if (out_check) *out_check = a;
}

/* Re-plans end e's next update when its schedule follows check. */
static void replan(Run *r, int e) {
    if (r->cfg->end[e].sched != SCHED_CHECK || !r->updated_once[e]) return;
    uint32_t c;
    check_compare(r, e, &c);
    uint32_t at = r->t + (c - now_of(r));
    if (at < r->next_update[e]) r->next_update[e] = at;
}

static void do_update(Run *r, int e) {
    uint32_t now = now_of(r);
    kcp_arq_update(r->w[OURS].end[e].ours, now);
    ikcp_update(r->w[REF].end[e].ref, now);
    r->updated_once[e] = true;
    compare_emitted(r, e, "update");
    trace_emitted(r, e, "update");
    route_emitted(r, e);
    if (!rto_in_domain(r, e)) end_run(r, "RTO back-off past 60 s");
}

static void do_flush(Run *r, int e) {
    kcp_arq_flush(r->w[OURS].end[e].ours);
    ikcp_flush(r->w[REF].end[e].ref);
    compare_emitted(r, e, "flush");
    trace_emitted(r, e, "flush");
    route_emitted(r, e);
}

static uint8_t payload_byte(int dir, uint64_t pos) {
    uint64_t z = (pos + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)(dir + 1) * 0xd6e8feb86659fd93ull;
    return (uint8_t)(z >> 56);
}

/* The largest message, in bytes, that both engines accept from end e now. */
static uint32_t send_limit(const Run *r, int e) {
    uint32_t segs;
    if (r->cfg->stream) {
        segs = STREAM_LIMIT;
    } else {
        uint32_t peer = r->peer_spoke[e] ? r->peer_wnd_max[e] : r->rcv_wnd[e];
        segs = peer < 1 ? 1 : peer;
        if (segs > SEGMENT_LIMIT) segs = SEGMENT_LIMIT;
    }
    return segs * r->mss[e];
}

static void do_send(Run *r, int e, uint32_t len) {
    static uint8_t buf[128 * 1400];
    Direction *d = &r->dir[e];
    uint32_t limit = send_limit(r, e);
    if (len > limit) {
        len = limit;
        r->clamped++;
    }
    for (uint32_t i = 0; i < len; i++) buf[i] = payload_byte(e, d->sent + i);
    int a = kcp_arq_send(r->w[OURS].end[e].ours, buf, len);
    int b = ikcp_send(r->w[REF].end[e].ref, (const char *)buf, (int)len);
    bool ok_a = a >= 0, ok_b = b >= 0;
    if (ok_a != ok_b) {
        char what[160];
        snprintf(what, sizeof what, "send of %u bytes: kcp-rs returned %d (%s), ikcp %d", len, a,
                 a < 0 ? kcp_last_error() : "ok", b);
        fail_header(r, what, e);
        fail_exit(r, g_passed);
    }
    if (!ok_a) return; /* refused by both: nothing queued */
    if (r->trace) printf("t=%u %c send %u bytes\n", r->t, 'A' + e, len);
    d->sent += len;
    r->messages++;
    if (!r->cfg->stream) {
        if (d->n_lens == d->cap_lens) {
            d->cap_lens = d->cap_lens ? 2 * d->cap_lens : 256;
            d->lens = xrealloc(d->lens, d->cap_lens * sizeof *d->lens);
        }
        d->lens[d->n_lens++] = len;
    }
}

/* Feeds one datagram to end `to` of both worlds. */
static void feed(Run *r, int to, const uint8_t *data, size_t len) {
    ikcpcb *kcp = r->w[REF].end[to].ref;
    /* Deliberate difference 6: the first RTT sample must not be 0 ms. ikcp
     * samples every ACK whose ts is not after its clock (the last update). */
    for (size_t off = 0; off + HEADER <= len; off += HEADER + le32(data + off + 20)) {
        const uint8_t *p = data + off;
        if (p[4] != 82 || (int32_t)(kcp->current - le32(p + 8)) < 0) continue;
        if (kcp->current == le32(p + 8) && kcp->rx_srtt == 0) {
            r->nudges++;
            if (r->trace) printf("t=%u %c clock nudge before input\n", r->t, 'A' + to);
            do_update(r, to);
            if (r->done) return;
        }
        break;
    }
    /* Deliberate difference 5: RTT samples over 60 s. */
    for (size_t off = 0; off + HEADER <= len; off += HEADER + le32(data + off + 20)) {
        const uint8_t *p = data + off;
        if (p[4] == 82 && (int32_t)(kcp->current - le32(p + 8)) > (int32_t)RTO_LIMIT) {
            end_run(r, "RTT sample over 60 s");
            return;
        }
    }
    if (r->trace) {
        char label[64];
        snprintf(label, sizeof label, "t=%u %c input", r->t, 'A' + to);
        print_datagram(label, data, len);
    }
    int ra = kcp_arq_input(r->w[OURS].end[to].ours, data, len);
    int rb = ikcp_input(kcp, (const char *)data, (long)len);
    if ((ra == 0) != (rb == 0)) {
        char what[160];
        snprintf(what, sizeof what, "input: kcp-rs returned %d (%s), ikcp %d", ra, ra ? kcp_last_error() : "ok", rb);
        fail_header(r, what, to);
        print_datagram("datagram", data, len);
        fail_exit(r, g_passed);
    }
    /* What our send limit knows of the peer's window (deliberate difference 2). */
    for (size_t off = 0; off + HEADER <= len; off += HEADER + le32(data + off + 20)) {
        uint16_t wnd = (uint16_t)(data[off + 6] | data[off + 7] << 8);
        if (!r->peer_spoke[to] || wnd > r->peer_wnd_max[to]) r->peer_wnd_max[to] = wnd;
        r->peer_spoke[to] = true;
    }
    /* Deliberate difference 7: more pending ACKs than 2 x rcv_wnd. */
    if (kcp->ackcount > 2 * kcp->rcv_wnd) {
        end_run(r, "more than 2 x rcv_wnd pending ACKs");
        return;
    }
    replan(r, to);
}

/* Delivers what the links carry to end `to` by now. Both worlds' links must
 * hand over the same datagrams at the same time. A paused end's socket
 * holds up to held_max datagrams and loses the rest; they are fed first
 * when the pause ends. */
static void do_deliver(Run *r, int to) {
    int from = 1 - to;
    bool is_paused = paused(r, to);
    DatagramList *held = &r->held[to];
    if (!is_paused && held->n) {
        for (size_t i = 0; i < held->n && !r->done; i++) feed(r, to, held->v[i].data, held->v[i].len);
        list_clear(held);
    }
    while (!r->done) {
        Pending a = {0}, b = {0};
        bool has_a = link_take(&r->w[OURS].link[from], r->t, &a);
        bool has_b = link_take(&r->w[REF].link[from], r->t, &b);
        if (!has_a && !has_b) return;
        if (has_a != has_b || a.len != b.len || memcmp(a.data, b.data, a.len) != 0 || a.at != b.at) {
            fail_header(r, "the two worlds' links diverged (a harness bug)", to);
            fail_exit(r, g_passed);
        }
        free(b.data);
        if (!is_paused) feed(r, to, a.data, a.len);
        else if (held->n < r->cfg->end[to].held_max) list_push(held, a.data, a.len);
        else r->held_lost++;
        free(a.data);
    }
}

static void verify_received(Run *r, int to, const uint8_t *buf, size_t len, bool message) {
    int from = 1 - to;
    Direction *d = &r->dir[from];
    if (message) {
        if (d->next_len >= d->n_lens || d->lens[d->next_len] != len) {
            fail_header(r, "a message that was never sent (both engines agree)", to);
            printf("  received %zu bytes, expected message %zu of %zu bytes\n", len, d->next_len,
                   d->next_len < d->n_lens ? (size_t)d->lens[d->next_len] : (size_t)0);
            fail_exit(r, g_passed);
        }
        d->next_len++;
    }
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != payload_byte(from, d->received + i)) {
            fail_header(r, "corrupted data (both engines agree)", to);
            printf("  byte %zu of the %s at stream offset %" PRIu64 "\n", i, message ? "message" : "read", d->received);
            fail_exit(r, g_passed);
        }
    }
    d->received += len;
}

static void do_recv(Run *r, int e) {
    kcp_arq *a = r->w[OURS].end[e].ours;
    ikcpcb *b = r->w[REF].end[e].ref;
    uint8_t *ba = r->rx[OURS], *bb = r->rx[REF];
    if (r->cfg->stream) {
        size_t na = 0, nb = 0;
        intptr_t n;
        while ((n = kcp_arq_recv(a, ba + na, RECV_CAP - na)) > 0) na += (size_t)n;
        int m;
        while ((m = ikcp_recv(b, (char *)bb + nb, (int)(RECV_CAP - nb))) > 0) nb += (size_t)m;
        if (na != nb || memcmp(ba, bb, na) != 0) {
            char what[128];
            snprintf(what, sizeof what, "stream recv: kcp-rs read %zu bytes, ikcp %zu", na, nb);
            fail_header(r, what, e);
            fail_exit(r, g_passed);
        }
        if (na) verify_received(r, e, ba, na, false);
        return;
    }
    for (;;) {
        intptr_t pa = kcp_arq_peek_size(a);
        int pb = ikcp_peeksize(b);
        /* ikcp_peeksize returns -1 both when empty and when incomplete. */
        intptr_t pa_norm = pa < 0 ? -1 : pa;
        intptr_t pb_norm = pb < 0 ? -1 : pb;
        intptr_t na = kcp_arq_recv(a, ba, RECV_CAP);
        int nb = ikcp_recv(b, (char *)bb, (int)RECV_CAP);
        intptr_t na_norm = na < 0 ? -1 : na, nb_norm = nb < 0 ? -1 : nb;
        if (pa_norm != pb_norm || na_norm != nb_norm || (na >= 0 && memcmp(ba, bb, (size_t)na) != 0)) {
            char what[160];
            snprintf(what, sizeof what, "recv: kcp-rs peeksize %" PRIdPTR " recv %" PRIdPTR ", ikcp peeksize %d recv %d",
                     pa, na, pb, nb);
            fail_header(r, what, e);
            fail_exit(r, g_passed);
        }
        if (na < 0) return;
        verify_received(r, e, ba, (size_t)na, true);
    }
}

static void compare_state(Run *r, int e) {
    kcp_arq *a = r->w[OURS].end[e].ours;
    ikcpcb *b = r->w[REF].end[e].ref;
    int wa = kcp_arq_wait_snd(a), wb = ikcp_waitsnd(b);
    int da = kcp_arq_is_dead(a), db = b->state == (IUINT32)-1;
    if (wa != wb || da != db) {
        char what[128];
        snprintf(what, sizeof what, "state: kcp-rs waitsnd %d dead %d, ikcp waitsnd %d dead %d", wa, da, wb, db);
        fail_header(r, what, e);
        fail_exit(r, g_passed);
    }
    r->dead |= da != 0;
}

static void apply_settings(Engine *en, const EndCfg *d, bool stream) {
    if (en->ours) {
        kcp_arq_set_recovery(en->ours, KCP_RECOVERY_CLASSIC);
        kcp_arq_set_mtu(en->ours, d->mtu);
        kcp_arq_set_window(en->ours, d->snd_wnd, d->rcv_wnd);
        kcp_arq_set_nodelay(en->ours, d->nodelay, d->interval, d->resend, d->nc);
        kcp_arq_set_stream(en->ours, stream);
    } else {
        ikcp_setmtu(en->ref, (int)d->mtu);
        ikcp_wndsize(en->ref, (int)d->snd_wnd, (int)d->rcv_wnd);
        ikcp_nodelay(en->ref, d->nodelay, d->interval, d->resend, d->nc);
        en->ref->stream = stream;
    }
}

/* Mid-run changes that both engines apply the same way (never nodelay or
 * minrto, see deliberate difference 4; receive windows stay >= 128). */
static void do_reconfig(Run *r) {
    Rng *g = &r->drive;
    int e = (int)below(g, 2);
    if (paused(r, e)) return;
    if (chance(g, 500)) {
        uint32_t snd = PICK(g, 0, 1, 4, 32, 128, 256);
        uint32_t rcv = PICK(g, 0, 128, 200, 512);
        if (rcv) r->rcv_wnd[e] = rcv;
        if (r->trace) printf("t=%u %c set_window %u %u\n", r->t, 'A' + e, snd, rcv);
        for (int k = 0; k < 2; k++) {
            Engine *en = &r->w[k].end[e];
            if (k == OURS) kcp_arq_set_window(en->ours, snd, rcv);
            else ikcp_wndsize(en->ref, (int)snd, (int)rcv);
        }
    } else {
        int interval = chance(g, 300) ? -1 : (int)range(g, 10, 100);
        int resend = chance(g, 300) ? -1 : (int)below(g, 4);
        int nc = chance(g, 300) ? -1 : (int)below(g, 2);
        if (r->trace) printf("t=%u %c set_nodelay -1 %d %d %d\n", r->t, 'A' + e, interval, resend, nc);
        kcp_arq_set_nodelay(r->w[OURS].end[e].ours, -1, interval, resend, nc);
        ikcp_nodelay(r->w[REF].end[e].ref, -1, interval, resend, nc);
    }
}

static uint32_t schedule_next(Run *r, int e) {
    const EndCfg *d = &r->cfg->end[e];
    switch (d->sched) {
    case SCHED_EVERY_MS: return r->t + 1;
    case SCHED_STEP: return r->t + d->step;
    case SCHED_RANDOM: return r->t + 1 + below(&r->drive, d->step);
    default: {
        uint32_t c;
        check_compare(r, e, &c);
        uint32_t dt = c - now_of(r);
        return r->t + (dt ? dt : 1);
    }
    }
}

static uint32_t message_size(Run *r, int e) {
    const EndCfg *d = &r->cfg->end[e];
    Rng *g = &r->drive;
    if (chance(g, d->zero_pm)) return 0;
    uint32_t max = d->size_max;
    if (chance(g, 500) && max > 64) max = 64;
    return range(g, 1, max);
}

static bool idle(Run *r) {
    for (int e = 0; e < 2; e++) {
        if (kcp_arq_wait_snd(r->w[OURS].end[e].ours) != 0) return false;
        if (r->w[REF].end[e].ref->nrcv_que != 0 || r->w[REF].end[e].ref->nrcv_buf != 0) return false;
        if (r->w[OURS].link[e].n != 0 || r->held[e].n != 0) return false;
    }
    return true;
}

static uint32_t next_time(const Run *r) {
    uint32_t next = UINT32_MAX;
#define CONSIDER(x)                                                                                \
    do {                                                                                           \
        uint32_t x_ = (x);                                                                         \
        if (x_ > r->t && x_ < next) next = x_;                                                     \
    } while (0)
    for (int e = 0; e < 2; e++) {
        const EndCfg *d = &r->cfg->end[e];
        CONSIDER(r->next_update[e]);
        if (r->t < r->cfg->traffic_ms && d->send_gap) CONSIDER(r->next_send[e]);
        for (int i = 0; i < d->n_pause; i++) CONSIDER(d->pause[i].to);
        for (int i = 0; i < d->n_stall; i++) CONSIDER(d->stall[i].to);
        const Link *l = &r->w[OURS].link[1 - e];
        if (l->n) CONSIDER(l->q[0].at > r->t ? l->q[0].at : r->t + 1);
    }
    if (r->cfg->reconfig_gap && r->t < r->cfg->traffic_ms) CONSIDER(r->next_reconfig);
    CONSIDER(r->cfg->traffic_ms);
    CONSIDER(r->cfg->limit_ms);
#undef CONSIDER
    return next;
}

/* Runs one configuration; exits the process on a difference. */
static Outcome run_config(const Config *cfg, bool check_every_step, bool trace, Totals *tot) {
    Run *r = xrealloc(NULL, sizeof *r);
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->drive = (Rng){cfg->drive_seed};
    r->check_every_step = check_every_step;
    r->trace = trace;
    r->rx[0] = xrealloc(NULL, RECV_CAP);
    r->rx[1] = xrealloc(NULL, RECV_CAP);
    for (int k = 0; k < 2; k++) {
        for (int e = 0; e < 2; e++) {
            Engine *en = &r->w[k].end[e];
            if (k == OURS) {
                if (kcp_arq_create(cfg->conv, ours_output, en, &en->ours) != KCP_OK) en->ours = NULL;
            } else {
                en->ref = ikcp_create(cfg->conv, en);
                ikcp_setoutput(en->ref, ref_output);
            }
            if (!en->ours && !en->ref) {
                fprintf(stderr, "cannot create an engine\n");
                exit(2);
            }
            r->w[k].link[e] = (Link){.cfg = &cfg->link[e], .rng = {cfg->link_seed + (uint64_t)e}};
        }
    }
    for (int e = 0; e < 2; e++) {
        const EndCfg *d = &cfg->end[e];
        apply_settings(&r->w[OURS].end[e], d, cfg->stream);
        apply_settings(&r->w[REF].end[e], d, cfg->stream);
        r->rcv_wnd[e] = d->rcv_wnd;
        r->mss[e] = d->mtu - HEADER;
        r->next_update[e] = d->first;
        r->next_send[e] = d->send_gap ? below(&r->drive, d->send_gap) : UINT32_MAX;
    }
    r->next_reconfig = cfg->reconfig_gap ? range(&r->drive, 1, cfg->reconfig_gap) : UINT32_MAX;

    while (!r->done) {
        bool traffic = r->t < cfg->traffic_ms;
        if (traffic && r->t >= r->next_reconfig) {
            do_reconfig(r);
            r->next_reconfig = r->t + range(&r->drive, 1, cfg->reconfig_gap);
        }
        for (int e = 0; e < 2 && !r->done; e++) {
            const EndCfg *d = &cfg->end[e];
            if (!traffic || !d->send_gap || r->t < r->next_send[e]) continue;
            r->next_send[e] = r->t + range(&r->drive, 1, d->send_gap);
            if (paused(r, e) || ikcp_waitsnd(r->w[REF].end[e].ref) > MAX_WAITSND) continue;
            uint32_t burst = range(&r->drive, 1, d->burst);
            for (uint32_t i = 0; i < burst; i++) do_send(r, e, message_size(r, e));
            if (chance(&r->drive, d->flush_pm)) do_flush(r, e);
            replan(r, e);
        }
        for (int e = 0; e < 2 && !r->done; e++) {
            if (paused(r, e)) {
                if (r->next_update[e] <= r->t) r->next_update[e] = pause_end(r, e);
                continue;
            }
            if (r->t < r->next_update[e]) continue;
            do_update(r, e);
            if (!r->done) r->next_update[e] = schedule_next(r, e);
        }
        for (int e = 0; e < 2 && !r->done; e++) do_deliver(r, e);
        for (int e = 0; e < 2 && !r->done; e++) {
            if (!paused(r, e) && !stalled(r, e)) do_recv(r, e);
            compare_state(r, e);
            if (r->check_every_step) check_compare(r, e, NULL);
        }
        if (r->done) break;
        if (r->t >= cfg->limit_ms || (r->t >= cfg->traffic_ms && idle(r))) break;
        r->t = next_time(r);
    }

    /* A conversation that drained delivered everything, in order. */
    bool drained = !r->done && idle(r);
    for (int e = 0; drained && e < 2; e++) {
        const Direction *d = &r->dir[e];
        if (d->received != d->sent || (!cfg->stream && d->next_len != d->n_lens)) {
            fail_header(r, "data lost although both ends drained (both engines agree)", 1 - e);
            printf("  sent %" PRIu64 " bytes, received %" PRIu64 "\n", d->sent, d->received);
            fail_exit(r, g_passed);
        }
    }

    tot->nudges += r->nudges;
    tot->clamped += r->clamped;
    tot->held_lost += r->held_lost;
    tot->datagrams += r->datagrams;
    tot->messages += r->messages;
    tot->checks += r->checks;
    tot->dead += r->dead;
    for (int i = 0; i < 4; i++) tot->segments[i] += r->segments[i];
    tot->virtual_ms += r->t;
    Outcome out = r->outcome;
    for (int k = 0; k < 2; k++) {
        for (int e = 0; e < 2; e++) {
            Engine *en = &r->w[k].end[e];
            if (en->ours) kcp_arq_free(en->ours);
            if (en->ref) ikcp_release(en->ref);
            list_free(&en->out);
            link_free(&r->w[k].link[e]);
        }
    }
    for (int e = 0; e < 2; e++) list_free(&r->held[e]);
    for (int e = 0; e < 2; e++) free(r->dir[e].lens);
    free(r->rx[0]);
    free(r->rx[1]);
    free(r);
    return out;
}

static void usage(void) {
    fprintf(stderr, "usage: differential [--check] [--trace] [--config K] [COUNT]\n");
    exit(2);
}

static bool parse_uint(const char *s, unsigned *out) {
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > 100000000ul) return false;
    *out = (unsigned)v;
    return true;
}

int main(int argc, char **argv) {
    unsigned count = DEFAULT_COUNT, only = 0;
    bool check_every_step = false, trace = false, single = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) check_every_step = true;
        else if (strcmp(argv[i], "--trace") == 0) trace = true;
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            if (!parse_uint(argv[++i], &only)) usage();
            single = true;
        } else if (!parse_uint(argv[i], &count) || count == 0) usage();
    }
    struct timespec t0, t1;
    timespec_get(&t0, TIME_UTC);
    Totals tot = {0};
    unsigned first = single ? only : 0, last = single ? only + 1 : count;
    for (unsigned i = first; i < last; i++) {
        Config cfg;
        draw_config(&cfg, i);
        if (single) print_config(&cfg);
        Outcome o = run_config(&cfg, check_every_step, trace, &tot);
        if (o.truncated) {
            tot.truncated++;
            printf("configuration %u ended early at the edge of the compared domain: %s\n", i, o.why);
        }
        tot.configs++;
        g_passed++;
    }
    timespec_get(&t1, TIME_UTC);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("kcp-rs (classic) == ikcp: %" PRIu64 " configurations, %.0f virtual s, %" PRIu64 " messages, %" PRIu64
           " datagrams per engine pair (segments: %" PRIu64 " PUSH, %" PRIu64 " ACK, %" PRIu64 " WASK, %" PRIu64
           " WINS), %" PRIu64 " dead links, %" PRIu64 " check comparisons\n",
           tot.configs, (double)tot.virtual_ms / 1000.0, tot.messages, tot.datagrams, tot.segments[0],
           tot.segments[1], tot.segments[2], tot.segments[3], tot.dead, tot.checks);
    printf("kept in the compared domain: %" PRIu64 " clock nudges, %" PRIu64 " messages clamped, %" PRIu64
           " datagrams lost by paused ends, %" PRIu64 " configurations ended early; %.2f s\n",
           tot.nudges, tot.clamped, tot.held_lost, tot.truncated, secs);
    printf("%u passed, 0 failed\n", g_passed);
    return 0;
}

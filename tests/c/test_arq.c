/*
 * test_arq.c: tests of the kcp_arq_* C API, against include/kcp.h and libkcp.
 *
 * Two handles exchange datagrams through output callbacks that append to
 * in-memory queues. Every check prints one line and is counted; the last
 * line is "N passed, M failed", and the exit status is 1 if any failed.
 *
 * Run by scripts/test-c.sh (plain, under ASan+UBSan, and under valgrind).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kcp.h"

#define CONV 0x11223344u

/* ---- checks ---------------------------------------------------------------- */

/* An int return equals the expected code; prints both names on failure. */
static void check_rc(long long rc, long long want, const char *what) {
    if (rc == want) {
        check(1, "%s -> %lld", what, rc);
    } else {
        check(0, "%s -> %lld (%s), expected %lld (%s); last error: %s", what, rc,
              kcp_strerror((int)rc), want, kcp_strerror((int)want), kcp_last_error());
    }
}

/* ---- an in-memory link ----------------------------------------------------- */

typedef struct Packet {
    struct Packet *next;
    size_t len;
    uint8_t data[];
} Packet;

typedef struct {
    Packet *head, *tail;
    size_t count;
} Queue;

static int queue_output(const uint8_t *buf, size_t len, void *user) {
    Queue *q = user;
    Packet *p = malloc(sizeof *p + len);
    if (!p) abort();
    p->next = NULL;
    p->len = len;
    memcpy(p->data, buf, len);
    if (q->tail) q->tail->next = p;
    else q->head = p;
    q->tail = p;
    q->count++;
    return 0;
}

static Packet *queue_pop(Queue *q) {
    Packet *p = q->head;
    if (!p) return NULL;
    q->head = p->next;
    if (!q->head) q->tail = NULL;
    q->count--;
    return p;
}

static void queue_clear(Queue *q) {
    Packet *p;
    while ((p = queue_pop(q)) != NULL) free(p);
}

/* Two handles, their output queues, and a clock. */
typedef struct {
    kcp_arq *a, *b;
    Queue a_out, b_out;
    uint32_t now;
    int refused; /* valid datagrams refused by input: must stay 0 */
} Pair;

static void pair_init(Pair *p) {
    memset(p, 0, sizeof *p);
    p->now = 1000;
    if (kcp_arq_create(CONV, queue_output, &p->a_out, &p->a) != KCP_OK ||
        kcp_arq_create(CONV, queue_output, &p->b_out, &p->b) != KCP_OK) {
        fprintf(stderr, "kcp_arq_create failed: %s\n", kcp_last_error());
        exit(1);
    }
    /* Flush every 10 ms; negative values keep the other settings. */
    kcp_arq_set_nodelay(p->a, -1, 10, -1, -1);
    kcp_arq_set_nodelay(p->b, -1, 10, -1, -1);
}

static void pair_free(Pair *p) {
    kcp_arq_free(p->a);
    kcp_arq_free(p->b);
    queue_clear(&p->a_out);
    queue_clear(&p->b_out);
}

static void deliver(Pair *pr, Queue *q, kcp_arq *to) {
    Packet *p;
    while ((p = queue_pop(q)) != NULL) {
        if (kcp_arq_input(to, p->data, p->len) != KCP_OK) pr->refused++;
        free(p);
    }
}

/* 10 ms: both update, then each side's datagrams reach the other. */
static void pair_steps(Pair *p, int n) {
    for (int i = 0; i < n; i++) {
        p->now += 10;
        kcp_arq_update(p->a, p->now);
        kcp_arq_update(p->b, p->now);
        deliver(p, &p->a_out, p->b);
        deliver(p, &p->b_out, p->a);
    }
}

/* Sends `msg` a -> b and checks it arrives intact. */
static void check_exchange(Pair *p, const char *msg, const char *what) {
    size_t len = strlen(msg);
    uint8_t buf[256];
    int rc = kcp_arq_send(p->a, (const uint8_t *)msg, len);
    pair_steps(p, 3);
    intptr_t n = kcp_arq_recv(p->b, buf, sizeof buf);
    check(rc == (int)len && n == (intptr_t)len && memcmp(buf, msg, len) == 0 && p->refused == 0,
          "%s: \"%s\" still crosses (send %d, recv %ld)", what, msg, rc, (long)n);
}

/* ---- crafted datagrams ----------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A 24-byte segment header: conv cmd frg wnd ts sn una len. */
static void header(uint8_t *out, uint32_t conv, uint8_t cmd, uint8_t frg, uint32_t sn, uint32_t len) {
    put32(out, conv);
    out[4] = cmd;
    out[5] = frg;
    out[6] = 128;
    out[7] = 0;
    put32(out + 8, 0);
    put32(out + 12, sn);
    put32(out + 16, 0);
    put32(out + 20, len);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_round_trip(void) {
    printf("# round trip\n");
    Pair p;
    pair_init(&p);
    uint8_t buf[64];
    check_rc(kcp_arq_send(p.a, (const uint8_t *)"hello", 5), 5, "send \"hello\" a->b");
    check_rc(kcp_arq_send(p.b, (const uint8_t *)"world!", 6), 6, "send \"world!\" b->a");
    check_rc(kcp_arq_wait_snd(p.a), 1, "waitsnd before flushing");
    check_rc(kcp_arq_recv(p.b, buf, sizeof buf), KCP_EAGAIN, "recv before anything arrived");
    pair_steps(&p, 3);
    check_rc(kcp_arq_peek_size(p.b), 5, "peeksize at b");
    intptr_t n = kcp_arq_recv(p.b, buf, sizeof buf);
    check(n == 5 && memcmp(buf, "hello", 5) == 0, "b received \"hello\"");
    n = kcp_arq_recv(p.a, buf, sizeof buf);
    check(n == 6 && memcmp(buf, "world!", 6) == 0, "a received \"world!\"");
    pair_steps(&p, 3);
    check_rc(kcp_arq_wait_snd(p.a), 0, "waitsnd once acknowledged");
    check_rc(kcp_arq_is_dead(p.a), 0, "is_dead");
    check(kcp_arq_conv(p.a) == CONV, "conv is 0x%08x", kcp_arq_conv(p.a));
    uint32_t next = kcp_arq_check(p.a, p.now);
    check(next - p.now <= 10, "check is within one interval (+%u ms)", next - p.now);
    struct kcp_arq_stats st;
    check_rc(kcp_arq_get_stats(p.a, &st, sizeof st), (int)sizeof st, "stats fills the whole struct");
    check(st.out_segments == 1 && st.in_segments >= 2 && st.out_datagrams >= 1 && st.input_errors == 0,
          "stats: %llu segments out, %llu in, %llu datagrams", (unsigned long long)st.out_segments,
          (unsigned long long)st.in_segments, (unsigned long long)st.out_datagrams);
    check(p.refused == 0, "no valid datagram refused");
    pair_free(&p);
}

static void test_settings(void) {
    printf("# settings\n");
    Pair p;
    pair_init(&p);
    check_rc(kcp_arq_set_window(p.a, 128, 0), KCP_OK, "set_window 128, keep");
    check_rc(kcp_arq_set_window(p.a, 70000, 0), KCP_EINVAL, "set_window 70000");
    check_rc(kcp_arq_set_nodelay(p.a, 2, 10, 2, 1), KCP_OK, "set_nodelay 2 10 2 1");
    check_rc(kcp_arq_set_minrto(p.a, 10), KCP_OK, "set_minrto 10");
    check_rc(kcp_arq_set_recovery(p.a, KCP_RECOVERY_CLASSIC), KCP_OK, "set_recovery classic");
    check_rc(kcp_arq_set_recovery(p.a, KCP_RECOVERY_IMPROVED), KCP_OK, "set_recovery improved");
    check_rc(kcp_arq_set_recovery(p.a, 7), KCP_EINVAL, "set_recovery 7");
    check(kcp_last_error()[0] != '\0', "last error: %s", kcp_last_error());
    check_rc(kcp_arq_set_redundancy(p.a, 50), KCP_OK, "set_redundancy 50");
    check_rc(kcp_arq_set_redundancy(p.a, KCP_REDUNDANCY_MAX + 1), KCP_EINVAL, "set_redundancy max+1");
    check(strstr(kcp_last_error(), "redundancy") != NULL, "last error: %s", kcp_last_error());
    check_rc(kcp_arq_set_redundancy(NULL, 0), KCP_EINVAL, "set_redundancy(NULL)");
    check_rc(kcp_arq_set_mtu(p.a, 10), KCP_EINVAL, "set_mtu 10");
    check(strstr(kcp_last_error(), "mtu") != NULL, "last error: %s", kcp_last_error());
    check_rc(kcp_arq_set_mtu(p.a, 576), KCP_OK, "set_mtu 576");
    uint8_t big[2000];
    memset(big, 'm', sizeof big);
    check_rc(kcp_arq_send(p.a, big, sizeof big), (long long)sizeof big, "send 2000 bytes");
    kcp_arq_update(p.a, p.now + 10);
    size_t largest = 0;
    for (Packet *q = p.a_out.head; q; q = q->next)
        if (q->len > largest) largest = q->len;
    check(largest > 0 && largest <= 576, "largest datagram %zu <= MTU 576", largest);
    pair_steps(&p, 4);
    uint8_t buf[4096];
    intptr_t n = kcp_arq_recv(p.b, buf, sizeof buf);
    check(n == 2000 && memcmp(buf, big, 2000) == 0, "2000 bytes received through MTU 576");
    pair_free(&p);
}

static void test_fragmentation(void) {
    printf("# fragmentation\n");
    Pair p;
    pair_init(&p);
    check_rc(kcp_arq_set_window(p.a, 256, 256), KCP_OK, "a: window 256/256");
    check_rc(kcp_arq_set_window(p.b, 256, 256), KCP_OK, "b: window 256/256");
    kcp_arq_set_nodelay(p.a, 1, 10, 2, 1);
    kcp_arq_set_nodelay(p.b, 1, 10, 2, 1);
    size_t len = 100 * 1000;
    uint8_t *msg = malloc(len), *got = malloc(len);
    if (!msg || !got) abort();
    for (size_t i = 0; i < len; i++) msg[i] = (uint8_t)(i * 7 + i / 251);
    check_rc(kcp_arq_send(p.a, msg, len), (long long)len, "send 100 KB (73 fragments)");
    intptr_t size = KCP_EAGAIN;
    for (int i = 0; i < 100 && size < 0; i++) {
        pair_steps(&p, 1);
        size = kcp_arq_peek_size(p.b);
    }
    check(size == (intptr_t)len, "peeksize is 100000 once reassembled (%ld)", (long)size);
    intptr_t n = kcp_arq_recv(p.b, got, len);
    check(n == (intptr_t)len && memcmp(msg, got, len) == 0, "100 KB message intact");
    check_rc(kcp_arq_recv(p.b, got, len), KCP_EAGAIN, "nothing more");
    free(msg);
    free(got);
    pair_free(&p);
}

static void test_stream(void) {
    printf("# stream mode\n");
    Pair p;
    pair_init(&p);
    check_rc(kcp_arq_set_stream(p.a, true), KCP_OK, "a: stream on");
    check_rc(kcp_arq_set_stream(p.b, true), KCP_OK, "b: stream on");
    check_rc(kcp_arq_send(p.a, (const uint8_t *)"abc", 3), 3, "send \"abc\"");
    check_rc(kcp_arq_send(p.a, (const uint8_t *)"defgh", 5), 5, "send \"defgh\"");
    pair_steps(&p, 3);
    check_rc(kcp_arq_peek_size(p.b), 8, "8 bytes ready");
    uint8_t buf[16];
    intptr_t n = kcp_arq_recv(p.b, buf, 5);
    check(n == 5 && memcmp(buf, "abcde", 5) == 0, "a 5-byte buffer gets \"abcde\"");
    n = kcp_arq_recv(p.b, buf, sizeof buf);
    check(n == 3 && memcmp(buf, "fgh", 3) == 0, "then \"fgh\"");
    pair_free(&p);
}

static void test_null_handles(void) {
    printf("# NULL handles\n");
    uint8_t buf[8] = {0};
    struct kcp_arq_stats st;
    kcp_arq *n = NULL;
    /* kcp_last_error() must be read after the call: its string lives only
     * until the next failing call, so it cannot be an argument next to it. */
    kcp_arq *none = NULL;
    int rc = kcp_arq_create(1, NULL, NULL, &none);
    check(rc == KCP_EINVAL && none == NULL && strstr(kcp_last_error(), "output") != NULL,
          "create with a NULL callback -> KCP_EINVAL (%s)", kcp_last_error());
    check_rc(kcp_arq_create(1, queue_output, NULL, NULL), KCP_EINVAL, "create into NULL");
    kcp_arq_free(NULL);
    check(1, "free(NULL) is a no-op");
    check_rc(kcp_arq_send(n, buf, 1), KCP_EINVAL, "send(NULL)");
    check(strstr(kcp_last_error(), "NULL") != NULL, "last error: %s", kcp_last_error());
    check_rc(kcp_arq_recv(n, buf, sizeof buf), KCP_EINVAL, "recv(NULL)");
    check_rc(kcp_arq_input(n, buf, sizeof buf), KCP_EINVAL, "input(NULL)");
    check_rc(kcp_arq_peek_size(n), KCP_EINVAL, "peeksize(NULL)");
    check_rc(kcp_arq_wait_snd(n), KCP_EINVAL, "waitsnd(NULL)");
    check_rc(kcp_arq_set_mtu(n, 1400), KCP_EINVAL, "set_mtu(NULL)");
    check_rc(kcp_arq_set_window(n, 1, 1), KCP_EINVAL, "set_window(NULL)");
    check_rc(kcp_arq_set_nodelay(n, 1, 10, 2, 1), KCP_EINVAL, "set_nodelay(NULL)");
    check_rc(kcp_arq_set_minrto(n, 10), KCP_EINVAL, "set_minrto(NULL)");
    check_rc(kcp_arq_set_stream(n, true), KCP_EINVAL, "set_stream(NULL)");
    check_rc(kcp_arq_set_recovery(n, KCP_RECOVERY_CLASSIC), KCP_EINVAL, "set_recovery(NULL)");
    check_rc(kcp_arq_is_dead(n), KCP_EINVAL, "is_dead(NULL)");
    check_rc(kcp_arq_get_stats(n, &st, sizeof(struct kcp_arq_stats)), KCP_EINVAL, "stats(NULL)");
    check(kcp_arq_check(n, 4321) == 4321, "check(NULL) returns now");
    check(kcp_arq_conv(n) == 0, "conv(NULL) returns 0");
    kcp_arq_set_recovery(n, 0); /* a different message */
    kcp_arq_update(n, 5);
    check(strstr(kcp_last_error(), "NULL") != NULL, "update(NULL) records: %s", kcp_last_error());
    kcp_arq_flush(n);
    check(strstr(kcp_last_error(), "NULL") != NULL, "flush(NULL) records: %s", kcp_last_error());
}

static void test_null_buffers(void) {
    printf("# NULL buffers\n");
    Pair p;
    pair_init(&p);
    check_rc(kcp_arq_send(p.a, NULL, 4), KCP_EINVAL, "send(NULL buf, 4)");
    check(strstr(kcp_last_error(), "buf is NULL") != NULL, "last error: %s", kcp_last_error());
    check_rc(kcp_arq_input(p.a, NULL, 4), KCP_EINVAL, "input(NULL buf, 4)");
    check_rc(kcp_arq_recv(p.a, NULL, 4), KCP_EINVAL, "recv(NULL buf, 4)");
    check_rc(kcp_arq_get_stats(p.a, NULL, sizeof(struct kcp_arq_stats)), KCP_EINVAL, "stats(NULL out)");
    check_rc(kcp_arq_recv(p.b, NULL, 0), KCP_EAGAIN, "recv(NULL buf, 0): nothing yet");
    check_rc(kcp_arq_input(p.b, NULL, 0), KCP_EPROTO, "input(NULL buf, 0): an empty datagram");
    check_rc(kcp_arq_send(p.a, NULL, 0), 0, "send(NULL buf, 0): an empty message");
    pair_steps(&p, 3);
    check_rc(kcp_arq_peek_size(p.b), 0, "the empty message arrived");
    check_rc(kcp_arq_recv(p.b, NULL, 0), 0, "recv(NULL buf, 0) takes it");
    check_exchange(&p, "after NULL buffers", "NULL buffers");
    pair_free(&p);
}

static void test_malformed(void) {
    printf("# malformed datagrams\n");
    Pair p;
    pair_init(&p);
    pair_steps(&p, 1);
    uint8_t d[64];
    struct {
        const char *name;
        size_t len;
        const char *detail;
    } cases[5];
    uint8_t data[5][64];
    /* truncated: 10 bytes of a header */
    header(data[0], CONV, 81, 0, 0, 0);
    cases[0].name = "truncated";
    cases[0].len = 10;
    cases[0].detail = "shorter";
    /* wrong conv */
    header(data[1], 0xdeadbeef, 81, 0, 0, 0);
    cases[1].name = "wrong conv";
    cases[1].len = 24;
    cases[1].detail = "0xdeadbeef";
    /* unknown command */
    header(data[2], CONV, 99, 0, 0, 0);
    cases[2].name = "unknown cmd";
    cases[2].len = 24;
    cases[2].detail = "99";
    /* lying length: claims 100 bytes, has 5 */
    header(data[3], CONV, 81, 0, 0, 100);
    memcpy(data[3] + 24, "short", 5);
    cases[3].name = "lying length";
    cases[3].len = 29;
    cases[3].detail = "claims 100";
    /* a valid segment followed by one of another conversation */
    header(data[4], CONV, 81, 0, 0, 1);
    data[4][24] = 'x';
    header(data[4] + 25, CONV ^ 1, 81, 0, 1, 0);
    cases[4].name = "valid segment then wrong conv";
    cases[4].len = 49;
    cases[4].detail = "conversation";
    for (int i = 0; i < 5; i++) {
        memcpy(d, data[i], cases[i].len);
        int rc = kcp_arq_input(p.b, d, cases[i].len);
        check_rc(rc, KCP_EPROTO, cases[i].name);
        check(kcp_last_error()[0] != '\0' && strstr(kcp_last_error(), cases[i].detail) != NULL,
              "%s: last error: %s", cases[i].name, kcp_last_error());
    }
    check_rc(kcp_arq_peek_size(p.b), KCP_EAGAIN, "nothing was delivered");
    struct kcp_arq_stats st = {0};
    kcp_arq_get_stats(p.b, &st, sizeof(struct kcp_arq_stats));
    check(st.input_errors == 5 && st.in_segments == 0, "b counted 5 refused datagrams, accepted no segment");
    check_exchange(&p, "after malformed", "malformed");
    pair_free(&p);
}

static void test_limits(void) {
    printf("# message too large, buffer too small\n");
    Pair p;
    pair_init(&p);
    /* 128 fragments of 1376 bytes fit the default receive window; one byte more does not. */
    size_t len = 1376 * 128 + 1;
    uint8_t *big = calloc(1, len);
    if (!big) abort();
    check_rc(kcp_arq_send(p.a, big, len), KCP_EMSGSIZE, "send 128 fragments + 1 byte");
    check(strstr(kcp_last_error(), "fragments") != NULL, "last error: %s", kcp_last_error());
    check_rc(kcp_arq_wait_snd(p.a), 0, "nothing was queued");
    check_rc(kcp_arq_send(p.a, big, len - 1), (long long)(len - 1), "send exactly 128 fragments");
    free(big);

    Pair q;
    pair_init(&q);
    check_rc(kcp_arq_send(q.a, (const uint8_t *)"0123456789", 10), 10, "send 10 bytes");
    pair_steps(&q, 3);
    uint8_t small[4] = {0xAA, 0xAA, 0xAA, 0xAA};
    check_rc(kcp_arq_recv(q.b, small, sizeof small), KCP_ENOBUFS, "recv into 4 bytes");
    check(strstr(kcp_last_error(), "10 bytes") != NULL, "last error: %s", kcp_last_error());
    check(small[0] == 0xAA && small[3] == 0xAA, "the small buffer was not written");
    check_rc(kcp_arq_peek_size(q.b), 10, "the message is still there");
    uint8_t buf[64];
    intptr_t n = kcp_arq_recv(q.b, buf, sizeof buf);
    check(n == 10 && memcmp(buf, "0123456789", 10) == 0, "recv with a big buffer gets it");
    pair_free(&p);
    pair_free(&q);
}

/* What the re-entrant callback saw. */
typedef struct {
    kcp_arq *self;
    int calls;
    long long rc[16];
    uint32_t conv;
} Reentry;

static int reentrant_output(const uint8_t *buf, size_t len, void *user) {
    (void)buf;
    (void)len;
    Reentry *r = user;
    kcp_arq *h = r->self;
    uint8_t tmp[16] = {0};
    struct kcp_arq_stats st;
    int i = 0;
    r->calls++;
    r->rc[i++] = kcp_arq_send(h, tmp, 1);
    r->rc[i++] = kcp_arq_recv(h, tmp, sizeof tmp);
    r->rc[i++] = kcp_arq_input(h, tmp, sizeof tmp);
    r->rc[i++] = kcp_arq_peek_size(h);
    r->rc[i++] = kcp_arq_wait_snd(h);
    r->rc[i++] = kcp_arq_set_mtu(h, 1000);
    r->rc[i++] = kcp_arq_set_window(h, 1, 1);
    r->rc[i++] = kcp_arq_set_nodelay(h, 1, 10, 2, 1);
    r->rc[i++] = kcp_arq_set_minrto(h, 10);
    r->rc[i++] = kcp_arq_set_stream(h, true);
    r->rc[i++] = kcp_arq_set_recovery(h, 0);
    r->rc[i++] = kcp_arq_is_dead(h);
    r->rc[i++] = kcp_arq_get_stats(h, &st, sizeof(struct kcp_arq_stats));
    kcp_arq_set_recovery(NULL, 0); /* a different message first */
    r->rc[i++] = kcp_arq_check(h, 77) == 77 && strstr(kcp_last_error(), "callback") ? KCP_EBUSY : 0;
    kcp_arq_set_recovery(NULL, 0);
    kcp_arq_update(h, 1);
    r->rc[i++] = strstr(kcp_last_error(), "callback") ? KCP_EBUSY : 0;
    kcp_arq_set_recovery(NULL, 0);
    kcp_arq_free(h); /* refused: the handle is emitting */
    r->rc[i++] = strstr(kcp_last_error(), "callback") ? KCP_EBUSY : 0;
    r->conv = kcp_arq_conv(h);
    return 0;
}

static void test_reentrancy(void) {
    printf("# re-entrant calls from the output callback\n");
    static const char *names[16] = {"send", "recv", "input", "peek_size", "wait_snd", "set_mtu",
                                    "set_window", "set_nodelay", "set_minrto", "set_stream",
                                    "set_recovery", "is_dead", "stats", "check", "update", "free"};
    Reentry r;
    memset(&r, 0, sizeof r);
    check_rc(kcp_arq_create(CONV, reentrant_output, &r, &r.self), KCP_OK, "create");
    check_rc(kcp_arq_send(r.self, (const uint8_t *)"ping", 4), 4, "send \"ping\"");
    kcp_arq_update(r.self, 100);
    check(r.calls == 1, "the callback ran once (%d)", r.calls);
    for (int i = 0; i < 16; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s from inside the callback", names[i]);
        check_rc(r.rc[i], KCP_EBUSY, what);
    }
    check(r.conv == CONV, "conv from inside the callback works");
    check_rc(kcp_arq_wait_snd(r.self), 1, "afterwards the handle works (and was not freed)");
    kcp_arq_free(r.self);
}

static void test_strerror(void) {
    printf("# kcp_strerror\n");
    int codes[] = {KCP_OK,    KCP_EINVAL, KCP_EAGAIN, KCP_ETIMEDOUT, KCP_ECLOSED,
                   KCP_EMSGSIZE, KCP_EIO, KCP_EAUTH,  KCP_ELIMIT,    KCP_EPANIC,
                   KCP_EBUSY, KCP_ENOBUFS, KCP_EPROTO};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = kcp_strerror(codes[i]);
        check(s && s[0] && strcmp(s, "unknown error") != 0, "strerror(%d) = \"%s\"", codes[i], s);
    }
    check(strcmp(kcp_strerror(12345), "unknown error") == 0, "strerror(12345) = \"unknown error\"");
    check(KCP_EINVAL == -1 && KCP_EPANIC == -9 && KCP_EPROTO == -12, "codes keep their numbers");
}

int main(void) {
    test_round_trip();
    test_settings();
    test_fragmentation();
    test_stream();
    test_null_handles();
    test_null_buffers();
    test_malformed();
    test_limits();
    test_reentrancy();
    test_strerror();
    return report();
}

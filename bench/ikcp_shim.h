/*
 * ikcp_shim.h: runs a kcp_arq_* program on the reference C engine (ikcp).
 *
 * For benchmarks only (scripts/bench-ikcp.sh). ikcp is not part of this
 * repository: the script fetches it at bench time (PyPI `kcp` sdist) into
 * build/ and compiles ikcp.c next to the program. Build a program with
 *
 *     -DKCP_BENCH_IKCP -Iinclude -isystem <dir of ikcp.h>   ... ikcp.o
 *
 * and include this header after kcp.h. It keeps kcp.h's constants and
 * types (error codes, kcp_output_fn, struct kcp_arq_stats) and redirects
 * the calls below, with function-like macros, to small adapters over ikcp.
 * libkcp is not linked: every number such a program prints is ikcp's.
 *
 * Covered: kcp_arq_create/free/send/recv/input/update/check/flush/
 * peek_size/wait_snd/set_mtu/set_window/set_nodelay/set_minrto/set_stream/
 * set_recovery/set_redundancy/is_dead/get_stats/conv, kcp_strerror,
 * kcp_last_error (set_redundancy accepts only 0: ikcp has none).
 *
 * Where the two APIs differ:
 * - kcp_arq_set_recovery accepts CLASSIC or IMPROVED and does nothing:
 *   ikcp has one recovery (the one KCP_RECOVERY_CLASSIC reproduces).
 * - kcp_arq_set_minrto writes ikcp's rx_minrto field directly.
 * - kcp_arq_set_window: ikcp raises a receive window below 128 to 128.
 * - kcp_arq_get_stats: ikcp keeps almost no counters. Filled: out_datagrams
 *   (counted by the output adapter) and timeout_retransmits = retransmits
 *   (ikcp's `xmit`, which only counts RTO resends). Zero: out_segments,
 *   in_segments, fast_retransmits, early_retransmits, repeat_segments,
 *   input_errors (these would need ikcp changes or re-parsing every
 *   datagram, which would slow the engine being measured).
 * - No re-entrancy guard (KCP_EBUSY is never returned) and no
 *   thread-local error detail beyond the last failing call.
 */
#ifndef KCP_BENCH_IKCP_SHIM_H
#define KCP_BENCH_IKCP_SHIM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcp.h"
#include "ikcp.h"

/* kcp.h declares struct kcp_arq opaque; here it is the adapter. */
struct kcp_arq {
    ikcpcb *cb;
    kcp_output_fn output;
    void *user;
    uint64_t datagrams; /* handed to `output` */
};

static char kshim_error[128];

static inline int kshim_fail(int code, const char *what, int rc) {
    snprintf(kshim_error, sizeof kshim_error, "%s returned %d", what, rc);
    return code;
}

/* ikcp's output callback, forwarded to a kcp_output_fn. */
static inline int kshim_output(const char *buf, int len, ikcpcb *cb, void *user) {
    struct kcp_arq *arq = (struct kcp_arq *)user;
    (void)cb;
    arq->datagrams++;
    return arq->output((const uint8_t *)buf, (size_t)len, arq->user);
}

static inline struct kcp_arq *kshim_new(uint32_t conv, kcp_output_fn output, void *user) {
    if (!output) {
        kshim_fail(KCP_EINVAL, "kcp_arq_create (NULL output)", 0);
        return NULL;
    }
    struct kcp_arq *arq = (struct kcp_arq *)calloc(1, sizeof *arq);
    if (!arq) return NULL;
    arq->cb = ikcp_create((IUINT32)conv, arq);
    if (!arq->cb) {
        free(arq);
        return NULL;
    }
    arq->output = output;
    arq->user = user;
    ikcp_setoutput(arq->cb, kshim_output);
    return arq;
}

static inline void kshim_free(struct kcp_arq *arq) {
    if (!arq) return;
    ikcp_release(arq->cb);
    free(arq);
}

static inline int kshim_send(struct kcp_arq *arq, const uint8_t *buf, size_t len) {
    if (!arq || (!buf && len)) return KCP_EINVAL;
    if (len > INT_MAX) return KCP_EMSGSIZE;
    int rc = ikcp_send(arq->cb, (const char *)buf, (int)len);
    if (rc < 0) return kshim_fail(KCP_EMSGSIZE, "ikcp_send", rc);
    return (int)len;
}

static inline intptr_t kshim_recv(struct kcp_arq *arq, uint8_t *buf, size_t cap) {
    if (!arq || (!buf && cap)) return KCP_EINVAL;
    int n = ikcp_recv(arq->cb, (char *)buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (n >= 0) return n;
    /* -1: queue empty, -2: message incomplete, -3: buffer too small. */
    return n == -3 ? KCP_ENOBUFS : KCP_EAGAIN;
}

static inline int kshim_input(struct kcp_arq *arq, const uint8_t *buf, size_t len) {
    if (!arq || (!buf && len)) return KCP_EINVAL;
    if (len > INT_MAX) return KCP_EPROTO;
    int rc = ikcp_input(arq->cb, (const char *)buf, (long)len);
    return rc < 0 ? kshim_fail(KCP_EPROTO, "ikcp_input", rc) : KCP_OK;
}

static inline void kshim_update(struct kcp_arq *arq, uint32_t now_ms) {
    if (arq) ikcp_update(arq->cb, (IUINT32)now_ms);
}

static inline uint32_t kshim_check(const struct kcp_arq *arq, uint32_t now_ms) {
    return arq ? (uint32_t)ikcp_check(arq->cb, (IUINT32)now_ms) : now_ms;
}

static inline void kshim_flush(struct kcp_arq *arq) {
    if (arq) ikcp_flush(arq->cb);
}

static inline intptr_t kshim_peeksize(const struct kcp_arq *arq) {
    if (!arq) return KCP_EINVAL;
    int n = ikcp_peeksize(arq->cb);
    return n < 0 ? KCP_EAGAIN : n;
}

static inline int kshim_waitsnd(const struct kcp_arq *arq) {
    return arq ? ikcp_waitsnd(arq->cb) : KCP_EINVAL;
}

static inline int kshim_set_mtu(struct kcp_arq *arq, uint32_t mtu) {
    if (!arq || mtu < 50 || mtu > 65507) return KCP_EINVAL;
    int rc = ikcp_setmtu(arq->cb, (int)mtu);
    return rc < 0 ? kshim_fail(KCP_EINVAL, "ikcp_setmtu", rc) : KCP_OK;
}

static inline int kshim_set_window(struct kcp_arq *arq, uint32_t snd, uint32_t rcv) {
    if (!arq || snd > 65535 || rcv > 65535) return KCP_EINVAL;
    ikcp_wndsize(arq->cb, (int)snd, (int)rcv); /* 0 keeps, as ours */
    return KCP_OK;
}

static inline int kshim_set_nodelay(struct kcp_arq *arq, int nodelay, int interval, int resend, int nc) {
    if (!arq) return KCP_EINVAL;
    ikcp_nodelay(arq->cb, nodelay, interval, resend, nc);
    return KCP_OK;
}

static inline int kshim_set_minrto(struct kcp_arq *arq, uint32_t ms) {
    if (!arq || ms > INT32_MAX) return KCP_EINVAL;
    arq->cb->rx_minrto = (IINT32)ms;
    return KCP_OK;
}

static inline int kshim_set_stream(struct kcp_arq *arq, bool on) {
    if (!arq) return KCP_EINVAL;
    arq->cb->stream = on ? 1 : 0;
    return KCP_OK;
}

static inline int kshim_set_recovery(struct kcp_arq *arq, int mode) {
    if (!arq || (mode != KCP_RECOVERY_CLASSIC && mode != KCP_RECOVERY_IMPROVED)) return KCP_EINVAL;
    return KCP_OK; /* ikcp has a single recovery */
}

/* ikcp has no redundancy: only "off" is honest. */
static inline int kshim_set_redundancy(struct kcp_arq *arq, uint32_t percent) {
    if (!arq || percent != 0) return KCP_EINVAL;
    return KCP_OK;
}

static inline int kshim_is_dead(const struct kcp_arq *arq) {
    if (!arq) return KCP_EINVAL;
    return arq->cb->state == (IUINT32)-1;
}

static inline int kshim_create(uint32_t conv, kcp_output_fn output, void *user, struct kcp_arq **out) {
    if (!out) return KCP_EINVAL;
    struct kcp_arq *arq = kshim_new(conv, output, user);
    if (!arq) return KCP_EINVAL;
    *out = arq;
    return KCP_OK;
}

static inline int kshim_get_stats(const struct kcp_arq *arq, struct kcp_arq_stats *out, size_t size) {
    if (!arq || !out || size < 8) return KCP_EINVAL;
    struct kcp_arq_stats s = {0};
    s.out_datagrams = arq->datagrams;
    s.retransmits = arq->cb->xmit;
    s.timeout_retransmits = arq->cb->xmit;
    s.srtt_ms = (uint64_t)arq->cb->rx_srtt;
    s.rttvar_ms = (uint64_t)arq->cb->rx_rttval;
    s.rto_ms = (uint64_t)arq->cb->rx_rto;
    s.cwnd = (uint64_t)arq->cb->cwnd;
    s.remote_window = (uint64_t)arq->cb->rmt_wnd;
    s.wait_snd = (uint64_t)ikcp_waitsnd(arq->cb);
    size_t fill = size < sizeof s ? size : sizeof s;
    memcpy(out, &s, fill);
    if (size > sizeof s) memset((char *)out + sizeof s, 0, size - sizeof s);
    return (int)fill;
}

static inline uint32_t kshim_conv(const struct kcp_arq *arq) {
    return arq ? (uint32_t)arq->cb->conv : 0;
}

static inline const char *kshim_strerror(int code) {
    switch (code) {
    case KCP_OK: return "success";
    case KCP_EINVAL: return "invalid argument";
    case KCP_EAGAIN: return "try again";
    case KCP_EMSGSIZE: return "message too large";
    case KCP_ENOBUFS: return "buffer too small";
    case KCP_EPROTO: return "malformed datagram";
    default: return "error (ikcp shim)";
    }
}

static inline const char *kshim_last_error(void) { return kshim_error; }

#define kcp_arq_create(conv, output, user, out) kshim_create(conv, output, user, out)
#define kcp_arq_free(arq) kshim_free(arq)
#define kcp_arq_send(arq, buf, len) kshim_send(arq, buf, len)
#define kcp_arq_recv(arq, buf, cap) kshim_recv(arq, buf, cap)
#define kcp_arq_input(arq, buf, len) kshim_input(arq, buf, len)
#define kcp_arq_update(arq, now) kshim_update(arq, now)
#define kcp_arq_check(arq, now) kshim_check(arq, now)
#define kcp_arq_flush(arq) kshim_flush(arq)
#define kcp_arq_peek_size(arq) kshim_peeksize(arq)
#define kcp_arq_wait_snd(arq) kshim_waitsnd(arq)
#define kcp_arq_set_mtu(arq, mtu) kshim_set_mtu(arq, mtu)
#define kcp_arq_set_window(arq, snd, rcv) kshim_set_window(arq, snd, rcv)
#define kcp_arq_set_nodelay(arq, nd, iv, rs, nc) kshim_set_nodelay(arq, nd, iv, rs, nc)
#define kcp_arq_set_minrto(arq, ms) kshim_set_minrto(arq, ms)
#define kcp_arq_set_stream(arq, on) kshim_set_stream(arq, on)
#define kcp_arq_set_recovery(arq, mode) kshim_set_recovery(arq, mode)
#define kcp_arq_set_redundancy(arq, percent) kshim_set_redundancy(arq, percent)
#define kcp_arq_is_dead(arq) kshim_is_dead(arq)
#define kcp_arq_get_stats(arq, out, size) kshim_get_stats(arq, out, size) /* `struct kcp_arq_stats` is kcp.h's */
#define kcp_arq_conv(arq) kshim_conv(arq)
#define kcp_strerror(code) kshim_strerror(code)
#define kcp_last_error() kshim_last_error()

#endif /* KCP_BENCH_IKCP_SHIM_H */

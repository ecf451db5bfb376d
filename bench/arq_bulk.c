/*
 * arq_bulk.c: in-memory ARQ throughput through the kcp_arq_* C API.
 *
 * Two engines joined directly: the sender's output callback feeds the
 * receiver's kcp_arq_input, and the receiver's feeds the sender's. Windows
 * 1024/1024, nodelay 1, interval 10, resend 2, nc 1. Each round: the sender
 * queues messages until 2048 wait to be sent or acknowledged, flushes; the
 * receiver takes every message (checking its size and its sequence byte)
 * and flushes its ACKs back. No loss, so everything sent in a round is
 * acknowledged in that round and the virtual clock never matters: both
 * engines get one kcp_arq_update at time 0 (kcp_arq_flush and ikcp_flush
 * need one) and only kcp_arq_flush afterwards, as kcp-bench's
 * arq_throughput does in Rust.
 *
 * Built against libkcp it measures kcp-rs; built with -DKCP_BENCH_IKCP and
 * ikcp.o it measures the reference C ikcp through bench/ikcp_shim.h (see
 * scripts/bench-ikcp.sh), so both run the same code.
 *
 * Usage: arq_bulk [SECONDS_PER_CASE]    (default 2)
 * Prints one JSON line per case on stdout:
 *   bulk:  1300-byte messages, MB/s delivered (1 MB = 10^6 bytes);
 *   small: 64-byte messages, messages/s delivered.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcp.h"
#ifdef KCP_BENCH_IKCP
#include "ikcp_shim.h"
#define ENGINE "ikcp"
#else
#define ENGINE "kcp-rs"
#endif

#define CONV 0x5eedu
#define WAITSND 2048
#define MAX_MESSAGE 1400
#define ROUNDS_PER_CLOCK_CHECK 64

static void die(const char *what, int rc) {
    fprintf(stderr, "arq_bulk (%s): %s failed: %s (%s)\n", ENGINE, what, kcp_strerror(rc), kcp_last_error());
    exit(1);
}

/* Each engine's output goes straight into its peer. */
static int to_peer(const uint8_t *buf, size_t len, void *user) {
    kcp_arq *peer = *(kcp_arq **)user;
    int rc = kcp_arq_input(peer, buf, len);
    if (rc < 0) die("kcp_arq_input", rc);
    return 0;
}

static void configure(kcp_arq *arq) {
    int rc;
    if ((rc = kcp_arq_set_window(arq, 1024, 1024)) < 0) die("kcp_arq_set_window", rc);
    if ((rc = kcp_arq_set_nodelay(arq, 1, 10, 2, 1)) < 0) die("kcp_arq_set_nodelay", rc);
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void run_case(const char *name, size_t message, double budget) {
    kcp_arq *sender = NULL, *receiver = NULL;
    int rc = kcp_arq_create(CONV, to_peer, &receiver, &sender);
    if (rc == KCP_OK) rc = kcp_arq_create(CONV, to_peer, &sender, &receiver);
    if (rc != KCP_OK) die("kcp_arq_create", rc);
    configure(sender);
    configure(receiver);
    kcp_arq_update(sender, 0);
    kcp_arq_update(receiver, 0);

    uint8_t msg[MAX_MESSAGE], buf[MAX_MESSAGE];
    memset(msg, 0x5a, sizeof msg);
    uint64_t queued = 0, delivered = 0, rounds = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    double secs = 0.0;
    do {
        for (int i = 0; i < ROUNDS_PER_CLOCK_CHECK; i++) {
            int waiting;
            while ((waiting = kcp_arq_wait_snd(sender)) < WAITSND) {
                if (waiting < 0) die("kcp_arq_waitsnd", waiting);
                msg[0] = (uint8_t)queued; /* sequence byte, checked on arrival */
                int rc = kcp_arq_send(sender, msg, message);
                if (rc < 0) die("kcp_arq_send", rc);
                queued++;
            }
            kcp_arq_flush(sender); /* data -> receiver's input */
            intptr_t n;
            while ((n = kcp_arq_recv(receiver, buf, sizeof buf)) >= 0) {
                if ((size_t)n != message || buf[0] != (uint8_t)delivered) {
                    fprintf(stderr, "arq_bulk (%s): message %llu arrived damaged (%lld bytes, byte 0x%02x)\n",
                            ENGINE, (unsigned long long)delivered, (long long)n, buf[0]);
                    exit(1);
                }
                delivered++;
            }
            if (n != KCP_EAGAIN) die("kcp_arq_recv", (int)n);
            kcp_arq_flush(receiver); /* ACKs -> sender's input */
            rounds++;
        }
        secs = seconds_since(&start);
    } while (secs < budget);

    struct kcp_arq_stats stats;
    rc = kcp_arq_get_stats(sender, &stats, sizeof stats);
    if (rc < 0) die("kcp_arq_get_stats", rc);
    printf("{\"engine\": \"%s\", \"case\": \"%s\", \"message_bytes\": %zu, \"mb_per_s\": %.3f, "
           "\"messages_per_s\": %.0f, \"seconds\": %.3f, \"rounds\": %llu, \"retransmits\": %llu}\n",
           ENGINE, name, message, (double)(delivered * message) / secs / 1e6, (double)delivered / secs, secs,
           (unsigned long long)rounds, (unsigned long long)stats.retransmits);
    fflush(stdout);
    kcp_arq_free(sender);
    kcp_arq_free(receiver);
}

int main(int argc, char **argv) {
    double budget = 2.0;
    if (argc > 2) {
        fprintf(stderr, "usage: arq_bulk [SECONDS_PER_CASE]\n");
        return 2;
    }
    if (argc == 2) {
        char *end;
        errno = 0;
        budget = strtod(argv[1], &end);
        if (errno || *end || end == argv[1] || !(budget > 0.0)) {
            fprintf(stderr, "usage: arq_bulk [SECONDS_PER_CASE]\n");
            return 2;
        }
    }
    run_case("bulk", 1300, budget);
    run_case("small", 64, budget);
    return 0;
}

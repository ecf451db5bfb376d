/*
 * echo_client.c: dials an echo server, sends messages one at a time, checks
 * every echo byte for byte, and prints the round-trip times.
 *
 * Usage: echo_client ADDR [--messages N] [--size BYTES]
 *                         [--crypt NAME --key KEY | --crypt secure --psk PSK] [--fec DATA,PARITY]
 *   ADDR        the server, e.g. 127.0.0.1:4000
 *   --messages  how many (default 1000)      --size  bytes each (default 64)
 *   --crypt/--key/--psk/--fec  must match the server's.
 *
 * Exit status 0 when every echo came back intact.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcp.h"

#define TIMEOUT_MS 5000

static void die(const char *what, int rc) {
    fprintf(stderr, "echo_client: %s: %s (%s)\n", what, kcp_strerror(rc), kcp_last_error());
    exit(1);
}

static void set(kcp_config *cfg, const char *key, const char *value) {
    int rc = kcp_config_set(cfg, key, value);
    if (rc < 0) die(key, rc);
}

static void usage(void) {
    fprintf(stderr, "usage: echo_client ADDR [--messages N] [--size BYTES] "
                    "[--crypt NAME --key KEY | --crypt secure --psk PSK] [--fec DATA,PARITY]\n");
    exit(2);
}

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Message i: its index, then bytes that depend on it. */
static void fill(uint8_t *msg, size_t size, uint32_t i) {
    memcpy(msg, &i, sizeof i);
    for (size_t k = sizeof i; k < size; k++) msg[k] = (uint8_t)(i * 31 + k);
}

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') usage();
    const char *addr = argv[1];
    long messages = 1000, size = 64;
    kcp_config *cfg = kcp_config_new();
    set(cfg, "mode", "fast3");
    set(cfg, "sndwnd", "256");
    set(cfg, "rcvwnd", "256");
    set(cfg, "max_message", "65536"); /* echo_server's limit: a longer send is refused */
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc) usage();
        const char *opt = argv[i], *val = argv[++i];
        if (strcmp(opt, "--messages") == 0) {
            messages = strtol(val, NULL, 10);
            if (messages <= 0) usage();
        } else if (strcmp(opt, "--size") == 0) {
            size = strtol(val, NULL, 10);
            if (size < 4 || size > 65536) usage();
        } else if (strcmp(opt, "--crypt") == 0) {
            set(cfg, "crypt", val);
        } else if (strcmp(opt, "--key") == 0) {
            set(cfg, "key", val);
        } else if (strcmp(opt, "--psk") == 0) {
            set(cfg, "psk", val);
        } else if (strcmp(opt, "--fec") == 0) {
            char data[16];
            const char *comma = strchr(val, ',');
            if (!comma || (size_t)(comma - val) >= sizeof data) usage();
            memcpy(data, val, (size_t)(comma - val));
            data[comma - val] = '\0';
            set(cfg, "datashard", data);
            set(cfg, "parityshard", comma + 1);
        } else {
            usage();
        }
    }

    kcp_session *s = NULL;
    int rc = kcp_dial(addr, cfg, &s);
    kcp_config_free(cfg);
    if (rc < 0) die("kcp_dial", rc);
    char local[64];
    uint32_t conv = 0;
    kcp_session_local_addr(s, local, sizeof local);
    kcp_session_conv(s, &conv);
    printf("dialed %s from %s (conv %u): %ld messages of %ld bytes\n", addr, local, conv, messages, size);

    uint8_t *msg = malloc((size_t)size), *echo = malloc((size_t)size);
    uint64_t *rtt = malloc((size_t)messages * sizeof *rtt);
    if (!msg || !echo || !rtt) die("out of memory", KCP_EIO);
    int ok = 1;
    for (long i = 0; i < messages && ok; i++) {
        fill(msg, (size_t)size, (uint32_t)i);
        uint64_t start = now_us();
        intptr_t n = kcp_session_send(s, msg, (size_t)size, TIMEOUT_MS);
        if (n < 0) die("kcp_session_send", (int)n);
        n = kcp_session_recv(s, echo, (size_t)size, TIMEOUT_MS);
        if (n < 0) die("kcp_session_recv", (int)n);
        rtt[i] = now_us() - start;
        if (n != size || memcmp(msg, echo, (size_t)size) != 0) {
            fprintf(stderr, "echo_client: echo %ld differs (%ld bytes back)\n", i, (long)n);
            ok = 0;
        }
    }

    if (ok) {
        uint64_t sum = 0;
        for (long i = 0; i < messages; i++) sum += rtt[i];
        qsort(rtt, (size_t)messages, sizeof *rtt, by_value);
        printf("%ld echoes ok; rtt avg %llu us, p50 %llu us, max %llu us\n", messages,
               (unsigned long long)(sum / (uint64_t)messages), (unsigned long long)rtt[messages / 2],
               (unsigned long long)rtt[messages - 1]);
    }

    /* A graceful close: wait until what we queued is acknowledged. */
    kcp_session_close(s);
    kcp_event ev;
    while ((rc = kcp_session_poll(s, TIMEOUT_MS, &ev)) == 1 && ev.type != KCP_EVENT_CLOSED) {
    }
    if (rc == 1) printf("closed\n");
    kcp_session_free(s);
    free(msg);
    free(echo);
    free(rtt);
    return ok ? 0 : 1;
}

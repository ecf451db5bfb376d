/*
 * file_transfer.c: sends one file over a KCP session.
 *
 *   file_transfer recv OUTFILE ADDR [key=value...]   listen on ADDR (port 0:
 *                          any), receive one file into OUTFILE, then exit
 *   file_transfer send FILE ADDR [key=value...]      dial the receiver at
 *                          ADDR, send FILE
 *
 * With no key=value the library's defaults apply (what a new user gets);
 * any kcp_config key may follow, e.g. mode=fast3 sndwnd=1024 rcvwnd=1024,
 * also written --key value: --crypt secure --psk <64 hex digits>.
 *
 * The protocol is three steps, one message each way at the ends:
 *   1. sender -> receiver: the file size, 8 bytes little-endian;
 *   2. sender -> receiver: the bytes, in messages of up to 32 KiB;
 *   3. receiver -> sender: the size it wrote, 8 bytes, once the file is on
 *      disk (so the sender knows it arrived, not just that it was sent).
 * Both sides print progress (percent and MB/s). Exit status 0 on success.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcp.h"

#define CHUNK 32768
#define TIMEOUT_MS 10000

static void die(const char *what, int rc) {
    fprintf(stderr, "file_transfer: %s: %s (%s)\n", what, kcp_strerror(rc), kcp_last_error());
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Prints a line each time another 10% is done. */
typedef struct {
    const char *verb;
    uint64_t total;
    int shown; /* tenths printed so far */
    double start;
} Progress;

static void progress(Progress *p, uint64_t done) {
    int tenths = p->total ? (int)(done * 10 / p->total) : 10;
    while (p->shown < tenths) {
        p->shown++;
        double secs = now_s() - p->start;
        double mb = (double)done / 1e6;
        printf("%s %3d%% (%.1f of %.1f MB) %.1f MB/s\n", p->verb, p->shown * 10, mb,
               (double)p->total / 1e6, secs > 0 ? mb / secs : 0.0);
        fflush(stdout);
    }
}

/* The defaults, then each "key=value" (or "--key value", as the other
 * examples take --crypt and --psk) of `opts` in order. */
static kcp_config *make_config(int nopts, char **opts) {
    kcp_config *cfg = kcp_config_new();
    for (int i = 0; i < nopts; i++) {
        if (strncmp(opts[i], "--", 2) == 0 && opts[i][2] != '\0') {
            if (i + 1 >= nopts) {
                fprintf(stderr, "file_transfer: %s needs a value\n", opts[i]);
                exit(2);
            }
            int rc = kcp_config_set(cfg, opts[i] + 2, opts[i + 1]);
            if (rc < 0) die(opts[i], rc);
            i++;
            continue;
        }
        char key[64];
        const char *eq = strchr(opts[i], '=');
        size_t klen = eq ? (size_t)(eq - opts[i]) : 0;
        if (!eq || klen == 0 || klen >= sizeof key) {
            fprintf(stderr, "file_transfer: %s is not key=value\n", opts[i]);
            exit(2);
        }
        memcpy(key, opts[i], klen);
        key[klen] = '\0';
        int rc = kcp_config_set(cfg, key, eq + 1);
        if (rc < 0) die(opts[i], rc);
    }
    return cfg;
}

static int receive(const char *path, const char *addr, int nopts, char **opts) {
    kcp_config *cfg = make_config(nopts, opts);
    kcp_listener *listener = NULL;
    int rc = kcp_listen(addr, cfg, &listener);
    kcp_config_free(cfg);
    if (rc < 0) die("kcp_listen", rc);
    char bound[64];
    kcp_listener_local_addr(listener, bound, sizeof bound);
    printf("listening on %s\n", bound);
    fflush(stdout);

    kcp_session *s = NULL;
    rc = kcp_listener_accept(listener, -1, &s);
    if (rc < 0) die("kcp_listener_accept", rc);
    static uint8_t buf[CHUNK];
    intptr_t n = kcp_session_recv(s, buf, sizeof buf, TIMEOUT_MS);
    if (n < 0) die("receiving the header", (int)n);
    if (n != 8) {
        fprintf(stderr, "file_transfer: bad header (%ld bytes)\n", (long)n);
        return 1;
    }
    uint64_t size = get_u64(buf), received = 0;
    FILE *out = fopen(path, "wb");
    if (!out) {
        perror(path);
        return 1;
    }
    Progress p = {"received", size, 0, now_s()};
    progress(&p, 0);
    while (received < size) {
        n = kcp_session_recv(s, buf, sizeof buf, TIMEOUT_MS);
        if (n < 0) die("kcp_session_recv", (int)n);
        if (n == 0 || (uint64_t)n > size - received) {
            fprintf(stderr, "file_transfer: %s at %llu of %llu bytes\n",
                    n == 0 ? "the sender went away" : "more data than announced",
                    (unsigned long long)received, (unsigned long long)size);
            fclose(out);
            return 1;
        }
        if (fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
            perror(path);
            return 1;
        }
        received += (uint64_t)n;
        progress(&p, received);
    }
    if (fclose(out) != 0) {
        perror(path);
        return 1;
    }
    put_u64(buf, received);
    n = kcp_session_send(s, buf, 8, TIMEOUT_MS);
    if (n < 0) die("sending the confirmation", (int)n);

    /* Close gracefully and wait until the confirmation is acknowledged. */
    kcp_session_close(s);
    kcp_event ev;
    while ((rc = kcp_listener_poll(listener, TIMEOUT_MS, &ev)) == 1 &&
           !(ev.type == KCP_EVENT_CLOSED && ev.session == s)) {
    }
    kcp_session_free(s);
    kcp_listener_free(listener);
    printf("wrote %llu bytes to %s\n", (unsigned long long)received, path);
    return 0;
}

static int send_file(const char *path, const char *addr, int nopts, char **opts) {
    FILE *in = fopen(path, "rb");
    if (!in) {
        perror(path);
        return 1;
    }
    if (fseek(in, 0, SEEK_END) != 0) {
        perror(path);
        return 1;
    }
    long end = ftell(in);
    rewind(in);
    if (end < 0) {
        perror(path);
        return 1;
    }
    uint64_t size = (uint64_t)end, sent = 0;

    kcp_config *cfg = make_config(nopts, opts);
    kcp_session *s = NULL;
    int rc = kcp_dial(addr, cfg, &s);
    kcp_config_free(cfg);
    if (rc < 0) die("kcp_dial", rc);
    printf("sending %s (%llu bytes) to %s\n", path, (unsigned long long)size, addr);

    static uint8_t buf[CHUNK];
    put_u64(buf, size);
    intptr_t n = kcp_session_send(s, buf, 8, TIMEOUT_MS);
    if (n < 0) die("sending the header", (int)n);
    Progress p = {"sent", size, 0, now_s()};
    progress(&p, 0);
    while (sent < size) {
        size_t got = fread(buf, 1, sizeof buf, in);
        if (got == 0) {
            fprintf(stderr, "file_transfer: %s: read error or file shrank\n", path);
            return 1;
        }
        /* Blocks while the send window is full: KCP's flow control. */
        n = kcp_session_send(s, buf, got, TIMEOUT_MS);
        if (n < 0) die("kcp_session_send", (int)n);
        sent += got;
        progress(&p, sent);
    }
    fclose(in);

    n = kcp_session_recv(s, buf, sizeof buf, 3 * TIMEOUT_MS);
    if (n < 0) die("waiting for the confirmation", (int)n);
    if (n != 8 || get_u64(buf) != size) {
        fprintf(stderr, "file_transfer: the receiver did not confirm %llu bytes\n", (unsigned long long)size);
        return 1;
    }
    double secs = now_s() - p.start;
    printf("done: %llu bytes confirmed in %.2f s (%.1f MB/s)\n", (unsigned long long)size, secs,
           secs > 0 ? (double)size / 1e6 / secs : 0.0);
    kcp_session_close(s);
    kcp_event ev;
    while (kcp_session_poll(s, TIMEOUT_MS, &ev) == 1 && ev.type != KCP_EVENT_CLOSED) {
    }
    kcp_session_free(s);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "recv") == 0)
        return receive(argv[2], argv[3], argc - 4, argv + 4);
    if (argc >= 4 && strcmp(argv[1], "send") == 0)
        return send_file(argv[2], argv[3], argc - 4, argv + 4);
    fprintf(stderr, "usage: file_transfer recv OUTFILE ADDR [key=value | --key value...]\n"
                    "       file_transfer send FILE ADDR [key=value | --key value...]\n");
    return 2;
}

/*
 * kcpcat: netcat over KCP, on the C API.
 *
 *   kcpcat [options] HOST:PORT   dial HOST:PORT
 *   kcpcat [options] -l ADDR     listen on ADDR (port 0: any; the address is
 *                                printed as "listening on IP:PORT" on stderr)
 *                                and take the first session
 *
 * What is read from standard input (or the file of --send) goes to the
 * peer; what the peer sends goes to standard output (or the file of -o).
 *
 *   -c KEY=VALUE     any kcp_config key, repeatable: -c crypt=aes -c key=pass
 *   --kcptun         kcptun's KCP settings first: crypt aes, key "it's a
 *                    secrect", mode fast, FEC 10/3, MTU 1350, windows 128/512
 *                    dialing and 1024/1024 listening; -c overrides them.
 *                    (kcptun runs smux and snappy above KCP, which kcpcat
 *                    does not: this talks to kcp-go programs with kcptun's
 *                    settings, not to the kcptun binaries' tunnels.)
 *   -s, --send FILE  send FILE, with a progress bar on stderr; once the peer
 *                    acknowledged all of it the session closes and kcpcat exits
 *   -o FILE          write what arrives to FILE
 *   -q SECS          once the input ended and the peer acknowledged it, quit
 *                    after SECS seconds with nothing arriving (0: at once).
 *                    Without -q kcpcat runs until the session ends: the
 *                    peer's close (secure profile), a dead link, the
 *                    idle_timeout, or Ctrl-C
 *   --stats          each second on stderr: RTT, RTO, window, bytes,
 *                    retransmissions, FEC recoveries
 *
 * Exit status: 0 when the session ended as described, 1 on an error, 2 on a
 * usage error.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fileno */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kcp.h"

#define CHUNK 16384         /* bytes per send: 13 fragments, fits any window */
#define SLICE_MS 100        /* how often the receive loop looks around */
#define UNACKED_SLICE_MS 5  /* ... while what we sent is not all acknowledged */
#define CLOSE_WAIT_MS 15000 /* longest wait for a close to finish lingering */

static const char *usage_text =
    "usage: kcpcat [-c KEY=VALUE]... [--kcptun] [-s FILE] [-o FILE] [-q SECS] [--stats] HOST:PORT\n"
    "       kcpcat -l [options] ADDR\n";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "kcpcat: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage_text);
    exit(2);
}

static void die(const char *what, int rc) {
    fprintf(stderr, "kcpcat: %s: %s (%s)\n", what, kcp_strerror(rc), kcp_last_error());
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A byte count for people: "812 B", "12.3 MB". */
static void human(char *out, size_t cap, double bytes) {
    const char *units[] = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (bytes >= 1000 && u < 4) {
        bytes /= 1000;
        u++;
    }
    snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

typedef struct {
    int listen;
    const char *addr;
    const char *send_path;
    const char *out_path;
    double quit_after; /* < 0: wait for the session to end */
    int stats;
    int kcptun;
    int argc; /* the -c KEY=VALUE pairs are applied from argv, in order */
    char **argv;
} Options;

static Options parse(int argc, char **argv) {
    Options o = {.quit_after = -1, .argc = argc, .argv = argv};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            exit(0);
        } else if (strcmp(a, "-l") == 0) {
            o.listen = 1;
        } else if (strcmp(a, "--stats") == 0) {
            o.stats = 1;
        } else if (strcmp(a, "--kcptun") == 0) {
            o.kcptun = 1;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "-s") == 0 || strcmp(a, "--send") == 0 ||
                   strcmp(a, "-o") == 0 || strcmp(a, "-q") == 0) {
            if (!has_value) usage_error("%s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "-c") == 0) {
                if (!strchr(v, '=')) usage_error("-c takes KEY=VALUE, got \"%s\"", v);
            } else if (strcmp(a, "-o") == 0) {
                o.out_path = v;
            } else if (strcmp(a, "-q") == 0) {
                char *end;
                o.quit_after = strtod(v, &end);
                if (*end || o.quit_after < 0) usage_error("-q takes seconds >= 0, got \"%s\"", v);
            } else {
                o.send_path = v;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            usage_error("unknown option %s", a);
        } else if (!o.addr) {
            o.addr = a;
        } else {
            usage_error("one address only; extra argument \"%s\"", a);
        }
    }
    if (!o.addr) usage_error("%s", o.listen ? "-l needs an address to listen on" : "no address to dial");
    return o;
}

/* kcptun's KCP-layer defaults (its client's windows, or its server's). */
static void apply_kcptun(kcp_config *c, int listening) {
    const char *kv[][2] = {
        {"crypt", "aes"},      {"key", "it's a secrect"}, {"mode", "fast"},
        {"datashard", "10"},   {"parityshard", "3"},      {"mtu", "1350"},
        {"sndwnd", listening ? "1024" : "128"}, {"rcvwnd", listening ? "1024" : "512"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        int rc = kcp_config_set(c, kv[i][0], kv[i][1]);
        if (rc < 0) die("--kcptun", rc);
    }
}

/* The handles, global so that every exit path leaves them reachable (the
 * operating system reclaims them; leak checkers see no loss). */
static kcp_config *cfg;
static kcp_listener *listener;
static kcp_session *session;

static void make_config(const Options *o) {
    cfg = kcp_config_new();
    if (o->kcptun) apply_kcptun(cfg, o->listen);
    for (int i = 1; i + 1 < o->argc; i++) {
        if (strcmp(o->argv[i], "-c") != 0) continue;
        const char *kv = o->argv[++i];
        char key[64];
        size_t klen = (size_t)(strchr(kv, '=') - kv);
        if (klen >= sizeof key) usage_error("-c %s: the key is too long", kv);
        memcpy(key, kv, klen);
        key[klen] = '\0';
        if (kcp_config_set(cfg, key, kv + klen + 1) < 0) {
            fprintf(stderr, "kcpcat: -c %s: %s\n", kv, kcp_last_error());
            exit(2);
        }
    }
}

/* What the sending thread shares with the main one. */
typedef struct {
    kcp_session *session;
    FILE *in;
    uint64_t total;        /* the file's size with --send, else 0 */
    int progress;          /* draw the progress bar (--send) */
    atomic_int done;       /* the input ended (or failed) */
    atomic_int failed;     /* the input or a send failed */
    atomic_int eof_ms;     /* when the input ended, ms since start */
    double start;
} Sender;

/* The progress bar: redrawn in place on a terminal, a line per 10%
 * otherwise (a log file stays readable). */
static void draw_progress(Sender *s, uint64_t sent, int *tenths) {
    if (!s->total) return;
    int pct = (int)(sent * 100 / s->total);
    double secs = now_s() - s->start;
    double rate = secs > 0 ? (double)sent / secs / 1e6 : 0;
    if (isatty(fileno(stderr))) {
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %3d%% %.1f MB/s", bar, pct, rate);
        if (sent == s->total) fputc('\n', stderr);
    } else if (pct / 10 > *tenths || sent == s->total) {
        *tenths = pct / 10;
        fprintf(stderr, "sent %d%% (%llu bytes, %.1f MB/s)\n", pct, (unsigned long long)sent, rate);
    }
}

static void *send_input(void *arg) {
    Sender *s = arg;
    static uint8_t buf[CHUNK];
    int tenths = -1;
    uint64_t sent = 0; /* bytes queued */
    draw_progress(s, 0, &tenths);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, s->in)) > 0) {
        intptr_t rc = kcp_session_send(s->session, buf, n, -1);
        if (rc < 0) {
            if (rc != KCP_ECLOSED) fprintf(stderr, "kcpcat: send: %s (%s)\n", kcp_strerror((int)rc), kcp_last_error());
            atomic_store(&s->failed, rc != KCP_ECLOSED);
            break;
        }
        sent += n;
        if (s->progress) draw_progress(s, sent, &tenths);
    }
    if (ferror(s->in)) {
        fprintf(stderr, "kcpcat: reading the input: %s\n", strerror(errno));
        atomic_store(&s->failed, 1);
    }
    atomic_store(&s->eof_ms, (int)((now_s() - s->start) * 1000));
    atomic_store(&s->done, 1);
    return NULL;
}

static void print_stats(kcp_session *s, double start) {
    struct kcp_session_stats st;
    if (kcp_session_get_stats(s, &st, sizeof st) < 0) return;
    char out[32], in[32];
    human(out, sizeof out, (double)st.bytes_sent);
    human(in, sizeof in, (double)st.bytes_received);
    fprintf(stderr,
            "%s[%.0fs] rtt %llu ms (var %llu, rto %llu) cwnd %llu unacked %llu | sent %s, retrans %llu (fast %llu, "
            "early %llu, timeout %llu) | received %s | fec recovered %llu, parity sent %llu\n",
            isatty(fileno(stderr)) ? "\r" : "", now_s() - start, (unsigned long long)st.srtt_ms,
            (unsigned long long)st.rttvar_ms, (unsigned long long)st.rto_ms, (unsigned long long)st.cwnd,
            (unsigned long long)st.wait_snd, out, (unsigned long long)st.retransmits,
            (unsigned long long)st.fast_retransmits, (unsigned long long)st.early_retransmits,
            (unsigned long long)st.lost_segments, in, (unsigned long long)st.fec_recovered,
            (unsigned long long)st.fec_parity_shards);
}

/* Segments queued or in flight, not yet acknowledged; -1 once the
 * session has ended. */
static int64_t unacked(kcp_session *s) {
    struct kcp_session_stats st;
    return kcp_session_get_stats(s, &st, sizeof st) > 0 ? (int64_t)st.wait_snd : -1;
}

/* Waits until the session's CLOSED event (its linger is over); frees any
 * other session the listener handed out meanwhile. */
static void await_closed(kcp_session *s, kcp_listener *l) {
    double deadline = now_s() + CLOSE_WAIT_MS / 1000.0;
    kcp_event ev;
    while (now_s() < deadline) {
        int rc = l ? kcp_listener_poll(l, SLICE_MS, &ev) : kcp_session_poll(s, SLICE_MS, &ev);
        if (rc < 0) die("poll", rc);
        if (rc == 0) continue;
        if (ev.type == KCP_EVENT_ACCEPTED && ev.session != s) kcp_session_free(ev.session);
        if (ev.type == KCP_EVENT_CLOSED && ev.session == s) return;
    }
    fprintf(stderr, "kcpcat: the close did not finish within %d ms\n", CLOSE_WAIT_MS);
}

int main(int argc, char **argv) {
    Options o = parse(argc, argv);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is a write error, handled below */
    make_config(&o);

    FILE *in = stdin;
    uint64_t total = 0;
    if (o.send_path) {
        in = fopen(o.send_path, "rb");
        struct stat sb;
        if (!in || fstat(fileno(in), &sb) != 0) {
            fprintf(stderr, "kcpcat: %s: %s\n", o.send_path, strerror(errno));
            return 1;
        }
        total = (uint64_t)sb.st_size;
    }
    FILE *out = stdout;
    if (o.out_path && !(out = fopen(o.out_path, "wb"))) {
        fprintf(stderr, "kcpcat: %s: %s\n", o.out_path, strerror(errno));
        return 1;
    }

    int rc;
    if (o.listen) {
        if ((rc = kcp_listen(o.addr, cfg, &listener)) < 0) die("listen", rc);
        char addr[64];
        kcp_listener_local_addr(listener, addr, sizeof addr);
        fprintf(stderr, "listening on %s\n", addr);
        if ((rc = kcp_listener_accept(listener, -1, &session)) < 0) die("accept", rc);
        char peer[64];
        kcp_session_remote_addr(session, peer, sizeof peer);
        fprintf(stderr, "connection from %s\n", peer);
    } else if ((rc = kcp_dial(o.addr, cfg, &session)) < 0) {
        die("dial", rc);
    }

    double start = now_s();
    static Sender sender;
    sender.session = session;
    sender.in = in;
    sender.total = total;
    sender.progress = o.send_path != NULL;
    sender.start = start;
    pthread_t thread;
    if (pthread_create(&thread, NULL, send_input, &sender) != 0) {
        fprintf(stderr, "kcpcat: cannot start the sending thread\n");
        return 1;
    }

    /* A message is at most max_message bytes (stream mode: any buffer). */
    intptr_t max = kcp_session_max_message(session);
    static uint8_t *buf;
    size_t cap = max > 0 ? (size_t)max : 65536;
    if (!(buf = malloc(cap))) return 1;
    double last_rx = start, next_stats = start + 1;
    int status = 0, peer_ended = 0, input_delivered = 0;
    for (;;) {
        /* Delivery shows in the stats, not as an event: while data is
         * unacknowledged look often, so that the exit after the input ends
         * follows its last ACK closely (a 100 ms wait started just before
         * the input ended made a transfer's time a multiple of 100 ms). */
        int slice = unacked(session) > 0 ? UNACKED_SLICE_MS : SLICE_MS;
        intptr_t n = kcp_session_recv(session, buf, cap, slice);
        if (n > 0) {
            if (fwrite(buf, 1, (size_t)n, out) != (size_t)n || fflush(out) != 0) {
                if (errno != EPIPE) {
                    fprintf(stderr, "kcpcat: writing the output: %s\n", strerror(errno));
                    status = 1;
                }
                break;
            }
            last_rx = now_s();
        } else if (n == 0) {
            peer_ended = 1; /* the peer closed, or the link is gone */
            break;
        } else if (n == KCP_ENOBUFS) {
            intptr_t need = kcp_session_peek_size(session);
            uint8_t *bigger = need > 0 ? realloc(buf, (size_t)need) : NULL;
            if (!bigger) die("recv", (int)n);
            buf = bigger;
            cap = (size_t)need;
            continue;
        } else if (n != KCP_ETIMEDOUT) {
            die("recv", (int)n);
        }
        double now = now_s();
        if (o.stats && now >= next_stats) {
            print_stats(session, start);
            next_stats += 1;
        }
        if (atomic_load(&sender.failed)) {
            status = 1;
            break;
        }
        if (!atomic_load(&sender.done)) continue;
        if (!input_delivered && !(input_delivered = unacked(session) == 0)) continue;
        if (o.send_path) break;
        double eof = start + atomic_load(&sender.eof_ms) / 1000.0;
        double quiet_since = last_rx > eof ? last_rx : eof;
        if (o.quit_after >= 0 && now - quiet_since >= o.quit_after) break;
    }

    if (o.stats) print_stats(session, start);
    if (!peer_ended && kcp_session_close(session) == KCP_OK) await_closed(session, listener);
    if (o.send_path) {
        char size[32];
        human(size, sizeof size, (double)total);
        fprintf(stderr, "%s %s (%llu bytes)%s\n", input_delivered ? "delivered" : "NOT delivered", size,
                (unsigned long long)total, peer_ended && !input_delivered ? ": the peer ended the session" : "");
        if (!input_delivered) status = 1;
    }
    if (!atomic_load(&sender.done)) {
        /* The peer ended the session while the input is still open (a
         * terminal): the sending thread may sit in a read that nothing can
         * interrupt, so leave it and the handles to the exit. A send it
         * blocks in was woken by the close with KCP_ECLOSED. */
        fflush(out);
        exit(status);
    }
    pthread_join(thread, NULL);
    if (o.send_path) fclose(in);
    free(buf);
    if (out != stdout) fclose(out);
    kcp_session_free(session);
    kcp_listener_free(listener);
    kcp_config_free(cfg);
    return status;
}

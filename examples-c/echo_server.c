/*
 * echo_server.c: a KCP echo server driven by an event loop, the way a game
 * server would run it: one thread, kcp_listener_poll as the main loop.
 *
 *   ACCEPTED  -> a new session: attach our per-client state (userdata)
 *   READABLE  -> receive every waiting message and echo it back
 *   WRITABLE  -> the send queue has room again: finish echoing
 *   CLOSED    -> the client is gone: free the session and its state
 *
 * Usage: echo_server ADDR [--sessions N] [--idle SECONDS]
 *                         [--crypt NAME --key KEY | --crypt secure --psk PSK] [--fec DATA,PARITY]
 *   ADDR        where to listen, e.g. 0.0.0.0:4000 (port 0: any free port)
 *   --sessions  exit after N sessions have closed (default: serve forever)
 *   --idle      drop a client silent for this long (default 5 s). The
 *               kcp-go format has no close message: this is how the server
 *               notices that a client has gone.
 *   --crypt/--key/--psk/--fec  packet protection (--psk for crypt=secure)
 *                  and forward error correction;
 *               the clients must use the same (kcp-go/kcptun compatible).
 *
 * Prints "listening on IP:PORT" first, one line per session, and a summary.
 * Ctrl-C stops it cleanly.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcp.h"

#define MAX_MESSAGE 65536
#define MAX_MESSAGE_TEXT "65536"

/* What the server keeps per client; attached to its session as userdata. */
typedef struct Client {
    int id;
    char addr[64];
    unsigned long messages;
    /* A message received but not yet echoed because the send queue was
       full: it goes out first when WRITABLE arrives. */
    size_t pending_len;
    uint8_t pending[MAX_MESSAGE];
    kcp_session *session;
    struct Client *prev, *next; /* every open client, to free them at exit */
} Client;

static Client *clients;
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static const char *reason_name(int reason) {
    switch (reason) {
    case KCP_CLOSE_LOCAL: return "closed by the server";
    case KCP_CLOSE_DEAD_LINK: return "dead link";
    case KCP_CLOSE_IDLE_TIMEOUT: return "idle timeout";
    case KCP_CLOSE_LISTENER_CLOSED: return "listener closed";
    case KCP_CLOSE_REPLACED: return "replaced by a new session from the same address";
    case KCP_CLOSE_PANIC: return "internal error (a bug in kcp-rs)";
    case KCP_CLOSE_SHUTDOWN: return "runtime shut down";
    default: return "?";
    }
}

static void die(const char *what, int rc) {
    fprintf(stderr, "echo_server: %s: %s (%s)\n", what, kcp_strerror(rc), kcp_last_error());
    exit(1);
}

static void set(kcp_config *cfg, const char *key, const char *value) {
    int rc = kcp_config_set(cfg, key, value);
    if (rc < 0) die(key, rc);
}

static void usage(void) {
    fprintf(stderr, "usage: echo_server ADDR [--sessions N] [--idle SECONDS] "
                    "[--crypt NAME --key KEY | --crypt secure --psk PSK] [--fec DATA,PARITY]\n");
    exit(2);
}

/* Sends `len` bytes without blocking the loop. Returns 1 if sent, 0 if the
   send queue is full (the message is kept in c->pending). */
static int echo(Client *c, const uint8_t *msg, size_t len) {
    intptr_t rc = kcp_session_send(c->session, msg, len, 0);
    if (rc == KCP_EAGAIN) {
        if (msg != c->pending) memcpy(c->pending, msg, len);
        c->pending_len = len;
        return 0;
    }
    if (rc < 0) {
        /* Closed under us (e.g. a dead link): its CLOSED event follows. */
        c->pending_len = 0;
        return 0;
    }
    c->pending_len = 0;
    c->messages++;
    return 1;
}

/* READABLE or WRITABLE: echo what is pending, then everything waiting. */
static void serve(Client *c) {
    static uint8_t buf[MAX_MESSAGE];
    if (c->pending_len && !echo(c, c->pending, c->pending_len)) return;
    for (;;) {
        intptr_t n = kcp_session_recv(c->session, buf, sizeof buf, 0);
        if (n == KCP_ENOBUFS) {
            /* Only a peer ignoring the shared max_message gets here.
             * READABLE is level-triggered: a message left waiting would be
             * announced again at once, so close that session. */
            fprintf(stderr, "echo_server: a message over %d bytes (%zd): closing that session\n",
                    MAX_MESSAGE, kcp_session_peek_size(c->session));
            kcp_session_close(c->session);
            return;
        }
        if (n <= 0) return; /* KCP_EAGAIN: drained; 0 or an error: closing */
        if (!echo(c, buf, (size_t)n)) return; /* wait for WRITABLE */
    }
}

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') usage();
    const char *addr = argv[1];
    long sessions = 0; /* 0: forever */
    kcp_config *cfg = kcp_config_new();
    set(cfg, "mode", "fast3"); /* nodelay 1, interval 10 ms, fast resend 2, no congestion window */
    set(cfg, "sndwnd", "256");
    set(cfg, "rcvwnd", "256");
    set(cfg, "idle_timeout", "5");
    /* Messages up to this server's buffers: sends over it are refused, and
       clients learn the limit from kcp_session_max_message with the same
       setting (echo_client sets it too). */
    set(cfg, "max_message", MAX_MESSAGE_TEXT);
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc) usage();
        const char *opt = argv[i], *val = argv[++i];
        if (strcmp(opt, "--sessions") == 0) {
            sessions = strtol(val, NULL, 10);
            if (sessions <= 0) usage();
        } else if (strcmp(opt, "--idle") == 0) {
            set(cfg, "idle_timeout", val);
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

    kcp_listener *listener = NULL;
    int rc = kcp_listen(addr, cfg, &listener);
    kcp_config_free(cfg); /* the listener copied the settings */
    if (rc < 0) die("kcp_listen", rc);
    char bound[64];
    kcp_listener_local_addr(listener, bound, sizeof bound);
    printf("listening on %s\n", bound);
    fflush(stdout); /* scripts wait for this line */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    int next_id = 1;
    long closed = 0;
    unsigned long total = 0;
    while (!stop && (sessions == 0 || closed < sessions)) {
        kcp_event ev;
        /* Wait up to 100 ms: a game would run its tick between polls. */
        rc = kcp_listener_poll(listener, 100, &ev);
        if (rc < 0) die("kcp_listener_poll", rc);
        if (rc == 0) continue;
        Client *c = ev.userdata;
        switch (ev.type) {
        case KCP_EVENT_ACCEPTED:
            c = calloc(1, sizeof *c);
            if (!c) die("out of memory", KCP_EIO);
            c->id = next_id++;
            c->session = ev.session; /* ours now: freed on CLOSED */
            kcp_session_remote_addr(c->session, c->addr, sizeof c->addr);
            uint32_t conv = 0;
            kcp_session_conv(c->session, &conv);
            kcp_session_set_userdata(c->session, c);
            c->next = clients;
            if (clients) clients->prev = c;
            clients = c;
            printf("session %d: accepted from %s (conv %u)\n", c->id, c->addr, conv);
            fflush(stdout);
            break;
        case KCP_EVENT_READABLE:
        case KCP_EVENT_WRITABLE:
            serve(c);
            break;
        case KCP_EVENT_CLOSED:
            printf("session %d: %s after %lu messages (%s)\n", c->id, c->addr, c->messages,
                   reason_name(ev.reason));
            fflush(stdout);
            total += c->messages;
            closed++;
            if (c->prev) c->prev->next = c->next;
            else clients = c->next;
            if (c->next) c->next->prev = c->prev;
            kcp_session_free(ev.session);
            free(c);
            break;
        }
    }

    /* Shut down: close the listener (and with it every session), free all. */
    kcp_listener_free(listener);
    while (clients) {
        Client *c = clients;
        clients = c->next;
        total += c->messages;
        kcp_session_free(c->session);
        free(c);
    }
    printf("served %ld sessions, %lu messages echoed\n", closed, total);
    return 0;
}

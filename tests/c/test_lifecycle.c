/* Lifecycle tests of the managed sessions from C (issue 9), over real UDP
 * on 127.0.0.1: calls blocked in another thread are woken by
 * kcp_listener_close, kcp_session_close and kcp_session_abort; READABLE
 * comes again after KCP_ENOBUFS; max_message refuses longer sends and
 * tells a receiver its buffer size; one thread accepting while another
 * polls loses no event; and, last (it ends the runtime for good),
 * kcp_runtime_shutdown wakes everything, raises KCP_CLOSE_SHUTDOWN and
 * joins the I/O threads. Everything is freed: clean under ASan and
 * valgrind. Ends with "N passed, M failed". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"
#include "kcp.h"

#define WAIT 10000 /* ms: generous for anything that is immediate on loopback */

static kcp_config *make_config(void) {
    kcp_config *c = kcp_config_new();
    kcp_config_set(c, "mode", "fast3");
    kcp_config_set(c, "sessions_per_addr", "100");
    return c;
}

/* A listener on an ephemeral port and a session dialed to it. */
static void listen_and_dial(kcp_config *cfg, kcp_listener **l, kcp_session **client) {
    char addr[64];
    kcp_listen("127.0.0.1:0", cfg, l);
    kcp_listener_local_addr(*l, addr, sizeof addr);
    kcp_dial(addr, cfg, client);
}

/* A UDP port that never answers: what is sent there lingers unacknowledged. */
struct silent_port {
    int fd;
    char addr[64];
};

static struct silent_port silent_port(void) {
    struct silent_port p = {.fd = socket(AF_INET, SOCK_DGRAM, 0)};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(p.fd, (struct sockaddr *)&a, sizeof a);
    getsockname(p.fd, (struct sockaddr *)&a, &len);
    snprintf(p.addr, sizeof p.addr, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    return p;
}

/* ----- calls blocked in another thread ----------------------------------- */

struct blocked_call {
    kcp_session *session;
    kcp_listener *listener;
    intptr_t result;
};

static void *recv_forever(void *arg) {
    struct blocked_call *c = arg;
    uint8_t buf[64];
    c->result = kcp_session_recv(c->session, buf, sizeof buf, -1);
    return NULL;
}

static void *poll_forever(void *arg) {
    struct blocked_call *c = arg;
    kcp_event ev;
    int r;
    /* Events of the closing sessions come first; then KCP_ECLOSED. */
    while ((r = kcp_listener_poll(c->listener, -1, &ev)) == 1) {
    }
    c->result = r;
    return NULL;
}

static void wake_ups(void) {
    kcp_config *cfg = make_config();
    struct silent_port silent = silent_port();

    /* kcp_session_close wakes a reader at once, though data lingers. */
    kcp_session *s = NULL;
    kcp_dial(silent.addr, cfg, &s);
    kcp_session_send(s, (const uint8_t *)"never acknowledged", 18, WAIT);
    struct blocked_call reader = {.session = s};
    pthread_t t;
    pthread_create(&t, NULL, recv_forever, &reader);
    check(kcp_session_close(s) == KCP_OK, "close a session with data lingering");
    pthread_join(t, NULL);
    check(reader.result == KCP_ECLOSED, "the blocked recv returned KCP_ECLOSED (%ld)",
          (long)reader.result);
    kcp_session_free(s);

    /* kcp_session_abort: the same, without lingering, and a CLOSED event. */
    kcp_dial(silent.addr, cfg, &s);
    kcp_session_send(s, (const uint8_t *)"never acknowledged", 18, WAIT);
    reader = (struct blocked_call){.session = s};
    pthread_create(&t, NULL, recv_forever, &reader);
    check(kcp_session_abort(s) == KCP_OK, "abort a session with data lingering");
    pthread_join(t, NULL);
    check(reader.result == KCP_ECLOSED, "the blocked recv returned KCP_ECLOSED");
    kcp_event ev = {.type = -7};
    check(kcp_session_poll(s, WAIT, &ev) == 1 && ev.type == KCP_EVENT_CLOSED &&
              ev.reason == KCP_CLOSE_LOCAL && ev.session == s,
          "KCP_EVENT_CLOSED, reason KCP_CLOSE_LOCAL, after abort");
    check(kcp_session_abort(s) == KCP_ECLOSED, "abort again -> KCP_ECLOSED");
    check(kcp_session_abort(NULL) == KCP_EINVAL, "abort(NULL) -> KCP_EINVAL");
    kcp_session_free(s);

    /* kcp_listener_close wakes a poller blocked forever. */
    kcp_listener *l = NULL;
    kcp_listen("127.0.0.1:0", cfg, &l);
    struct blocked_call poller = {.listener = l};
    pthread_create(&t, NULL, poll_forever, &poller);
    check(kcp_listener_close(l) == KCP_OK, "close the listener");
    pthread_join(t, NULL);
    check(poller.result == KCP_ECLOSED, "the blocked poll returned KCP_ECLOSED");
    kcp_listener_free(l);

    close(silent.fd);
    kcp_config_free(cfg);
}

/* ----- message sizes ------------------------------------------------------ */

static void readable_after_enobufs_and_max_message(void) {
    kcp_config *cfg = make_config();
    kcp_config_set(cfg, "max_message", "4000");
    kcp_listener *l = NULL;
    kcp_session *client = NULL, *server = NULL;
    listen_and_dial(cfg, &l, &client);

    static uint8_t msg[4001];
    memset(msg, 'm', sizeof msg);
    check(kcp_session_send(client, msg, 4001, 0) == KCP_EMSGSIZE,
          "a message over max_message -> KCP_EMSGSIZE");
    check(strstr(kcp_last_error(), "max_message") != NULL, "... and the last error says why");
    check(kcp_session_max_message(client) == 4000, "kcp_session_max_message = the setting");
    check(kcp_session_send(client, msg, 4000, WAIT) == 4000, "a message of max_message goes");

    kcp_event ev;
    int r;
    while ((r = kcp_listener_poll(l, WAIT, &ev)) == 1 && ev.type != KCP_EVENT_ACCEPTED) {
    }
    server = ev.session;
    while ((r = kcp_listener_poll(l, WAIT, &ev)) == 1 && ev.type != KCP_EVENT_READABLE) {
    }
    check(r == 1 && ev.session == server, "READABLE for the message");
    uint8_t small[100];
    check(kcp_session_recv(server, small, sizeof small, 0) == KCP_ENOBUFS,
          "recv into 100 bytes -> KCP_ENOBUFS");
    check(kcp_listener_poll(l, WAIT, &ev) == 1 && ev.type == KCP_EVENT_READABLE &&
              ev.session == server,
          "READABLE again: the message still waits");
    intptr_t need = kcp_session_max_message(server);
    check(need == 4000, "the receiver learns its buffer size (%ld)", (long)need);
    uint8_t *buf = malloc((size_t)need);
    check(kcp_session_recv(server, buf, (size_t)need, 0) == 4000, "recv with that buffer");
    free(buf);
    check(kcp_listener_poll(l, 0, &ev) == 0, "no stale READABLE afterwards");

    kcp_session_free(client);
    kcp_session_free(server);
    kcp_listener_free(l);
    kcp_config_free(cfg);
}

/* ----- accept and poll on two threads ------------------------------------ */

#define CLIENTS 32

struct split {
    kcp_listener *l;
    pthread_mutex_t lock;
    kcp_session *owned[CLIENTS]; /* by accept or by an ACCEPTED event */
    int n_owned;
    kcp_session *readable[CLIENTS]; /* as the READABLE events named them */
    int n_readable;
};

static void own(struct split *sp, kcp_session *s) {
    pthread_mutex_lock(&sp->lock);
    if (sp->n_owned < CLIENTS) sp->owned[sp->n_owned++] = s;
    pthread_mutex_unlock(&sp->lock);
}

static int owned_count(struct split *sp) {
    pthread_mutex_lock(&sp->lock);
    int n = sp->n_owned;
    pthread_mutex_unlock(&sp->lock);
    return n;
}

static void *acceptor(void *arg) {
    struct split *sp = arg;
    while (owned_count(sp) < CLIENTS) {
        kcp_session *s = NULL;
        if (kcp_listener_accept(sp->l, 10, &s) == KCP_OK) own(sp, s);
    }
    return NULL;
}

static void *poller(void *arg) {
    struct split *sp = arg;
    kcp_event ev;
    while (sp->n_readable < CLIENTS && kcp_listener_poll(sp->l, WAIT, &ev) == 1) {
        if (ev.type == KCP_EVENT_ACCEPTED) own(sp, ev.session);
        if (ev.type == KCP_EVENT_READABLE) sp->readable[sp->n_readable++] = ev.session;
    }
    return NULL;
}

static void accept_and_poll_on_two_threads(void) {
    kcp_config *cfg = make_config();
    struct split sp = {.lock = PTHREAD_MUTEX_INITIALIZER};
    kcp_listener *dialer = NULL;
    char addr[64];
    kcp_listen("127.0.0.1:0", cfg, &sp.l);
    kcp_listen("127.0.0.1:0", cfg, &dialer);
    kcp_listener_local_addr(sp.l, addr, sizeof addr);
    kcp_session *clients[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) kcp_listener_connect(dialer, addr, &clients[i]);

    pthread_t a, p;
    pthread_create(&a, NULL, acceptor, &sp);
    pthread_create(&p, NULL, poller, &sp);
    for (int i = 0; i < CLIENTS; i++) kcp_session_send(clients[i], (const uint8_t *)"hi", 2, WAIT);
    pthread_join(p, NULL);
    pthread_join(a, NULL);
    check(sp.n_owned == CLIENTS, "every session was taken once (%d)", sp.n_owned);
    /* Each event named a handle someone took, each handle once. */
    int named = 0;
    for (int i = 0; i < sp.n_owned; i++) {
        int times = 0;
        for (int j = 0; j < sp.n_readable; j++) times += sp.readable[j] == sp.owned[i];
        named += times == 1;
    }
    check(sp.n_readable == CLIENTS && named == CLIENTS,
          "every session's READABLE reached the poller, naming its handle (%d events, %d named)",
          sp.n_readable, named);

    for (int i = 0; i < sp.n_owned; i++) kcp_session_free(sp.owned[i]);
    for (int i = 0; i < CLIENTS; i++) kcp_session_free(clients[i]);
    kcp_listener_free(dialer);
    kcp_listener_free(sp.l);
    pthread_mutex_destroy(&sp.lock);
    kcp_config_free(cfg);
}

/* ----- shutdown (last: the runtime cannot start again) -------------------- */

static void runtime_shutdown(void) {
    kcp_config *cfg = make_config();
    kcp_listener *l = NULL;
    kcp_session *client = NULL, *server = NULL;
    listen_and_dial(cfg, &l, &client);
    kcp_session_send(client, (const uint8_t *)"hello", 5, WAIT);
    kcp_listener_accept(l, WAIT, &server);
    uint8_t buf[16];
    kcp_session_recv(server, buf, sizeof buf, WAIT);

    struct blocked_call reader = {.session = server};
    pthread_t t;
    pthread_create(&t, NULL, recv_forever, &reader);
    check(kcp_runtime_shutdown() == KCP_OK, "kcp_runtime_shutdown");
    pthread_join(t, NULL);
    check(reader.result == KCP_ECLOSED, "a recv blocked across the shutdown -> KCP_ECLOSED");
    kcp_event ev;
    check(kcp_listener_poll(l, WAIT, &ev) == 1 && ev.type == KCP_EVENT_CLOSED &&
              ev.reason == KCP_CLOSE_SHUTDOWN && ev.session == server,
          "KCP_EVENT_CLOSED, reason KCP_CLOSE_SHUTDOWN");
    check(kcp_listener_poll(l, WAIT, &ev) == KCP_ECLOSED, "then the listener says closed");
    check(kcp_session_send(client, buf, 1, 0) == KCP_ECLOSED, "send after shutdown -> KCP_ECLOSED");
    kcp_listener *l2 = NULL;
    check(kcp_listen("127.0.0.1:0", cfg, &l2) == KCP_EIO && l2 == NULL,
          "kcp_listen after shutdown -> KCP_EIO");
    check(kcp_runtime_shutdown() == KCP_OK, "a second shutdown is harmless");
    kcp_session_free(client);
    kcp_session_free(server);
    kcp_listener_free(l);
    kcp_config_free(cfg);
}

int main(void) {
    wake_ups();
    readable_after_enobufs_and_max_message();
    accept_and_poll_on_two_threads();
    runtime_shutdown();
    return report();
}

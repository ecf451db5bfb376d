/* Tests of the managed sessions from C, over real UDP on 127.0.0.1:
 * kcp_listen / kcp_dial / accept / echo (aes + FEC), the event loop API
 * (ACCEPTED hands over a new handle, later events name the same handle
 * and carry its userdata, the event fd is readable while events wait),
 * listener close, P2P connect from listening ports, end of stream, a
 * thread blocked in recv, and NULL handles, bad timeouts, small buffers
 * and oversized messages. Everything is freed: clean under ASan and
 * valgrind. Ends with "N passed, M failed". */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kcp.h"

#define WAIT 10000 /* ms: generous for anything that is immediate on loopback */

static kcp_config *make_config(const char *idle_timeout) {
    kcp_config *c = kcp_config_new();
    const char *kv[][2] = {{"mode", "fast3"}, {"crypt", "aes"}, {"key", "test key"},
                           {"datashard", "10"}, {"parityshard", "3"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) kcp_config_set(c, kv[i][0], kv[i][1]);
    if (idle_timeout) kcp_config_set(c, "idle_timeout", idle_timeout);
    return c;
}

/* Whether `fd` becomes readable within `ms`. */
static int readable(int fd, int ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static int poll_listener(kcp_listener *l, int timeout_ms, kcp_event *ev) {
    ev->type = -7;
    return kcp_listener_poll(l, timeout_ms, ev);
}

static void null_handles_and_bad_arguments(void) {
    kcp_config *cfg = make_config(NULL);
    kcp_listener *l = (kcp_listener *)&cfg; /* sentinels: must stay untouched */
    kcp_session *s = (kcp_session *)&cfg;
    char addr[64] = "untouched";
    uint8_t buf[16] = {0};
    kcp_event ev = {.type = -7};
    struct kcp_session_stats cs;
    struct kcp_listener_stats es;
    uint32_t conv = 99;

    check(kcp_listen(NULL, cfg, &l) == KCP_EINVAL, "listen on a NULL address");
    check(kcp_listen("127.0.0.1:0", NULL, &l) == KCP_EINVAL, "listen with a NULL config");
    check(kcp_listen("127.0.0.1:0", cfg, NULL) == KCP_EINVAL, "listen into NULL");
    check(kcp_listen("no port", cfg, &l) == KCP_EINVAL, "listen on an address without a port");
    check(strstr(kcp_last_error(), "no port") != NULL, "... and the last error names it");
    check(l == (kcp_listener *)&cfg, "listen wrote nothing on failure");
    check(kcp_dial(NULL, cfg, &s) == KCP_EINVAL, "dial a NULL address");
    check(kcp_dial("127.0.0.1:9", NULL, &s) == KCP_EINVAL, "dial with a NULL config");
    check(kcp_dial("127.0.0.1", cfg, &s) == KCP_EINVAL, "dial an address without a port");
    check(s == (kcp_session *)&cfg, "dial wrote nothing on failure");

    check(kcp_listener_accept(NULL, 0, &s) == KCP_EINVAL, "accept on NULL");
    check(kcp_listener_connect(NULL, "127.0.0.1:9", &s) == KCP_EINVAL, "connect on NULL");
    check(kcp_listener_local_addr(NULL, addr, sizeof addr) == KCP_EINVAL, "listener_local_addr on NULL");
    check(kcp_listener_close(NULL) == KCP_EINVAL, "listener_close on NULL");
    check(kcp_listener_get_stats(NULL, &es, sizeof(struct kcp_listener_stats)) == KCP_EINVAL, "listener_stats on NULL");
    check(kcp_listener_poll(NULL, 0, &ev) == KCP_EINVAL, "listener_poll on NULL");
    check(kcp_listener_event_fd(NULL) == KCP_EINVAL, "listener_event_fd on NULL");
    kcp_listener_free(NULL);

    check(kcp_session_send(NULL, buf, 1, 0) == KCP_EINVAL, "send on NULL");
    check(kcp_session_recv(NULL, buf, sizeof buf, 0) == KCP_EINVAL, "recv on NULL");
    check(kcp_session_peek_size(NULL) == KCP_EINVAL, "peeksize on NULL");
    check(kcp_session_close(NULL) == KCP_EINVAL, "session_close on NULL");
    check(kcp_session_get_stats(NULL, &cs, sizeof(struct kcp_session_stats)) == KCP_EINVAL, "session_stats on NULL");
    check(kcp_session_remote_addr(NULL, addr, sizeof addr) == KCP_EINVAL, "remote_addr on NULL");
    check(kcp_session_local_addr(NULL, addr, sizeof addr) == KCP_EINVAL, "local_addr on NULL");
    check(kcp_session_conv(NULL, &conv) == KCP_EINVAL, "conv on NULL");
    check(kcp_session_poll(NULL, 0, &ev) == KCP_EINVAL, "session_poll on NULL");
    check(kcp_session_event_fd(NULL) == KCP_EINVAL, "session_event_fd on NULL");
    kcp_session_set_userdata(NULL, buf);
    check(kcp_session_userdata(NULL) == NULL, "userdata of NULL is NULL");
    kcp_session_free(NULL);
    check(strcmp(addr, "untouched") == 0 && conv == 99 && ev.type == -7, "no output written");
    kcp_config_free(cfg);
}

static void echo_and_small_buffers(kcp_config *cfg) {
    kcp_listener *l = NULL;
    check(kcp_listen("127.0.0.1:0", cfg, &l) == KCP_OK && l, "kcp_listen 127.0.0.1:0");
    char addr[64];
    int rc, n = kcp_listener_local_addr(l, addr, sizeof addr);
    check(n > 10 && (size_t)n == strlen(addr) && strncmp(addr, "127.0.0.1:", 10) == 0,
          "local_addr is \"%s\"", addr);
    char tiny[64];
    memset(tiny, 'x', sizeof tiny);
    check(kcp_listener_local_addr(l, tiny, (size_t)n) == KCP_ENOBUFS && tiny[0] == 'x',
          "local_addr into %d bytes -> KCP_ENOBUFS, nothing written", n);
    check(kcp_runtime_set_threads(2) == KCP_EINVAL, "set_threads after the start -> KCP_EINVAL");

    kcp_session *client = NULL, *server = NULL;
    check(kcp_dial(addr, cfg, &client) == KCP_OK && client, "kcp_dial %s", addr);
    uint8_t msg[4000], buf[8192];
    int sent_ok = 1;
    for (int i = 0; i < 20; i++) {
        memset(msg, i, sizeof msg);
        sent_ok &= kcp_session_send(client, msg, 200 + (size_t)i * 150, WAIT) == 200 + i * 150;
    }
    check(sent_ok, "20 messages sent");
    check(kcp_listener_accept(l, WAIT, &server) == KCP_OK && server, "accept");
    int echoed = 1;
    for (int i = 0; i < 20; i++) {
        intptr_t r = kcp_session_recv(server, buf, sizeof buf, WAIT);
        echoed &= r == 200 + i * 150 && buf[0] == i && buf[r - 1] == i;
        echoed &= r > 0 && kcp_session_send(server, buf, (size_t)r, WAIT) == r;
    }
    check(echoed, "the server got each message and echoed it");
    int back = 1;
    for (int i = 0; i < 20; i++) {
        intptr_t r = kcp_session_recv(client, buf, sizeof buf, WAIT);
        back &= r == 200 + i * 150 && buf[0] == i;
    }
    check(back, "the client got every echo, in order");
    check(kcp_session_recv(client, buf, sizeof buf, 0) == KCP_EAGAIN, "then recv(0) -> KCP_EAGAIN");
    check(kcp_session_recv(client, buf, sizeof buf, 20) == KCP_ETIMEDOUT, "recv(20 ms) -> KCP_ETIMEDOUT");
    check(kcp_session_recv(client, buf, sizeof buf, -2) == KCP_EINVAL, "timeout -2 -> KCP_EINVAL");
    check(kcp_session_send(client, buf, 0, 0) == KCP_EINVAL, "an empty send -> KCP_EINVAL");

    /* (Each call runs before the check that prints its result: C does not
       order the evaluation of a function's arguments.) */
    uint32_t cc = 0, sc = 1;
    rc = kcp_session_conv(client, &cc) | kcp_session_conv(server, &sc);
    check(rc == KCP_OK && cc == sc && cc != 0, "both ends share conv %u", cc);
    char local[64], remote[64];
    kcp_session_local_addr(client, local, sizeof local);
    kcp_session_remote_addr(server, remote, sizeof remote);
    check(strcmp(strrchr(local, ':'), strrchr(remote, ':')) == 0, "server sees the client's port (%s, %s)",
          local, remote);
    struct kcp_session_stats cs;
    rc = kcp_session_get_stats(client, &cs, sizeof cs);
    check(rc == (int)sizeof cs && cs.bytes_sent == cs.bytes_received && cs.bytes_sent > 0,
          "client stats: %llu bytes each way", (unsigned long long)cs.bytes_sent);
    check(kcp_session_get_stats(server, &cs, sizeof(struct kcp_session_stats)) > 0 && cs.fec_parity_shards > 0, "server sent parity shards");
    struct kcp_listener_stats es;
    check(kcp_listener_get_stats(l, &es, sizeof(struct kcp_listener_stats)) > 0 && es.accepted == 1 && es.crypt_errors == 0, "listener stats");

    /* More than the wire's 255 fragments; a buffer too small keeps the message. */
    size_t huge_len = 400000;
    uint8_t *huge = calloc(1, huge_len);
    check(huge && kcp_session_send(client, huge, huge_len, 0) == KCP_EMSGSIZE, "400 KB -> KCP_EMSGSIZE");
    free(huge);
    check(kcp_session_send(client, msg, sizeof msg, WAIT) == (intptr_t)sizeof msg, "send 4000 bytes");
    uint8_t small[100];
    memset(small, 0xaa, sizeof small);
    check(kcp_session_recv(server, small, sizeof small, WAIT) == KCP_ENOBUFS && small[0] == 0xaa,
          "recv into 100 bytes -> KCP_ENOBUFS, nothing written");
    check(kcp_session_peek_size(server) == (intptr_t)sizeof msg, "peeksize says 4000");
    check(kcp_session_recv(server, buf, sizeof buf, 0) == (intptr_t)sizeof msg, "a big buffer gets it");

    /* Close: use after close is KCP_ECLOSED. */
    check(kcp_session_close(client) == KCP_OK, "session_close");
    check(kcp_session_close(client) == KCP_ECLOSED, "second session_close -> KCP_ECLOSED");
    check(kcp_session_send(client, msg, 1, 0) == KCP_ECLOSED, "send after close -> KCP_ECLOSED");
    check(kcp_session_recv(client, buf, sizeof buf, -1) == KCP_ECLOSED, "recv after close -> KCP_ECLOSED");
    kcp_session_free(client);
    kcp_session_free(server);
    kcp_listener_free(l);
}

static void events(kcp_config *cfg) {
    kcp_listener *l = NULL;
    kcp_session *client = NULL;
    char addr[64];
    kcp_listen("127.0.0.1:0", cfg, &l);
    kcp_listener_local_addr(l, addr, sizeof addr);
    check(kcp_dial(addr, cfg, &client) == KCP_OK, "dial for the event tests");
    int fd = kcp_listener_event_fd(l);
    check(fd >= 0 && !readable(fd, 0), "event fd %d, not readable yet", fd);
    kcp_event ev;
    check(poll_listener(l, 0, &ev) == 0 && ev.type == -7, "poll(0) -> 0, event untouched");

    kcp_session_send(client, (const uint8_t *)"ping", 4, WAIT);
    check(readable(fd, WAIT), "the event fd becomes readable");
    check(poll_listener(l, WAIT, &ev) == 1 && ev.type == KCP_EVENT_ACCEPTED && ev.session && !ev.userdata,
          "KCP_EVENT_ACCEPTED with a new handle");
    kcp_session *server = ev.session;
    int player = 7;
    kcp_session_set_userdata(server, &player);
    check(kcp_session_userdata(server) == &player, "userdata set");
    check(poll_listener(l, WAIT, &ev) == 1 && ev.type == KCP_EVENT_READABLE && ev.session == server &&
              ev.userdata == &player,
          "KCP_EVENT_READABLE names the same handle, with its userdata");
    uint8_t buf[64];
    check(kcp_session_recv(server, buf, sizeof buf, 0) == 4 && memcmp(buf, "ping", 4) == 0, "recv ping");
    check(poll_listener(l, 0, &ev) == 0 && !readable(fd, 0), "drained: no event, fd not readable");

    /* A dialed session polls its own events; a listener's sessions cannot. */
    int cfd = kcp_session_event_fd(client);
    kcp_session_send(server, (const uint8_t *)"pong", 4, WAIT);
    check(cfd >= 0 && readable(cfd, WAIT), "the dialed session's event fd becomes readable");
    check(kcp_session_poll(client, WAIT, &ev) == 1 && ev.type == KCP_EVENT_READABLE && ev.session == client,
          "kcp_session_poll names the dialed handle");
    check(kcp_session_recv(client, buf, sizeof buf, 0) == 4, "recv pong");
    check(kcp_session_poll(server, 0, &ev) == KCP_EINVAL, "session_poll on an accepted session -> KCP_EINVAL");
    check(kcp_session_event_fd(server) == KCP_EINVAL, "session_event_fd on an accepted session -> KCP_EINVAL");

    /* Closing the listener closes its sessions; handles stay valid. */
    check(kcp_listener_close(l) == KCP_OK, "listener_close");
    check(kcp_listener_close(l) == KCP_ECLOSED, "second listener_close -> KCP_ECLOSED");
    check(poll_listener(l, WAIT, &ev) == 1 && ev.type == KCP_EVENT_CLOSED &&
              ev.reason == KCP_CLOSE_LISTENER_CLOSED && ev.session == server && ev.userdata == &player,
          "KCP_EVENT_CLOSED, reason KCP_CLOSE_LISTENER_CLOSED, same handle");
    check(kcp_session_send(server, buf, 1, 0) == KCP_ECLOSED, "send on it -> KCP_ECLOSED");
    kcp_session *none = NULL;
    check(kcp_listener_accept(l, 0, &none) == KCP_ECLOSED && !none, "accept after close -> KCP_ECLOSED");
    check(kcp_listener_connect(l, addr, &none) == KCP_ECLOSED && !none, "connect after close -> KCP_ECLOSED");
    char again[64];
    check(kcp_listener_local_addr(l, again, sizeof again) > 0 && strcmp(again, addr) == 0,
          "a closed listener still answers its address");
    kcp_session_free(server);
    kcp_session_free(client);
    kcp_listener_free(l);
}

static void p2p_connect(kcp_config *cfg) {
    kcp_listener *a = NULL, *b = NULL;
    kcp_listen("127.0.0.1:0", cfg, &a);
    kcp_listen("127.0.0.1:0", cfg, &b);
    char a_addr[64], b_addr[64], seen[64];
    kcp_listener_local_addr(a, a_addr, sizeof a_addr);
    kcp_listener_local_addr(b, b_addr, sizeof b_addr);
    kcp_session *a_to_b = NULL, *at_b = NULL;
    check(kcp_listener_connect(a, b_addr, &a_to_b) == KCP_OK, "a connects to b from its listening port");
    kcp_session_local_addr(a_to_b, seen, sizeof seen);
    check(strcmp(seen, a_addr) == 0, "the connected session's local address is a's (%s)", seen);
    kcp_session_send(a_to_b, (const uint8_t *)"hi b", 4, WAIT);
    check(kcp_listener_accept(b, WAIT, &at_b) == KCP_OK, "b accepts it");
    kcp_session_remote_addr(at_b, seen, sizeof seen);
    check(strcmp(seen, a_addr) == 0, "b sees it coming from a's listening port");
    uint8_t buf[16];
    check(kcp_session_recv(at_b, buf, sizeof buf, WAIT) == 4, "b receives");
    kcp_session_send(at_b, (const uint8_t *)"hi a", 4, WAIT);
    check(kcp_session_recv(a_to_b, buf, sizeof buf, WAIT) == 4 && memcmp(buf, "hi a", 4) == 0, "a gets the reply");
    /* Freeing the listeners first is fine: session handles stay valid. */
    kcp_listener_free(a);
    kcp_listener_free(b);
    check(kcp_session_send(a_to_b, buf, 1, 0) == KCP_ECLOSED, "after the listener is freed -> KCP_ECLOSED");
    kcp_session_free(a_to_b);
    kcp_session_free(at_b);
}

struct receiver {
    kcp_session *session;
    int got;
};

static void *receive_100(void *arg) {
    struct receiver *r = arg;
    uint8_t buf[64];
    while (r->got < 100 && kcp_session_recv(r->session, buf, sizeof buf, -1) == 4) r->got++;
    return NULL;
}

static void end_of_stream_and_threads(void) {
    kcp_config *server_cfg = make_config("1"); /* idle_timeout = 1 s */
    kcp_config *client_cfg = make_config(NULL);
    kcp_listener *l = NULL;
    kcp_session *client = NULL, *server = NULL;
    char addr[64];
    kcp_listen("127.0.0.1:0", server_cfg, &l);
    kcp_listener_local_addr(l, addr, sizeof addr);
    kcp_dial(addr, client_cfg, &client);
    kcp_config_free(server_cfg);
    kcp_config_free(client_cfg);

    /* One thread blocks in recv while this one sends. */
    kcp_session_send(client, (const uint8_t *)"0000", 4, WAIT);
    check(kcp_listener_accept(l, WAIT, &server) == KCP_OK, "accept");
    struct receiver r = {server, 0};
    pthread_t t;
    pthread_create(&t, NULL, receive_100, &r);
    for (int i = 1; i < 100; i++) kcp_session_send(client, (const uint8_t *)"abcd", 4, WAIT);
    pthread_join(t, NULL);
    check(r.got == 100, "a thread blocked in recv got all 100 messages");

    /* The kcp-go format has no close message: the client's end is seen as
       silence, and a blocked recv returns 0 (end of stream). */
    kcp_session_free(client);
    uint8_t buf[16];
    check(kcp_session_recv(server, buf, sizeof buf, -1) == 0, "recv -> 0 when the peer went silent");
    kcp_event ev;
    int closed = 0;
    while (!closed && poll_listener(l, WAIT, &ev) == 1) closed = ev.type == KCP_EVENT_CLOSED;
    check(closed && ev.reason == KCP_CLOSE_IDLE_TIMEOUT && ev.session == server,
          "KCP_EVENT_CLOSED, reason KCP_CLOSE_IDLE_TIMEOUT");
    check(kcp_session_send(server, buf, 1, 0) == KCP_ECLOSED, "send -> KCP_ECLOSED");
    check(kcp_session_close(server) == KCP_ECLOSED, "close -> KCP_ECLOSED");
    kcp_session_free(server);
    kcp_listener_free(l);
}

int main(void) {
    check(kcp_runtime_set_threads(0) == KCP_EINVAL, "set_threads(0) -> KCP_EINVAL");
    check(kcp_runtime_set_threads(65) == KCP_EINVAL, "set_threads(65) -> KCP_EINVAL");
    check(kcp_runtime_set_threads(2) == KCP_OK, "set_threads(2) before the first use");
    null_handles_and_bad_arguments();
    kcp_config *cfg = make_config(NULL);
    echo_and_small_buffers(cfg);
    events(cfg);
    p2p_connect(cfg);
    kcp_config_free(cfg);
    end_of_stream_and_threads();
    return report();
}

/* Tests of the secure profile (crypt=secure) from C, over real UDP on
 * 127.0.0.1: echo through kcp_dial and kcp_listener_connect, a wrong psk
 * (KCP_EAUTH at once, nothing on the listener), a config without a psk
 * (KCP_EINVAL naming it), the listener's handshake counters, and the
 * peer's authenticated close (end of stream, then KCP_CLOSE_PEER).
 * Everything is freed: clean under ASan and valgrind. Ends with
 * "N passed, M failed". */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "kcp.h"

#define WAIT 10000
#define PSK "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static kcp_config *secure_config(const char *psk) {
    kcp_config *c = kcp_config_new();
    kcp_config_set(c, "crypt", "secure");
    if (psk) kcp_config_set(c, "psk", psk);
    return c;
}

static double ms_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void echo_and_close(void) {
    kcp_config *cfg = secure_config(PSK);
    kcp_listener *l = NULL;
    kcp_session *client = NULL, *server = NULL;
    char addr[64];
    uint8_t buf[4096];
    check(kcp_listen("127.0.0.1:0", cfg, &l) == 0, "secure listen");
    check(kcp_listener_local_addr(l, addr, sizeof addr) > 0, "listener address");
    check(kcp_dial(addr, cfg, &client) == 0, "secure dial completes the handshake");
    check(kcp_listener_accept(l, WAIT, &server) == 0, "accepted after the handshake");
    int echoed = 1;
    for (int i = 0; i < 100; i++) {
        uint8_t msg[1000];
        size_t len = (size_t)(i * 37 % 1000 + 1);
        for (size_t b = 0; b < len; b++) msg[b] = (uint8_t)(b ^ (size_t)i);
        echoed &= kcp_session_send(client, msg, len, WAIT) == (intptr_t)len;
        echoed &= kcp_session_recv(server, buf, sizeof buf, WAIT) == (intptr_t)len;
        echoed &= memcmp(buf, msg, len) == 0;
        echoed &= kcp_session_send(server, buf, len, WAIT) == (intptr_t)len;
        echoed &= kcp_session_recv(client, buf, sizeof buf, WAIT) == (intptr_t)len;
        echoed &= memcmp(buf, msg, len) == 0;
    }
    check(echoed, "100 messages echoed intact");
    struct kcp_listener_stats st;
    /* `handshakes` counts responses: a dialer that resent its initiation
       (250 ms without an answer: valgrind is that slow) is answered twice,
       and still makes one session. */
    check(kcp_listener_get_stats(l, &st, sizeof(struct kcp_listener_stats)) > 0 && st.handshakes >= 1 && st.accepted == 1,
          "the listener answered the handshake and counted one session");

    /* Unreliable datagrams beside the stream, with their event. */
    intptr_t max = kcp_session_max_datagram(client);
    check(max == 1368, "max datagram is the mtu less 32 (%ld)", (long)max);
    check(kcp_session_send_datagram(client, buf, (size_t)max + 1) == KCP_EMSGSIZE,
          "a datagram over the max -> KCP_EMSGSIZE");
    check(kcp_session_send_datagram(client, (const uint8_t *)"tick 1", 6) == 6, "send a datagram");
    kcp_event dev;
    int datagram_event = 0;
    for (int i = 0; i < 100 && !datagram_event; i++) {
        if (kcp_listener_poll(l, WAIT, &dev) == 1)
            datagram_event = dev.type == KCP_EVENT_DATAGRAM && dev.session == server;
    }
    check(datagram_event, "KCP_EVENT_DATAGRAM names the server session");
    check(kcp_session_recv_datagram(server, buf, sizeof buf, WAIT) == 6 && memcmp(buf, "tick 1", 6) == 0,
          "the datagram arrives intact");
    check(kcp_session_recv_datagram(server, buf, sizeof buf, 0) == KCP_EAGAIN, "then none waits");

    /* The peer's close: what was sent first arrives, then the end. */
    check(kcp_session_send(client, (const uint8_t *)"last", 4, WAIT) == 4, "send before close");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    check(kcp_session_close(client) == 0, "client closes");
    check(kcp_session_recv(server, buf, sizeof buf, WAIT) == 4, "the server reads what came first");
    check(kcp_session_recv(server, buf, sizeof buf, WAIT) == 0, "then the end of stream (0)");
    check(ms_since(&t0) < 1000, "within a round trip or so (%.1f ms)", ms_since(&t0));
    kcp_event ev;
    int closed_by_peer = 0;
    while (kcp_listener_poll(l, 0, &ev) == 1) {
        if (ev.type == KCP_EVENT_CLOSED && ev.session == server)
            closed_by_peer = ev.reason == KCP_CLOSE_PEER;
    }
    check(closed_by_peer, "the CLOSED event says KCP_CLOSE_PEER");
    kcp_session_free(server);
    kcp_session_free(client);
    kcp_listener_free(l);
    kcp_config_free(cfg);
}

static void wrong_psk_and_missing_psk(void) {
    kcp_config *good = secure_config(PSK);
    kcp_config *bad = secure_config("a different passphrase");
    kcp_config *none = secure_config(NULL);
    kcp_listener *l = NULL;
    kcp_session *s = NULL;
    char addr[64];
    check(kcp_listen("127.0.0.1:0", good, &l) == 0, "secure listen");
    kcp_listener_local_addr(l, addr, sizeof addr);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = kcp_dial(addr, bad, &s);
    check(rc == KCP_EAUTH, "dial with another psk -> KCP_EAUTH (got %d)", rc);
    check(ms_since(&t0) < 2000, "within 2 s (%.1f ms)", ms_since(&t0));
    check(s == NULL, "no handle on failure");
    check(strstr(kcp_strerror(KCP_EAUTH), "authentication") != NULL,
          "kcp_strerror says authentication: %s", kcp_strerror(KCP_EAUTH));
    check(strstr(kcp_last_error(), "psk") != NULL, "the last error names the psk: %s",
          kcp_last_error());
    struct kcp_listener_stats st;
    kcp_listener_get_stats(l, &st, sizeof(struct kcp_listener_stats));
    check(st.handshake_failures == 1 && st.accepted == 0, "the listener made nothing");
    kcp_session *none_accepted = NULL;
    check(kcp_listener_accept(l, 0, &none_accepted) == KCP_EAGAIN && !none_accepted,
          "nothing to accept");
    rc = kcp_dial(addr, none, &s);
    check(rc == KCP_EINVAL, "secure without a psk -> KCP_EINVAL (got %d)", rc);
    check(strstr(kcp_last_error(), "needs a psk") != NULL, "and says so: %s", kcp_last_error());
    kcp_listener_free(l);
    kcp_config_free(good);
    kcp_config_free(bad);
    kcp_config_free(none);
}

static void connect_from_listeners(void) {
    kcp_config *cfg = secure_config(PSK);
    kcp_listener *a = NULL, *b = NULL;
    kcp_session *ab = NULL, *ba = NULL;
    char addr_b[64];
    uint8_t buf[64];
    check(kcp_listen("127.0.0.1:0", cfg, &a) == 0 && kcp_listen("127.0.0.1:0", cfg, &b) == 0,
          "two secure listeners");
    kcp_listener_local_addr(b, addr_b, sizeof addr_b);
    check(kcp_listener_connect(a, addr_b, &ab) == 0, "connect from a's socket");
    check(kcp_session_send(ab, (const uint8_t *)"p2p", 3, WAIT) == 3, "send queues during the handshake");
    check(kcp_listener_accept(b, WAIT, &ba) == 0, "b accepts");
    check(kcp_session_recv(ba, buf, sizeof buf, WAIT) == 3 && memcmp(buf, "p2p", 3) == 0,
          "b receives");
    kcp_session_free(ab);
    kcp_session_free(ba);
    kcp_listener_free(a);
    kcp_listener_free(b);
    kcp_config_free(cfg);
}

int main(void) {
    echo_and_close();
    wrong_psk_and_missing_psk();
    connect_from_listeners();
    return report();
}

/*
 * p2p.c: two peers that each listen on one UDP port and connect to each
 * other FROM that port (kcp_listener_connect), as peers behind NATs do
 * after exchanging addresses: each port is both client and server, so one
 * NAT mapping serves both directions.
 *
 * Both peers live in this one process to keep the example self-contained;
 * in real life each runs this same code on its own machine, learning the
 * other's address from a rendezvous server.
 *
 * Usage: p2p [MESSAGES] [--crypt NAME] [--key KEY] [--psk PSK]
 *   MESSAGES each way (default 10); salsa20 with a fixed key unless set
 *   (`--crypt secure --psk PSK` for the authenticated profile).
 * Exit status 0 when every message arrived and came from the right port.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcp.h"

#define TIMEOUT_MS 5000

typedef struct {
    const char *name;
    kcp_listener *listener;
    char addr[64];
    kcp_session *out; /* the session this peer opened with kcp_listener_connect */
    kcp_session *in;  /* the session the other peer opened, accepted here */
} Peer;

static void die(const char *what, int rc) {
    fprintf(stderr, "p2p: %s: %s (%s)\n", what, kcp_strerror(rc), kcp_last_error());
    exit(1);
}

static void start(Peer *p, const char *name, const kcp_config *cfg) {
    p->name = name;
    int rc = kcp_listen("127.0.0.1:0", cfg, &p->listener);
    if (rc < 0) die("kcp_listen", rc);
    kcp_listener_local_addr(p->listener, p->addr, sizeof p->addr);
    printf("%s listens on %s\n", name, p->addr);
}

static void connect_to(Peer *p, const Peer *other) {
    int rc = kcp_listener_connect(p->listener, other->addr, &p->out);
    if (rc < 0) die("kcp_listener_connect", rc);
    char local[64];
    kcp_session_local_addr(p->out, local, sizeof local);
    printf("%s connects to %s from %s\n", p->name, other->addr, local);
}

static void say(kcp_session *s, const char *text) {
    intptr_t rc = kcp_session_send(s, (const uint8_t *)text, strlen(text), TIMEOUT_MS);
    if (rc < 0) die("kcp_session_send", (int)rc);
}

/* Receives one message; returns 1 if it equals `want`. */
static int hear(const Peer *p, kcp_session *s, const char *want) {
    char buf[128];
    intptr_t n = kcp_session_recv(s, (uint8_t *)buf, sizeof buf - 1, TIMEOUT_MS);
    if (n < 0) die("kcp_session_recv", (int)n);
    buf[n] = '\0';
    if (strcmp(buf, want) != 0) {
        fprintf(stderr, "p2p: %s got \"%s\", expected \"%s\"\n", p->name, buf, want);
        return 0;
    }
    return 1;
}

static void usage(void) {
    fprintf(stderr, "usage: p2p [MESSAGES] [--crypt NAME] [--key KEY] [--psk PSK]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int first_option = argc > 1 && argv[1][0] != '-' ? 2 : 1;
    int messages = first_option == 2 ? atoi(argv[1]) : 10;
    if (messages <= 0) usage();
    kcp_config *cfg = kcp_config_new();
    kcp_config_set(cfg, "mode", "fast3");
    kcp_config_set(cfg, "crypt", "salsa20");
    kcp_config_set(cfg, "key", "shared secret");
    for (int i = first_option; i < argc; i += 2) {
        if (i + 1 >= argc) usage();
        const char *key = strcmp(argv[i], "--crypt") == 0 ? "crypt"
                          : strcmp(argv[i], "--key") == 0 ? "key"
                          : strcmp(argv[i], "--psk") == 0 ? "psk"
                                                          : NULL;
        if (!key) usage();
        int rc = kcp_config_set(cfg, key, argv[i + 1]);
        if (rc < 0) die("kcp_config_set", rc);
    }

    Peer alice, bob;
    start(&alice, "alice", cfg);
    start(&bob, "bob", cfg);
    kcp_config_free(cfg);

    /* Each peer connects to the other's listening address. With a kcp-go
       cipher nothing is sent until the first message, which the other
       listener accepts; with crypt=secure the handshake starts now. */
    connect_to(&alice, &bob);
    connect_to(&bob, &alice);
    say(alice.out, "hello bob");
    say(bob.out, "hello alice");
    int rc = kcp_listener_accept(bob.listener, TIMEOUT_MS, &bob.in);
    if (rc < 0) die("bob: kcp_listener_accept", rc);
    rc = kcp_listener_accept(alice.listener, TIMEOUT_MS, &alice.in);
    if (rc < 0) die("alice: kcp_listener_accept", rc);

    char from_alice[64], from_bob[64];
    kcp_session_remote_addr(bob.in, from_alice, sizeof from_alice);
    kcp_session_remote_addr(alice.in, from_bob, sizeof from_bob);
    printf("bob accepted a session from %s (alice's listening port: %s)\n", from_alice,
           strcmp(from_alice, alice.addr) == 0 ? "yes" : "NO");
    printf("alice accepted a session from %s (bob's listening port: %s)\n", from_bob,
           strcmp(from_bob, bob.addr) == 0 ? "yes" : "NO");
    int ok = strcmp(from_alice, alice.addr) == 0 && strcmp(from_bob, bob.addr) == 0;
    ok &= hear(&bob, bob.in, "hello bob") && hear(&alice, alice.in, "hello alice");

    /* Both ways, on both sessions: each peer talks on the session it
       opened and answers on the one it accepted. */
    char text[64], reply[64];
    for (int i = 1; i <= messages && ok; i++) {
        snprintf(text, sizeof text, "alice says %d", i);
        snprintf(reply, sizeof reply, "bob answers %d", i);
        say(alice.out, text);
        ok &= hear(&bob, bob.in, text);
        say(bob.in, reply);
        ok &= hear(&alice, alice.out, reply);

        snprintf(text, sizeof text, "bob says %d", i);
        snprintf(reply, sizeof reply, "alice answers %d", i);
        say(bob.out, text);
        ok &= hear(&alice, alice.in, text);
        say(alice.in, reply);
        ok &= hear(&bob, bob.out, reply);
    }
    if (ok) printf("%d messages each way on both sessions, all delivered\n", 2 * messages);

    Peer *peers[] = {&alice, &bob};
    for (int i = 0; i < 2; i++) {
        kcp_session_free(peers[i]->out);
        kcp_session_free(peers[i]->in);
        kcp_listener_free(peers[i]->listener);
    }
    return ok ? 0 : 1;
}

/* Tests that a program written against the 0.1 API still builds and runs
 * (docs/ABI.md): every name 0.2 replaced, with the 0.1 stats structs, and
 * the sized getters serving a caller whose struct is the 0.1 size.
 * Built with KCP_NO_DEPRECATION_WARNINGS, as old code built with -Werror
 * would be; scripts/test-c.sh checks separately that without it the old
 * names warn. Ends with "N passed, M failed". */
#define KCP_NO_DEPRECATION_WARNINGS
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "kcp.h"

static int discard(const uint8_t *buf, size_t len, void *user) {
    (void)buf;
    (void)len;
    (void)user;
    return 0;
}

static void arq_names(void) {
    printf("# kcp_arq_*\n");
    check(kcp_arq_new(1, NULL, NULL) == NULL, "kcp_arq_new with a NULL callback -> NULL");
    kcp_arq *a = kcp_arq_new(7, discard, NULL);
    check(a != NULL, "kcp_arq_new");
    check(kcp_arq_send(a, (const uint8_t *)"hello", 5) == 5, "send");
    check(kcp_arq_waitsnd(a) == 1 && kcp_arq_waitsnd(a) == kcp_arq_wait_snd(a), "kcp_arq_waitsnd");
    check(kcp_arq_peeksize(a) == KCP_EAGAIN && kcp_arq_peeksize(a) == kcp_arq_peek_size(a), "kcp_arq_peeksize");
    kcp_arq_update(a, 0);

    /* The old getter fills the 0.1 fields and nothing past them. */
    struct kcp_arq_stats st;
    memset(&st, 0xab, sizeof st);
    check(kcp_arq_stats(a, &st) == KCP_OK && st.out_segments == 1, "kcp_arq_stats");
    const unsigned char *tail = (const unsigned char *)&st + offsetof(struct kcp_arq_stats, srtt_ms);
    int untouched = 1;
    for (size_t i = 0; i < sizeof st - offsetof(struct kcp_arq_stats, srtt_ms); i++) untouched &= tail[i] == 0xab;
    check(untouched, "... and leaves the fields 0.2 added alone");
    check(kcp_arq_get_stats(a, &st, sizeof st) == (int)sizeof st && st.wait_snd == 1 && st.rto_ms > 0,
          "kcp_arq_get_stats fills the gauges");
    kcp_arq_free(a);
}

static void conn_names(void) {
    printf("# kcp_conn_*\n");
    kcp_config *cfg = kcp_config_new();
    kcp_conn *c = NULL;
    check(kcp_conn_new(cfg, 9, &c) == KCP_OK && c != NULL, "kcp_conn_new");
    kcp_config_free(cfg);
    check(kcp_conn_send(c, (const uint8_t *)"0123456789", 10) == 10, "send");
    kcp_conn_update(c, 0);
    struct kcp_conn_stats old;
    check(kcp_conn_stats(c, &old) == KCP_OK && old.bytes_sent == 10 && old.out_packets >= 1, "kcp_conn_stats");
    /* A caller built against 0.1 passes the old size to the new getter. */
    struct kcp_conn_stats prefix;
    memset(&prefix, 0, sizeof prefix);
    int filled = kcp_conn_get_stats(c, (struct kcp_session_stats *)(void *)&prefix, sizeof prefix);
    check(filled == (int)sizeof prefix && memcmp(&prefix, &old, sizeof old) == 0,
          "the 0.1 struct is the first %d bytes of struct kcp_session_stats", filled);
    kcp_conn_free(c);
}

static void session_names(void) {
    printf("# kcp_session_* and kcp_listener_*\n");
    kcp_config *cfg = kcp_config_new();
    kcp_listener *l = NULL;
    kcp_session *client = NULL, *server = NULL;
    char addr[64];
    check(kcp_listen("127.0.0.1:0", cfg, &l) == KCP_OK, "listen");
    check(kcp_listener_local_addr(l, addr, sizeof addr) > 0, "listener address %s", addr);
    check(kcp_dial(addr, cfg, &client) == KCP_OK, "dial");
    check(kcp_session_send(client, (const uint8_t *)"ping", 4, 5000) == 4, "send");
    check(kcp_listener_accept(l, 5000, &server) == KCP_OK, "accept");
    kcp_event ev;
    while (kcp_session_peeksize(server) < 0 && kcp_session_poll(server, 5000, &ev) > 0) {
    }
    check(kcp_session_peeksize(server) == 4 && kcp_session_peek_size(server) == 4, "kcp_session_peeksize");
    struct kcp_conn_stats cs;
    check(kcp_session_stats(client, &cs) == KCP_OK && cs.bytes_sent == 4, "kcp_session_stats");
    struct kcp_endpoint_stats es;
    check(kcp_listener_stats(l, &es) == KCP_OK && es.accepted == 1, "kcp_listener_stats");
    check(kcp_listener_stats(NULL, &es) == KCP_EINVAL, "kcp_listener_stats on NULL");
    kcp_session_free(server);
    kcp_session_free(client);
    kcp_listener_free(l);
    kcp_config_free(cfg);
}

int main(void) {
    arq_names();
    conn_names();
    session_names();
    return report();
}

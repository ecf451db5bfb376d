/* Tests of kcp_conn_* from C: two kcp-go compatible connections (salsa20 +
 * FEC 10/3) exchanging messages through kcp_conn_transmit/kcp_conn_input,
 * a lost datagram rebuilt from parity, damaged and foreign datagrams
 * refused and counted, NULL handles, small buffers. Ends with
 * "N passed, M failed". */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "kcp.h"

static kcp_config *make_config(const char *key) {
    kcp_config *c = kcp_config_new();
    const char *kv[][2] = {{"crypt", "salsa20"}, {"key", key}, {"mode", "fast3"},
                           {"datashard", "10"}, {"parityshard", "3"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) kcp_config_set(c, kv[i][0], kv[i][1]);
    return c;
}

/* Moves every queued datagram from `from` to `to`; skips index `lose` (-1: none). */
static int pump(kcp_conn *from, kcp_conn *to, uint32_t now, int lose) {
    uint8_t d[1500];
    intptr_t n;
    int i = 0;
    kcp_conn_update(from, now);
    while ((n = kcp_conn_transmit(from, d, sizeof d)) > 0) {
        if (i++ != lose && kcp_conn_input(to, now, d, (size_t)n) != KCP_OK) return -1;
    }
    return n == KCP_EAGAIN ? i : -1;
}

int main(void) {
    kcp_config *cfg = make_config("it's a secret");
    kcp_conn *a = NULL, *b = NULL, *x = NULL;
    check(kcp_conn_create(cfg, 0x11223344, &a) == KCP_OK && a, "kcp_conn_new a");
    check(kcp_conn_create(cfg, 0x11223344, &b) == KCP_OK && b, "kcp_conn_new b");
    kcp_config_free(cfg); /* the connections copied what they need */

    /* 20 messages of 1000 bytes: one datagram each, two FEC groups. */
    uint8_t msg[1000];
    for (int i = 0; i < 20; i++) {
        memset(msg, i, sizeof msg);
        check(kcp_conn_send(a, msg, sizeof msg) == (int)sizeof msg, "send");
    }
    check(pump(a, b, 10, 3) == 26, "20 data + 6 parity datagrams, one lost");
    uint8_t buf[2000];
    int in_order = 1;
    for (int i = 0; i < 20; i++) {
        intptr_t n = kcp_conn_recv(b, buf, sizeof buf);
        in_order &= n == 1000 && buf[0] == i && buf[999] == i;
    }
    check(in_order, "all 20 messages, in order, despite the loss");
    check(kcp_conn_recv(b, buf, sizeof buf) == KCP_EAGAIN, "then nothing");
    struct kcp_session_stats s;
    check(kcp_conn_get_stats(b, &s, sizeof(struct kcp_session_stats)) > 0 && s.fec_recovered == 1 && s.in_packets == 25, "b's stats");
    check(kcp_conn_get_stats(a, &s, sizeof(struct kcp_session_stats)) > 0 && s.fec_parity_shards == 6 && s.out_packets == 26, "a's stats");

    /* Damaged, foreign and short datagrams are refused and counted. */
    kcp_conn_send(a, (const uint8_t *)"x", 1);
    kcp_conn_update(a, 20);
    intptr_t n = kcp_conn_transmit(a, buf, sizeof buf);
    check(n > 0, "a datagram to damage");
    buf[n - 1] ^= 1;
    check(kcp_conn_input(b, 20, buf, (size_t)n) == KCP_EAUTH, "damaged -> KCP_EAUTH");
    check(kcp_conn_input(b, 20, buf, 5) == KCP_EPROTO, "short -> KCP_EPROTO");
    kcp_config *other = make_config("another key");
    check(kcp_conn_create(other, 0x11223344, &x) == KCP_OK, "a conn with another key");
    kcp_config_free(other);
    kcp_conn_send(x, (const uint8_t *)"y", 1);
    kcp_conn_update(x, 20);
    n = kcp_conn_transmit(x, buf, sizeof buf);
    check(n > 0 && kcp_conn_input(b, 20, buf, (size_t)n) == KCP_EAUTH, "foreign key -> KCP_EAUTH");
    check(kcp_conn_get_stats(b, &s, sizeof(struct kcp_session_stats)) > 0 && s.checksum_errors == 2 && s.in_errors == 1, "refusals counted");

    /* Small buffers keep the datagram; NULL arguments are refused. */
    kcp_conn_send(a, msg, sizeof msg);
    kcp_conn_flush(a, 30);
    check(kcp_conn_transmit(a, buf, 10) == KCP_ENOBUFS, "transmit into 10 bytes -> KCP_ENOBUFS");
    check(kcp_conn_transmit(a, buf, sizeof buf) > 1000, "then it is still there");
    check(kcp_conn_create(NULL, 1, &x) == KCP_EINVAL, "new with NULL config");
    check(kcp_conn_input(NULL, 0, buf, 1) == KCP_EINVAL, "input on NULL");
    check(kcp_conn_input(b, 0, NULL, 1) == KCP_EINVAL, "input of NULL buffer");
    check(kcp_conn_transmit(NULL, buf, 1) == KCP_EINVAL, "transmit on NULL");
    check(kcp_conn_check(NULL, 77) == 77, "check on NULL");
    check(kcp_conn_get_stats(a, NULL, sizeof(struct kcp_session_stats)) == KCP_EINVAL, "stats into NULL");
    kcp_config *secure = kcp_config_new();
    kcp_config_set(secure, "crypt", "secure");
    kcp_conn *nope = NULL;
    check(kcp_conn_create(secure, 1, &nope) == KCP_EINVAL && nope == NULL, "crypt=secure refused, out untouched");
    kcp_config_free(secure);

    kcp_conn_free(a);
    kcp_conn_free(b);
    kcp_conn_free(x);
    kcp_conn_free(NULL);
    return report();
}

/* Two KCP engines in one process, joined by their output callbacks: the
 * smallest complete use of the bring-your-own-transport API. In a real
 * program the callback sends the datagram on your socket, and whatever
 * arrives on it goes to kcp_arq_input. */
#include <stdio.h>
#include <string.h>
#include "kcp.h"

static kcp_arq *peer_of_a, *peer_of_b;

static int a_out(const uint8_t *buf, size_t len, void *user) {
    (void)user;
    return kcp_arq_input(peer_of_a, buf, len); /* "the network" */
}

static int b_out(const uint8_t *buf, size_t len, void *user) {
    (void)user;
    return kcp_arq_input(peer_of_b, buf, len);
}

int main(void) {
    kcp_arq *a = NULL, *b = NULL;
    if (kcp_arq_create(42, a_out, NULL, &a) != KCP_OK || kcp_arq_create(42, b_out, NULL, &b) != KCP_OK) {
        fprintf(stderr, "kcp_arq_create: %s\n", kcp_last_error());
        return 1;
    }
    peer_of_a = b;
    peer_of_b = a;
    kcp_arq_set_nodelay(a, 1, 10, 2, 1); /* kcptun's "fast" settings */
    kcp_arq_set_nodelay(b, 1, 10, 2, 1);

    const char *msg = "hello, kcp";
    if (kcp_arq_send(a, (const uint8_t *)msg, strlen(msg)) < 0) {
        fprintf(stderr, "send: %s\n", kcp_last_error());
        return 1;
    }
    char buf[64];
    intptr_t n = KCP_EAGAIN;
    for (uint32_t now = 0; now < 1000 && n == KCP_EAGAIN; now += 10) {
        kcp_arq_update(a, now); /* or sleep until kcp_arq_check(a, now) */
        kcp_arq_update(b, now);
        n = kcp_arq_recv(b, (uint8_t *)buf, sizeof buf - 1);
    }
    if (n < 0) {
        fprintf(stderr, "recv: %s\n", kcp_strerror((int)n));
        return 1;
    }
    buf[n] = '\0';
    printf("b received \"%s\"\n", buf);
    kcp_arq_free(a);
    kcp_arq_free(b);
    return strcmp(buf, msg) == 0 ? 0 : 1;
}

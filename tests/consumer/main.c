/*
 * A program built against an installed kcp-rs (make install), as a user's
 * would be: found with pkg-config or CMake's find_package(kcp). It checks
 * that the library it loaded is the version its header describes, then
 * moves a message between two ARQs in memory.
 */
#include <stdio.h>
#include <string.h>

#include <kcp.h>

static kcp_arq *engines[2];

/* `user` points at the slot of the engine on the other end. */
static int deliver(const uint8_t *datagram, size_t len, void *user) {
    kcp_arq **to = (kcp_arq **)user;
    return kcp_arq_input(*to, datagram, len) < 0 ? -1 : 0;
}

int main(void) {
    if (kcp_version() != KCP_VERSION_NUMBER) {
        fprintf(stderr, "header %d, library %d\n", KCP_VERSION_NUMBER, kcp_version());
        return 1;
    }
    printf("kcp %s (%d)\n", kcp_version_string(), kcp_version());
    if (kcp_arq_create(7, deliver, &engines[1], &engines[0]) != KCP_OK) return 1;
    if (kcp_arq_create(7, deliver, &engines[0], &engines[1]) != KCP_OK) return 1;
    const char *hello = "hello from an installed libkcp";
    if (kcp_arq_send(engines[0], (const uint8_t *)hello, strlen(hello)) < 0) return 1;
    uint8_t got[64];
    int n = -1;
    for (uint32_t now = 0; now < 1000 && n < 0; now += 10) {
        kcp_arq_update(engines[0], now);
        kcp_arq_update(engines[1], now);
        n = kcp_arq_recv(engines[1], got, sizeof got);
    }
    kcp_arq_free(engines[0]);
    kcp_arq_free(engines[1]);
    if (n != (int)strlen(hello) || memcmp(got, hello, (size_t)n) != 0) return 1;
    printf("received: %.*s\n", n, (const char *)got);
    return 0;
}

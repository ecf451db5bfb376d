/* Tests of kcp_config_* from C: keys set, bad keys and values refused with
 * a message naming what is accepted, NULL arguments. Ends with
 * "N passed, M failed". */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "kcp.h"

/* kcp_config_set returns code and the last error mentions `needle`. */
static void refused(kcp_config *c, const char *key, const char *value, const char *needle) {
    int rc = kcp_config_set(c, key, value);
    char what[160];
    snprintf(what, sizeof what, "%s=%s refused, message mentions %s", key ? key : "(null)",
             value ? value : "(null)", needle);
    check(rc == KCP_EINVAL && strstr(kcp_last_error(), needle) != NULL, "%s", what);
}

int main(void) {
    kcp_config *c = kcp_config_new();
    check(c != NULL, "kcp_config_new");
    const char *good[][2] = {
        {"mode", "fast3"},   {"nodelay", "1"},      {"interval", "10"}, {"resend", "2"},
        {"nc", "1"},         {"mtu", "1400"},       {"sndwnd", "1024"}, {"rcvwnd", "1024"},
        {"stream", "true"},  {"acknodelay", "off"}, {"datashard", "10"}, {"parityshard", "3"},
        {"crypt", "salsa20"}, {"key", "it's a secret"}, {"conv", "42"}, {"dscp", "46"},
        {"recovery", "classic"}, {"keepalive", "10"}, {"idle_timeout", "30"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "set %s=%s", good[i][0], good[i][1]);
        check(kcp_config_set(c, good[i][0], good[i][1]) == KCP_OK, "%s", what);
    }
    refused(c, "colour", "blue", "colour");
    refused(c, "nodelay", "3", "0..=2");
    refused(c, "mtu", "49", "50..=65507");
    refused(c, "crypt", "rot13", "aes-128");
    refused(c, "mode", "turbo", "fast2");
    refused(c, "nc", "perhaps", "boolean");
    refused(c, NULL, "1", "key is NULL");
    refused(c, "mtu", NULL, "value is NULL");
    check(kcp_config_set(NULL, "mtu", "1400") == KCP_EINVAL, "NULL handle");
    kcp_config_free(c);
    kcp_config_free(NULL);
    return report();
}

// The C++ wrapper (bindings/cpp/kcp.hpp): RAII handles, errors as
// exceptions, sessions over loopback, the ARQ with a lambda as output.
// Built with -std=c++17 -Wall -Wextra -pedantic -Werror and run under
// ASan + UBSan by scripts/test-c.sh.
#include "../../bindings/cpp/kcp.hpp"

#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>

static int passed = 0, failed = 0;
static void check(bool ok, const char *what) {
    std::printf("%s - %s\n", ok ? "ok  " : "FAIL", what);
    (ok ? passed : failed)++;
}

static void sessions() {
    kcp::config cfg;
    cfg.set("mode", "fast3");
    kcp::listener server("127.0.0.1:0", cfg);
    kcp::session client = kcp::session::dial(server.local_addr(), cfg);
    check(client.send(std::string_view("hello")) == 5, "send");
    kcp::session peer = server.accept(5000);
    std::vector<uint8_t> buf(4096);
    size_t n = peer.recv(buf, 5000);
    check(n == 5 && std::memcmp(buf.data(), "hello", 5) == 0, "the server's session receives it");
    check(peer.conv() == client.conv(), "one conversation");
    peer.send(kcp::bytes(buf.data(), n));
    check(client.recv(buf, 5000) == 5, "and echoes it back");
    struct kcp_session_stats st = client.stats();
    check(st.bytes_sent == 5 && st.bytes_received == 5 && st.rto_ms > 0, "session stats: bytes and gauges");
    check(server.stats().accepted == 1, "listener stats: one session accepted");
    kcp::session moved = std::move(client);  // the moved-from handle owns nothing
    check(bool(moved) && !client, "a session moves");
    bool timed_out = false;
    try {
        moved.recv(buf, 50);
    } catch (const kcp::timeout &e) {
        timed_out = e.code() == KCP_ETIMEDOUT;
    }
    check(timed_out, "a receive timeout is kcp::timeout");
    moved.close();
    bool closed = false;
    try {
        moved.send(std::string_view("after close"));
    } catch (const kcp::error &e) {
        closed = e.code() == KCP_ECLOSED && std::strstr(e.what(), "kcp_session_send") != nullptr;
    }
    check(closed, "a send after close throws KCP_ECLOSED, naming the call");
}

static void bad_settings() {
    kcp::config cfg;
    bool refused = false;
    try {
        cfg.set("sndwnd", "0");
    } catch (const kcp::error &e) {
        refused = e.code() == KCP_EINVAL && std::strstr(e.what(), "sndwnd") != nullptr;
    }
    check(refused, "a bad setting throws KCP_EINVAL with the key named");
}

static void arq_pair() {
    std::deque<std::vector<uint8_t>> to_b, to_a;
    auto a = std::make_unique<kcp::arq>(1, [&](kcp::bytes d) { to_b.emplace_back(d.data, d.data + d.size); });
    auto b = std::make_unique<kcp::arq>(1, [&](kcp::bytes d) { to_a.emplace_back(d.data, d.data + d.size); });
    a->nodelay(1, 10, 2, true);
    b->nodelay(1, 10, 2, true);
    std::string message(5000, 'x');
    a->send(message);
    std::optional<std::vector<uint8_t>> got;
    for (uint32_t now = 0; now < 2000 && !got; now += 10) {
        a->update(now);
        b->update(now);
        for (auto &d : to_b) b->input(d);
        for (auto &d : to_a) a->input(d);
        to_b.clear();
        to_a.clear();
        got = b->recv();
    }
    check(got && got->size() == message.size(), "two ARQs move a 5000-byte message");
    check(a->stats().out_segments >= 4 && static_cast<uint64_t>(a->wait_snd()) == a->stats().wait_snd, "arq stats");
    bool thrown = false;
    kcp::arq c(2, [](kcp::bytes) { throw std::runtime_error("transport down"); });
    c.send(std::string_view("x"));
    try {
        c.update(1000);  // the output's exception stays on this side of the C library
    } catch (...) {
        thrown = true;
    }
    check(!thrown, "an exception in the output callback does not cross the C library");
}

static void conn_pair() {
    kcp::config cfg;
    cfg.set("crypt", "aes").set("key", "shared").set("datashard", "10").set("parityshard", "3");
    kcp::conn a(cfg, 5), b(cfg, 5);
    a.send(std::string_view("through the cipher and FEC"));
    std::vector<uint8_t> wire(1500), buf(4096);
    std::optional<size_t> got;
    for (uint32_t now = 0; now < 1000 && !got; now += 10) {
        a.update(now);
        b.update(now);
        while (auto n = a.transmit(wire)) b.input(now, kcp::bytes(wire.data(), *n));
        while (auto n = b.transmit(wire)) a.input(now, kcp::bytes(wire.data(), *n));
        got = b.recv(buf);
    }
    check(got && *got == 26 && std::memcmp(buf.data(), "through the cipher and FEC", 26) == 0,
          "two conns (aes, FEC 10/3) move a message");
    check(a.stats().bytes_sent == 26 && a.stats().out_packets > 0 && b.stats().bytes_received == 26, "conn stats");
    kcp::config other;
    other.set("crypt", "aes").set("key", "another").set("datashard", "10").set("parityshard", "3");
    kcp::conn c(other, 5);
    a.send(std::string_view("x"));
    a.flush(2000);
    bool refused = false;
    while (auto n = a.transmit(wire)) {
        try {
            c.input(2000, kcp::bytes(wire.data(), *n));
        } catch (const kcp::error &e) {
            refused = e.code() == KCP_EAUTH;
        }
    }
    check(refused, "another key throws KCP_EAUTH");
}

int main() {
    sessions();
    conn_pair();
    bad_settings();
    arq_pair();
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

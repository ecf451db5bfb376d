// echo_server.cpp: the C echo server's event loop, in C++ with kcp.hpp.
//
// Usage: echo_server_cpp ADDR [--sessions N] [--idle SECONDS]
//   Echoes every message of every session; with --sessions, exits after N
//   sessions have closed (--idle sets the idle timeout that ends them).
#include "../bindings/cpp/kcp.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: echo_server_cpp ADDR [--sessions N] [--idle SECONDS]\n");
        return 2;
    }
    long stop_after = -1;
    kcp::config cfg;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--sessions") == 0) stop_after = std::atol(argv[i + 1]);
        else if (std::strcmp(argv[i], "--idle") == 0) cfg.set("idle_timeout", argv[i + 1]);
        else {
            std::fprintf(stderr, "echo_server_cpp: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    try {
        kcp::listener server(argv[1], cfg);
        std::printf("listening on %s\n", server.local_addr().c_str());
        std::fflush(stdout);
        std::map<kcp_session *, kcp::session> sessions;  // owned here, by handle
        std::vector<uint8_t> buf(64 * 1024);
        long served = 0;
        while (stop_after < 0 || served < stop_after) {
            auto ev = server.poll(1000);
            if (!ev) continue;
            switch (ev->type) {
            case KCP_EVENT_ACCEPTED:
                sessions.emplace(ev->session, kcp::session(ev->session));
                break;
            case KCP_EVENT_READABLE: {
                auto it = sessions.find(ev->session);
                if (it == sessions.end()) break;
                while (auto n = it->second.try_recv(buf)) {
                    if (*n == 0) break;  // end of stream: CLOSED follows
                    it->second.send(kcp::bytes(buf.data(), *n));
                }
                break;
            }
            case KCP_EVENT_CLOSED:
                if (sessions.erase(ev->session) > 0) served++;
                break;
            default:
                break;
            }
        }
        std::printf("served %ld sessions\n", served);
    } catch (const kcp::error &e) {
        std::fprintf(stderr, "echo_server_cpp: %s\n", e.what());
        return 1;
    }
    return 0;
}

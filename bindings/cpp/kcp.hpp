// kcp.hpp: a header-only C++17 wrapper over kcp.h (kcp-rs's C ABI).
//
// Handles are move-only RAII types: their destructors close and free what
// the C API hands out, so nothing leaks on an exception. Errors are
// exceptions (kcp::error, with the KCP_E* code and kcp_last_error()'s
// text; kcp::timeout for KCP_ETIMEDOUT and KCP_EAGAIN); a receive that
// reaches the end of the stream returns 0, as the C API does. Buffers are
// passed as kcp::bytes (pointer + size, built from std::string_view,
// std::vector<uint8_t> or any contiguous range of bytes). stats() returns
// the C struct; C++ must name it `struct kcp_session_stats` (and so on),
// as a deprecated C function of the same name hides the bare name.
#ifndef KCP_HPP
#define KCP_HPP

#include <kcp.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kcp {

/// A failed call: code() is the KCP_E* value, what() the library's words.
class error : public std::runtime_error {
public:
    error(int code, const std::string &where)
        : std::runtime_error(where + ": " + kcp_strerror(code) + detail()), code_(code) {}
    int code() const noexcept { return code_; }

private:
    static std::string detail() {
        const char *last = kcp_last_error();
        return last && *last ? std::string(" (") + last + ")" : std::string();
    }
    int code_;
};

/// A blocking call's timeout passed (KCP_ETIMEDOUT), or nothing could be
/// done at once with a timeout of 0 (KCP_EAGAIN).
class timeout : public error {
public:
    using error::error;
};

namespace detail {
template <typename T>
T check(T rc, const char *where) {
    if (rc < 0) {
        int code = static_cast<int>(rc);
        if (code == KCP_ETIMEDOUT || code == KCP_EAGAIN) throw timeout(code, where);
        throw error(code, where);
    }
    return rc;
}

/// Fills one of the growing stats structs through its sized getter.
template <typename Stats, typename Handle>
Stats stats(int (*get)(const Handle *, Stats *, size_t), const Handle *h, const char *where) {
    Stats s{};
    check(get(h, &s, sizeof s), where);
    return s;
}

/// Move-only ownership of a C handle released by `Free`.
template <typename T, void (*Free)(T *)>
class handle {
public:
    handle() noexcept = default;
    explicit handle(T *h) noexcept : h_(h) {}
    handle(handle &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    handle &operator=(handle &&o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    handle(const handle &) = delete;
    handle &operator=(const handle &) = delete;
    ~handle() { reset(); }
    T *get() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != nullptr; }

private:
    void reset() noexcept {
        if (h_) Free(std::exchange(h_, nullptr));
    }
    T *h_ = nullptr;
};

}  // namespace detail

/// A read-only view of bytes.
struct bytes {
    const uint8_t *data = nullptr;
    size_t size = 0;
    bytes() = default;
    bytes(const void *d, size_t n) : data(static_cast<const uint8_t *>(d)), size(n) {}
    bytes(std::string_view s) : bytes(s.data(), s.size()) {}
    bytes(const std::string &s) : bytes(s.data(), s.size()) {}
    bytes(const std::vector<uint8_t> &v) : bytes(v.data(), v.size()) {}
};

/// Settings: config().set("mode", "fast3").set("crypt", "aes")...
class config {
public:
    config() : h_(kcp_config_new()) {
        if (!h_) throw error(KCP_EINVAL, "kcp_config_new");
    }
    config &set(const std::string &key, const std::string &value) {
        detail::check(kcp_config_set(h_.get(), key.c_str(), value.c_str()), "kcp_config_set");
        return *this;
    }
    const kcp_config *get() const noexcept { return h_.get(); }

private:
    detail::handle<kcp_config, kcp_config_free> h_;
};

/// A session over UDP (dialed, accepted, or connected from a listener).
class session {
public:
    session() = default;
    explicit session(kcp_session *h) : h_(h) {}

    static session dial(const std::string &addr, const config &cfg) {
        kcp_session *s = nullptr;
        detail::check(kcp_dial(addr.c_str(), cfg.get(), &s), "kcp_dial");
        return session(s);
    }
    /// Sends one message; waits up to timeout_ms (-1: for ever) for room.
    size_t send(bytes data, int timeout_ms = -1) {
        return static_cast<size_t>(detail::check(
            kcp_session_send(h_.get(), data.data, data.size, timeout_ms), "kcp_session_send"));
    }
    /// Receives one message into buf; 0 at the end of the stream.
    size_t recv(std::vector<uint8_t> &buf, int timeout_ms = -1) {
        return static_cast<size_t>(detail::check(
            kcp_session_recv(h_.get(), buf.data(), buf.size(), timeout_ms), "kcp_session_recv"));
    }
    /// A message if one is waiting (its size; 0 at the end of the stream),
    /// nothing otherwise: an event loop's non-blocking step. A message
    /// larger than buf throws KCP_ENOBUFS and stays queued.
    std::optional<size_t> try_recv(std::vector<uint8_t> &buf) {
        intptr_t n = kcp_session_recv(h_.get(), buf.data(), buf.size(), 0);
        if (n == KCP_EAGAIN) return std::nullopt;
        return static_cast<size_t>(detail::check(n, "kcp_session_recv"));
    }
    /// Closes gracefully (what was sent is still delivered).
    void close() { detail::check(kcp_session_close(h_.get()), "kcp_session_close"); }
    uint32_t conv() const {
        uint32_t c = 0;
        detail::check(kcp_session_conv(h_.get(), &c), "kcp_session_conv");
        return c;
    }
    std::string remote_addr() const {
        char buf[64];
        detail::check(kcp_session_remote_addr(h_.get(), buf, sizeof buf), "kcp_session_remote_addr");
        return buf;
    }
    /// Counters (kcp-go's SNMP set) and path gauges (srtt_ms, rto_ms, cwnd...).
    struct kcp_session_stats stats() const {
        return detail::stats(kcp_session_get_stats, h_.get(), "kcp_session_get_stats");
    }
    kcp_session *get() const noexcept { return h_.get(); }
    explicit operator bool() const noexcept { return bool(h_); }

private:
    detail::handle<kcp_session, kcp_session_free> h_;
};

/// A listening socket with its sessions.
class listener {
public:
    listener(const std::string &addr, const config &cfg) {
        kcp_listener *l = nullptr;
        detail::check(kcp_listen(addr.c_str(), cfg.get(), &l), "kcp_listen");
        h_ = detail::handle<kcp_listener, kcp_listener_free>(l);
    }
    session accept(int timeout_ms = -1) {
        kcp_session *s = nullptr;
        detail::check(kcp_listener_accept(h_.get(), timeout_ms, &s), "kcp_listener_accept");
        return session(s);
    }
    /// Opens a session from this listener's socket (P2P).
    session connect(const std::string &addr) {
        kcp_session *s = nullptr;
        detail::check(kcp_listener_connect(h_.get(), addr.c_str(), &s), "kcp_listener_connect");
        return session(s);
    }
    /// The next event, or nothing when timeout_ms passes. An ACCEPTED
    /// event's session belongs to the caller: wrap it, session(ev.session).
    std::optional<kcp_event> poll(int timeout_ms) {
        kcp_event ev{};
        if (detail::check(kcp_listener_poll(h_.get(), timeout_ms, &ev), "kcp_listener_poll") == 0)
            return std::nullopt;
        return ev;
    }
    std::string local_addr() const {
        char buf[64];
        detail::check(kcp_listener_local_addr(h_.get(), buf, sizeof buf), "kcp_listener_local_addr");
        return buf;
    }
    void close() { detail::check(kcp_listener_close(h_.get()), "kcp_listener_close"); }
    /// What the socket admitted and dropped, and why.
    struct kcp_listener_stats stats() const {
        return detail::stats(kcp_listener_get_stats, h_.get(), "kcp_listener_get_stats");
    }
    kcp_listener *get() const noexcept { return h_.get(); }

private:
    detail::handle<kcp_listener, kcp_listener_free> h_;
};

/// The bare ARQ; `output` gets every datagram to send. Not movable once
/// built (the C handle points back at it): hold it by std::unique_ptr to
/// move it around.
class arq {
public:
    using output_fn = std::function<void(bytes)>;
    arq(uint32_t conv, output_fn output) : output_(std::move(output)) {
        kcp_arq *a = nullptr;
        detail::check(kcp_arq_create(conv, &arq::trampoline, this, &a), "kcp_arq_create");
        h_ = detail::handle<kcp_arq, kcp_arq_free>(a);
    }
    arq(const arq &) = delete;
    arq &operator=(const arq &) = delete;

    void send(bytes data) { detail::check(kcp_arq_send(h_.get(), data.data, data.size), "kcp_arq_send"); }
    /// The next whole message, or nothing.
    std::optional<std::vector<uint8_t>> recv() {
        intptr_t size = kcp_arq_peek_size(h_.get());
        if (size < 0) return std::nullopt;
        std::vector<uint8_t> buf(static_cast<size_t>(size));
        intptr_t n = kcp_arq_recv(h_.get(), buf.data(), buf.size());
        buf.resize(static_cast<size_t>(detail::check(n, "kcp_arq_recv")));
        return buf;
    }
    void input(bytes datagram) {
        detail::check(kcp_arq_input(h_.get(), datagram.data, datagram.size), "kcp_arq_input");
    }
    void update(uint32_t now_ms) { kcp_arq_update(h_.get(), now_ms); }
    void nodelay(int nodelay, int interval, int resend, bool nc) {
        detail::check(kcp_arq_set_nodelay(h_.get(), nodelay, interval, resend, nc ? 1 : 0), "kcp_arq_set_nodelay");
    }
    int wait_snd() const { return kcp_arq_wait_snd(h_.get()); }
    struct kcp_arq_stats stats() const { return detail::stats(kcp_arq_get_stats, h_.get(), "kcp_arq_get_stats"); }

private:
    static int trampoline(const uint8_t *buf, size_t len, void *user) {
        try {
            static_cast<arq *>(user)->output_(bytes(buf, len));
            return 0;
        } catch (...) {
            return -1;  // an exception never crosses the C library
        }
    }
    output_fn output_;
    detail::handle<kcp_arq, kcp_arq_free> h_;
};

/// One kcp-go peer's pipeline (ARQ, FEC, cipher from the config) on a
/// transport of the caller's: feed it with input(), take the datagrams to
/// send with transmit().
class conn {
public:
    conn(const config &cfg, uint32_t conv) {
        kcp_conn *c = nullptr;
        detail::check(kcp_conn_create(cfg.get(), conv, &c), "kcp_conn_create");
        h_ = detail::handle<kcp_conn, kcp_conn_free>(c);
    }
    void send(bytes data) { detail::check(kcp_conn_send(h_.get(), data.data, data.size), "kcp_conn_send"); }
    /// The next whole message into buf (its size), or nothing; a message
    /// larger than buf throws KCP_ENOBUFS and stays queued.
    std::optional<size_t> recv(std::vector<uint8_t> &buf) {
        intptr_t n = kcp_conn_recv(h_.get(), buf.data(), buf.size());
        if (n == KCP_EAGAIN) return std::nullopt;
        return static_cast<size_t>(detail::check(n, "kcp_conn_recv"));
    }
    /// A datagram from the peer; a wrong key or damage throws KCP_EAUTH.
    void input(uint32_t now_ms, bytes datagram) {
        detail::check(kcp_conn_input(h_.get(), now_ms, datagram.data, datagram.size), "kcp_conn_input");
    }
    void update(uint32_t now_ms) { kcp_conn_update(h_.get(), now_ms); }
    void flush(uint32_t now_ms) { kcp_conn_flush(h_.get(), now_ms); }
    /// The next datagram to send into buf (its size), or nothing.
    std::optional<size_t> transmit(std::vector<uint8_t> &buf) {
        intptr_t n = kcp_conn_transmit(h_.get(), buf.data(), buf.size());
        if (n == KCP_EAGAIN) return std::nullopt;
        return static_cast<size_t>(detail::check(n, "kcp_conn_transmit"));
    }
    struct kcp_session_stats stats() const {
        return detail::stats(kcp_conn_get_stats, h_.get(), "kcp_conn_get_stats");
    }

private:
    detail::handle<kcp_conn, kcp_conn_free> h_;
};

}  // namespace kcp

#endif  // KCP_HPP

// An rtnetlink socket (NETLINK_ROUTE over libmnl) and the request machinery on it: sequence
// numbers, ACK per request, batches of many requests per sendmsg, multi-part dumps.
#pragma once

#include "common/error.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct mnl_socket;
struct nlmsghdr;

namespace anycast::common::netlink {

// A request the kernel refused, or a socket call that failed. what() is
// "<request>: <strerror>" plus the kernel's extended-ACK text when it sent one, e.g.
// "RTM_NEWROUTE 10.9.0.1/32 table 241: Network is unreachable (kernel: Nexthop has invalid gateway)".
class NetlinkError : public SystemError {
public:
    NetlinkError(int err, std::string request, std::string kernel_message = {});
    // Which request failed ("RTM_NEWADDR fd00::1/128 dev 7").
    const std::string& request() const { return request_; }
    // The kernel's extended ACK message, empty when it gave none.
    const std::string& kernel_message() const { return kernel_message_; }
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::string request_;
    std::string kernel_message_;
    std::string what_;
};

// Complete netlink messages laid end to end: one sendmsg's worth of a transaction. The
// socket sets NLM_F_ACK and the sequence number of each at send time.
class RequestBatch {
public:
    // Copies one complete message (nlmsg_len bytes) into the batch.
    void add(const nlmsghdr& message);
    std::size_t size() const { return offsets_.size(); }
    bool empty() const { return offsets_.empty(); }
    void clear();

private:
    friend class Socket;
    std::vector<std::uint8_t> bytes_;  // 4-byte aligned messages, as the kernel expects
    std::vector<std::size_t> offsets_;
};

// Called for each reply message of a query or dump; the message was length-checked.
using MessageHandler = std::function<void(const nlmsghdr&)>;

// Adds request `index` of a transaction to `batch` (RequestBatch::add, once) and returns
// true, or adds nothing and returns false (a change that cannot be encoded).
using RequestWriter = std::function<bool(std::size_t index, RequestBatch& batch)>;

class Socket {
public:
    // Bound to the given multicast groups (RTMGRP_* bit mask; 0 = requests only).
    static Socket open(unsigned groups = 0);
    // A socket that lives in the namespace at `netns_path` (e.g. /run/netns/pod or
    // /proc/<pid>/ns/net); the calling thread's namespace is unchanged afterwards.
    static Socket open_in_netns(const std::string& netns_path);

    Socket(Socket&& other) noexcept;
    Socket& operator=(Socket&& other) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket();

    int fd() const;
    std::uint32_t port_id() const { return port_id_; }

    // Sends one request with NLM_F_ACK and waits for its ACK. Returns 0, or the errno when it
    // is one of `accepted` (e.g. EEXIST for an idempotent add); throws NetlinkError naming
    // `description` for any other error.
    int execute(const nlmsghdr& request, const std::string& description, std::vector<int> accepted = {});

    // Sends one request with NLM_F_ACK, passes each reply message to `on_reply`, throws
    // NetlinkError naming `description` if the kernel refuses (e.g. RTM_GETROUTE).
    void query(const nlmsghdr& request, const std::string& description, const MessageHandler& on_reply);

    // Sends a NLM_F_DUMP request and passes every message of the multi-part reply to
    // `on_message` until NLMSG_DONE. Throws NetlinkError naming `description` on error
    // (an interrupted dump, EINTR, is retried from the start). Without `on_restart` the
    // messages are held until the whole dump went through clean; with it they are passed on
    // as they come, and on_restart() is called before a retry (the caller drops what it was
    // given): the 40 000 nexthop objects of 20 000 resilient routes held 3.8 MB of raw parts.
    void dump(const nlmsghdr& request, const std::string& description, const MessageHandler& on_message,
              const std::function<void()>& on_restart = {});

    // Sends requests 0 .. count - 1, as many per sendmsg as the socket buffers allow, and
    // attributes each ACK by sequence number. `write` makes each request just before its
    // sendmsg, so only one chunk is ever held (serve's cold pass of 20 000 resilient routes
    // held its 60 000 requests whole: 10 MB of its peak). result[i] is 0 or the positive
    // errno of request i (0 when `write` made none); one failing request does not stop the
    // others. Throws NetlinkError only when the socket itself fails.
    std::vector<int> transact(std::size_t count, const RequestWriter& write);

    // Number of sendmsg calls made so far (for benchmarks and tests of "zero writes").
    std::uint64_t send_count() const { return send_count_; }

private:
    // Called with the request's index in its batch and each non-ACK reply to it.
    using ReplyHandler = std::function<void(std::size_t, const nlmsghdr&)>;

    Socket(mnl_socket* socket, std::uint32_t port_id);
    // Waits for the ACKs of sequence numbers [first, first + count), storing each errno (and
    // extended-ACK text) at the request's index; other replies go to on_reply (may be empty).
    // `last_acks_all`: only the last request asked for an ACK; the others are answered only
    // when they fail, and before it (the kernel handles one sendmsg's requests in order).
    void collect_acks(std::uint32_t first, std::size_t count, std::vector<int>& errors,
                      std::vector<std::string>& messages, const ReplyHandler& on_reply, const std::string& description,
                      bool last_acks_all = false);
    void exchange_one(const nlmsghdr& request, const std::string& description, const ReplyHandler& on_reply, int& error,
                      std::string& kernel_message);
    std::uint32_t next_sequence(std::uint32_t count = 1);
    void send_bytes(const void* data, std::size_t length, const std::string& description);
    // Sends one chunk of a transaction (its requests' indices in `owners`) and stores each
    // answer at its index in `errors`.
    void send_chunk(RequestBatch& chunk, const std::vector<std::size_t>& owners, std::vector<int>& errors);
    // Receives into buffer_ and returns the byte count; throws NetlinkError on error.
    std::size_t receive(const std::string& description);

    mnl_socket* socket_ = nullptr;
    std::uint32_t port_id_ = 0;
    std::uint32_t sequence_ = 0;
    std::uint64_t send_count_ = 0;
    std::size_t max_acks_per_send_ = 0;
    std::unique_ptr<std::uint8_t[]> buffer_;  // k_receive_buffer bytes
};

}  // namespace anycast::common::netlink

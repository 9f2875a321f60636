#include "common/netlink/socket.hpp"

#include "common/netlink/attributes.hpp"
#include "common/netlink/netns.hpp"
#include "common/test_fault.hpp"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <utility>

namespace anycast::common::netlink {

namespace {

// Big enough for any dump part the kernel builds (it caps them at 32 KiB) and for many ACKs.
constexpr std::size_t k_receive_buffer = 64 * 1024;
// Socket buffers asked for (SO_*BUFFORCE needs CAP_NET_ADMIN; otherwise the sysctl limits).
constexpr int k_socket_buffer = 4 * 1024 * 1024;
// What one queued ACK costs in the receive buffer (skb truesize), measured generously: the
// ACKs of one sendmsg must all fit, since we cannot read while the kernel processes it.
constexpr std::size_t k_ack_cost = 2048;
// Bytes of requests per sendmsg; the kernel copies each sendmsg into one skb.
constexpr std::size_t k_max_send_bytes = 256 * 1024;

std::string errno_context(std::string what, const std::string& request) {
    return request.empty() ? what : what + " (" + request + ")";
}

void set_buffer(int fd, int force_option, int option, int bytes) {
    // Best effort: the force variant needs privileges; the plain one is capped by sysctls.
    if (setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof(bytes)) != 0) {
        setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof(bytes));
    }
}

int get_buffer(int fd, int option) {
    int bytes = 0;
    socklen_t length = sizeof(bytes);
    if (getsockopt(fd, SOL_SOCKET, option, &bytes, &length) != 0) return 0;
    return bytes;
}

// The error of an NLMSG_ERROR message (0 for an ACK) and the kernel's extended ACK text.
struct AckInfo {
    int error;
    std::string message;
};

std::optional<AckInfo> parse_ack(const nlmsghdr& message) {
    if (mnl_nlmsg_get_payload_len(&message) < sizeof(nlmsgerr)) return std::nullopt;
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(&message));
    AckInfo info{-err->error, {}};
    if (!(message.nlmsg_flags & NLM_F_ACK_TLVS)) return info;
    // With NETLINK_CAP_ACK the echoed request is only its header; the TLVs follow it.
    std::size_t offset = sizeof(nlmsgerr);
    if (!(message.nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
    const std::size_t payload = mnl_nlmsg_get_payload_len(&message);
    if (offset >= payload) return info;
    const auto* base = static_cast<const std::uint8_t*>(mnl_nlmsg_get_payload(&message)) + MNL_ALIGN(offset);
    const std::size_t remaining = payload > MNL_ALIGN(offset) ? payload - MNL_ALIGN(offset) : 0;
    const auto tlvs =
        Attributes::parse_payload(base, remaining, NLMSGERR_ATTR_MAX, {{NLMSGERR_ATTR_MSG, MNL_TYPE_NUL_STRING, 0}});
    if (tlvs) info.message = tlvs->string(NLMSGERR_ATTR_MSG).value_or("");
    return info;
}

}  // namespace

NetlinkError::NetlinkError(int err, std::string request, std::string kernel_message)
    : SystemError(err, request),
      request_(std::move(request)),
      kernel_message_(std::move(kernel_message)),
      what_(kernel_message_.empty() ? SystemError::what()
                                    : std::string(SystemError::what()) + " (kernel: " + kernel_message_ + ")") {}

void RequestBatch::add(const nlmsghdr& message) {
    const std::size_t length = MNL_ALIGN(message.nlmsg_len);
    offsets_.push_back(bytes_.size());
    bytes_.resize(bytes_.size() + length);
    std::memcpy(bytes_.data() + offsets_.back(), &message, message.nlmsg_len);
}

void RequestBatch::clear() {
    bytes_.clear();
    offsets_.clear();
}

Socket::Socket(mnl_socket* socket, std::uint32_t port_id)
    : socket_(socket),
      port_id_(port_id),
      sequence_(0),
      // Not zero-filled: only the pages a reply lands in are ever touched (a CNI ADD, whose
      // replies are a few hundred bytes, spared 16 page faults per socket).
      buffer_(std::make_unique_for_overwrite<std::uint8_t[]>(k_receive_buffer)) {}

Socket::Socket(Socket&& other) noexcept
    : socket_(std::exchange(other.socket_, nullptr)),
      port_id_(other.port_id_),
      sequence_(other.sequence_),
      send_count_(other.send_count_),
      max_acks_per_send_(other.max_acks_per_send_),
      buffer_(std::move(other.buffer_)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        if (socket_) mnl_socket_close(socket_);
        socket_ = std::exchange(other.socket_, nullptr);
        port_id_ = other.port_id_;
        sequence_ = other.sequence_;
        send_count_ = other.send_count_;
        max_acks_per_send_ = other.max_acks_per_send_;
        buffer_ = std::move(other.buffer_);
    }
    return *this;
}

Socket::~Socket() {
    if (socket_) mnl_socket_close(socket_);
}

Socket Socket::open(unsigned groups) {
    mnl_socket* raw = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!raw) throw_errno("open netlink socket");
    Socket socket(raw, 0);
    if (mnl_socket_bind(raw, groups, MNL_SOCKET_AUTOPID) < 0) throw_errno("bind netlink socket (groups {:#x})", groups);
    socket.port_id_ = mnl_socket_get_portid(raw);
    // A random start keeps replies to an earlier socket on the same port from matching.
    socket.sequence_ = static_cast<std::uint32_t>(time(nullptr));

    const int fd = mnl_socket_get_fd(raw);
    int on = 1;
    // Error ACKs echo only the request header; extended ACKs explain refusals; strict
    // checking lets the kernel filter dumps (table, protocol, interface). All best effort:
    // without them we still work, with bigger ACKs and filtering in user space.
    mnl_socket_setsockopt(raw, NETLINK_CAP_ACK, &on, sizeof(on));
    mnl_socket_setsockopt(raw, NETLINK_EXT_ACK, &on, sizeof(on));
    mnl_socket_setsockopt(raw, NETLINK_GET_STRICT_CHK, &on, sizeof(on));
    set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, k_socket_buffer);
    set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, k_socket_buffer);
    socket.max_acks_per_send_ =
        std::max<std::size_t>(1, static_cast<std::size_t>(get_buffer(fd, SO_RCVBUF)) / k_ack_cost);
    return socket;
}

Socket Socket::open_in_netns(const std::string& netns_path) {
    NetnsGuard guard(netns_path);
    return open();
}

int Socket::fd() const { return mnl_socket_get_fd(socket_); }

std::uint32_t Socket::next_sequence(std::uint32_t count) {
    const std::uint32_t first = sequence_;
    sequence_ += count;
    return first;
}

void Socket::send_bytes(const void* data, std::size_t length, const std::string& description) {
    ++send_count_;
    const ssize_t sent = mnl_socket_sendto(socket_, data, length);
    if (sent < 0) throw NetlinkError(errno, errno_context("send netlink request", description));
    if (static_cast<std::size_t>(sent) != length)
        throw NetlinkError(EMSGSIZE, errno_context("short netlink send", description));
}

std::size_t Socket::receive(const std::string& description) {
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(socket_, buffer_.get(), k_receive_buffer);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        throw NetlinkError(errno, errno_context("receive netlink reply", description));
    }
}

void Socket::collect_acks(std::uint32_t first, std::size_t count, std::vector<int>& errors,
                          std::vector<std::string>& messages, const ReplyHandler& on_reply,
                          const std::string& description, bool last_acks_all) {
    std::size_t pending = count;
    std::vector<bool> acked(count, false);
    while (pending > 0 && !(last_acks_all && acked[count - 1])) {
        const std::size_t n = receive(description);
        const auto* message = reinterpret_cast<const nlmsghdr*>(buffer_.get());
        int remaining = static_cast<int>(n);
        while (message_fits(message, remaining)) {
            const std::uint32_t index = message->nlmsg_seq - first;  // wraps for foreign seqs
            if (message->nlmsg_pid == port_id_ && index < count && !acked[index]) {
                if (message->nlmsg_type == NLMSG_ERROR) {
                    const auto ack = parse_ack(*message);
                    errors[index] = ack ? ack->error : EBADMSG;
                    if (ack) messages[index] = ack->message;
                    acked[index] = true;
                    --pending;
                } else if (on_reply && message->nlmsg_type >= NLMSG_MIN_TYPE) {
                    on_reply(index, *message);
                }
            }
            message = mnl_nlmsg_next(message, &remaining);
        }
    }
}

int Socket::execute(const nlmsghdr& request, const std::string& description, std::vector<int> accepted) {
    int error = 0;
    std::string kernel_message;
    exchange_one(request, description, nullptr, error, kernel_message);
    if (error == 0 || std::find(accepted.begin(), accepted.end(), error) != accepted.end()) return error;
    throw NetlinkError(error, description, kernel_message);
}

void Socket::query(const nlmsghdr& request, const std::string& description, const MessageHandler& on_reply) {
    int error = 0;
    std::string kernel_message;
    exchange_one(
        request, description, [&](std::size_t, const nlmsghdr& reply) { on_reply(reply); }, error, kernel_message);
    if (error != 0) throw NetlinkError(error, description, kernel_message);
}

void Socket::exchange_one(const nlmsghdr& request, const std::string& description, const ReplyHandler& on_reply,
                          int& error, std::string& kernel_message) {
    std::vector<std::uint8_t> copy(MNL_ALIGN(request.nlmsg_len));
    std::memcpy(copy.data(), &request, request.nlmsg_len);
    auto* header = reinterpret_cast<nlmsghdr*>(copy.data());
    header->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    header->nlmsg_seq = next_sequence();
    header->nlmsg_pid = 0;
    send_bytes(copy.data(), header->nlmsg_len, description);
    std::vector<int> errors(1, 0);
    std::vector<std::string> messages(1);
    collect_acks(header->nlmsg_seq, 1, errors, messages, on_reply, description);
    error = errors[0];
    kernel_message = std::move(messages[0]);
}

void Socket::dump(const nlmsghdr& request, const std::string& description, const MessageHandler& on_message,
                  const std::function<void()>& on_restart) {
    std::vector<std::uint8_t> copy(MNL_ALIGN(request.nlmsg_len));
    std::memcpy(copy.data(), &request, request.nlmsg_len);
    auto* header = reinterpret_cast<nlmsghdr*>(copy.data());
    header->nlmsg_flags = (header->nlmsg_flags & ~NLM_F_ACK) | NLM_F_REQUEST | NLM_F_DUMP;
    header->nlmsg_pid = 0;

    // A dump interrupted by a concurrent change (NLM_F_DUMP_INTR) may be inconsistent: keep
    // the parts and deliver them only once a whole dump went through clean.
    constexpr int k_attempts = 10;
    for (int attempt = 0; attempt < k_attempts; ++attempt) {
        header->nlmsg_seq = next_sequence();
        send_bytes(copy.data(), header->nlmsg_len, description);
        std::vector<std::vector<std::uint8_t>> parts;
        bool interrupted = false;
        bool done = false;
        while (!done) {
            const std::size_t n = receive(description);
            std::size_t kept = 0;  // bytes of this part that belong to our dump
            const auto* message = reinterpret_cast<const nlmsghdr*>(buffer_.get());
            int remaining = static_cast<int>(n);
            std::vector<std::uint8_t> part;
            while (message_fits(message, remaining)) {
                if (message->nlmsg_seq == header->nlmsg_seq && message->nlmsg_pid == port_id_) {
                    if (message->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
                    if (message->nlmsg_type == NLMSG_DONE) {
                        // Since Linux 4.x the DONE payload carries the dump's error, if any.
                        if (mnl_nlmsg_get_payload_len(message) >= sizeof(int)) {
                            int status = 0;
                            std::memcpy(&status, mnl_nlmsg_get_payload(message), sizeof(status));
                            if (status < 0) throw NetlinkError(-status, description);
                        }
                        done = true;
                        break;
                    }
                    if (message->nlmsg_type == NLMSG_ERROR) {
                        const auto ack = parse_ack(*message);
                        throw NetlinkError(ack ? ack->error : EBADMSG, description, ack ? ack->message : "");
                    }
                    if (message->nlmsg_type >= NLMSG_MIN_TYPE && on_restart) {
                        on_message(*message);
                    } else if (message->nlmsg_type >= NLMSG_MIN_TYPE) {
                        const auto* begin = reinterpret_cast<const std::uint8_t*>(message);
                        part.insert(part.end(), begin, begin + MNL_ALIGN(message->nlmsg_len));
                        kept += MNL_ALIGN(message->nlmsg_len);
                    }
                }
                message = mnl_nlmsg_next(message, &remaining);
            }
            if (kept > 0) parts.push_back(std::move(part));
        }
        if (interrupted) {
            if (on_restart) on_restart();
            continue;
        }
        for (const auto& part : parts) {
            const auto* message = reinterpret_cast<const nlmsghdr*>(part.data());
            int remaining = static_cast<int>(part.size());
            while (message_fits(message, remaining)) {
                on_message(*message);
                message = mnl_nlmsg_next(message, &remaining);
            }
        }
        return;
    }
    throw NetlinkError(
        EINTR, description + " (dump interrupted by concurrent changes " + std::to_string(k_attempts) + " times)");
}

std::vector<int> Socket::transact(std::size_t count, const RequestWriter& write) {
    std::vector<int> errors(count, 0);
    RequestBatch chunk;
    std::vector<std::size_t> owners;  // the request index of each message in `chunk`
    std::vector<std::uint8_t> carried;
    for (std::size_t i = 0; i < count; ++i) {
        if (!write(i, chunk)) continue;
        owners.push_back(i);
        // As many requests as fit in one sendmsg and whose answers fit in the receive buffer
        // should every one of them fail; the request that overflowed starts the next chunk.
        const bool too_big = chunk.size() > 1 && chunk.bytes_.size() > k_max_send_bytes;
        if (!too_big && chunk.size() < max_acks_per_send_) continue;
        if (too_big) {
            carried.assign(chunk.bytes_.begin() + static_cast<std::ptrdiff_t>(chunk.offsets_.back()),
                           chunk.bytes_.end());
            chunk.bytes_.resize(chunk.offsets_.back());
            chunk.offsets_.pop_back();
            owners.pop_back();
        }
        send_chunk(chunk, owners, errors);
        chunk.clear();
        owners.clear();
        if (too_big) {
            chunk.add(*reinterpret_cast<const nlmsghdr*>(carried.data()));
            owners.push_back(i);
        }
        // The crash tests kill serve here: part of a pass applied, the rest not.
        if (too_big || i + 1 < count) fault_point("netlink-between-chunks");
    }
    if (!chunk.empty()) send_chunk(chunk, owners, errors);
    return errors;
}

void Socket::send_chunk(RequestBatch& chunk, const std::vector<std::size_t>& owners, std::vector<int>& errors) {
    const std::uint32_t first = next_sequence(static_cast<std::uint32_t>(chunk.size()));
    for (std::size_t k = 0; k < chunk.size(); ++k) {
        auto* header = reinterpret_cast<nlmsghdr*>(chunk.bytes_.data() + chunk.offsets_[k]);
        header->nlmsg_flags = (header->nlmsg_flags & ~NLM_F_ACK) | NLM_F_REQUEST;
        // Only the chunk's last request asks for an ACK: a request that fails is answered
        // anyway, so one ACK per chunk instead of one receive per route (2 000 at a cold start).
        if (k + 1 == chunk.size()) header->nlmsg_flags |= NLM_F_ACK;
        header->nlmsg_seq = first + static_cast<std::uint32_t>(k);
        header->nlmsg_pid = 0;
    }
    const std::string description =
        "netlink batch requests " + std::to_string(owners.front()) + ".." + std::to_string(owners.back());
    send_bytes(chunk.bytes_.data(), chunk.bytes_.size(), description);
    std::vector<int> chunk_errors(chunk.size(), 0);
    std::vector<std::string> chunk_messages(chunk.size());
    collect_acks(first, chunk.size(), chunk_errors, chunk_messages, nullptr, description, /*last_acks_all=*/true);
    for (std::size_t k = 0; k < owners.size(); ++k) errors[owners[k]] = chunk_errors[k];
}

}  // namespace anycast::common::netlink

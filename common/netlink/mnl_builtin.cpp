// The part of libmnl's API this project calls, implemented here against the kernel's netlink
// ABI (linux/netlink.h) so that the executable needs no libmnl.so on the node: the CNI plugin
// is copied to hosts that may not have it, and Debian ships no libmnl.a to link statically
// (packaging/README.md). Built instead of linking libmnl when meson's option `libmnl` is
// `builtin` (the default); <libmnl/libmnl.h> still declares everything, so the callers are the
// same either way and `-Dlibmnl=system` links Debian's library instead.
//
// Semantics follow libmnl 1.0.4's documentation, including the details the callers rely on:
// mnl_attr_parse walks up to the message's aligned end, mnl_attr_validate's per-type rules
// and errno values, and recvfrom's MSG_TRUNC -> ENOSPC.
#include <libmnl/libmnl.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

struct mnl_socket {
    int fd;
    sockaddr_nl addr;
};

namespace {

char* bytes(const void* pointer) { return static_cast<char*>(const_cast<void*>(pointer)); }

// A walk over attributes: the space left must hold a header, and the attribute's length must
// cover its header and stay within that space (libmnl's mnl_attr_ok).
bool attribute_fits(const nlattr* attr, std::ptrdiff_t left) {
    return left >= static_cast<std::ptrdiff_t>(sizeof(nlattr)) && attr->nla_len >= sizeof(nlattr) &&
           static_cast<std::ptrdiff_t>(attr->nla_len) <= left;
}

const nlattr* next_attribute(const nlattr* attr) {
    return reinterpret_cast<const nlattr*>(bytes(attr) + MNL_ALIGN(attr->nla_len));
}

int parse_range(const char* begin, const char* end, mnl_attr_cb_t callback, void* data) {
    int result = MNL_CB_OK;
    for (const auto* attr = reinterpret_cast<const nlattr*>(begin); attribute_fits(attr, end - bytes(attr));
         attr = next_attribute(attr)) {
        result = callback(attr, data);
        if (result <= MNL_CB_STOP) return result;
    }
    return result;
}

std::size_t minimum_length(mnl_attr_data_type type) {
    switch (type) {
        case MNL_TYPE_U8: return sizeof(std::uint8_t);
        case MNL_TYPE_U16: return sizeof(std::uint16_t);
        case MNL_TYPE_U32: return sizeof(std::uint32_t);
        case MNL_TYPE_U64:
        case MNL_TYPE_MSECS: return sizeof(std::uint64_t);
        default: return 0;
    }
}

int validate(const nlattr* attr, mnl_attr_data_type type, std::size_t expected) {
    const std::uint16_t length = mnl_attr_get_payload_len(attr);
    const auto* payload = static_cast<const char*>(mnl_attr_get_payload(attr));
    bool ok = length >= expected;
    if (ok) {
        switch (type) {
            case MNL_TYPE_FLAG: ok = length == 0; break;
            case MNL_TYPE_NUL_STRING:
                if (length == 0) {
                    ok = false;
                } else if (payload[length - 1] != '\0') {
                    errno = EINVAL;
                    return -1;
                }
                break;
            case MNL_TYPE_STRING: ok = length != 0; break;
            case MNL_TYPE_NESTED: ok = length == 0 || length >= MNL_ATTR_HDRLEN; break;
            default: break;
        }
    }
    if (ok && expected != 0 && length > expected) ok = false;
    if (!ok) {
        errno = ERANGE;
        return -1;
    }
    return 0;
}

}  // namespace

// Messages.

size_t mnl_nlmsg_get_payload_len(const nlmsghdr* nlh) { return nlh->nlmsg_len - MNL_NLMSG_HDRLEN; }

nlmsghdr* mnl_nlmsg_put_header(void* buf) {
    std::memset(buf, 0, MNL_NLMSG_HDRLEN);
    auto* nlh = static_cast<nlmsghdr*>(buf);
    nlh->nlmsg_len = MNL_NLMSG_HDRLEN;
    return nlh;
}

void* mnl_nlmsg_put_extra_header(nlmsghdr* nlh, size_t size) {
    char* extra = bytes(nlh) + nlh->nlmsg_len;
    nlh->nlmsg_len += MNL_ALIGN(size);
    std::memset(extra, 0, MNL_ALIGN(size));
    return extra;
}

nlmsghdr* mnl_nlmsg_next(const nlmsghdr* nlh, int* len) {
    *len -= static_cast<int>(MNL_ALIGN(nlh->nlmsg_len));
    return reinterpret_cast<nlmsghdr*>(bytes(nlh) + MNL_ALIGN(nlh->nlmsg_len));
}

void* mnl_nlmsg_get_payload(const nlmsghdr* nlh) { return bytes(nlh) + MNL_NLMSG_HDRLEN; }

void* mnl_nlmsg_get_payload_tail(const nlmsghdr* nlh) { return bytes(nlh) + MNL_ALIGN(nlh->nlmsg_len); }

// Attributes.

uint16_t mnl_attr_get_type(const nlattr* attr) { return attr->nla_type & NLA_TYPE_MASK; }

uint16_t mnl_attr_get_payload_len(const nlattr* attr) {
    return static_cast<std::uint16_t>(attr->nla_len - MNL_ATTR_HDRLEN);
}

void* mnl_attr_get_payload(const nlattr* attr) { return bytes(attr) + MNL_ATTR_HDRLEN; }

uint32_t mnl_attr_get_u32(const nlattr* attr) {
    std::uint32_t value;
    std::memcpy(&value, mnl_attr_get_payload(attr), sizeof(value));
    return value;
}

int mnl_attr_type_valid(const nlattr* attr, uint16_t maxtype) {
    if (mnl_attr_get_type(attr) > maxtype) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return 1;
}

int mnl_attr_validate(const nlattr* attr, mnl_attr_data_type type) {
    if (type >= MNL_TYPE_MAX) {
        errno = EINVAL;
        return -1;
    }
    return validate(attr, type, minimum_length(type));
}

int mnl_attr_validate2(const nlattr* attr, mnl_attr_data_type type, size_t len) {
    if (type >= MNL_TYPE_MAX) {
        errno = EINVAL;
        return -1;
    }
    return validate(attr, type, len);
}

int mnl_attr_parse(const nlmsghdr* nlh, unsigned int offset, mnl_attr_cb_t cb, void* data) {
    return parse_range(static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + MNL_ALIGN(offset),
                       static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh)), cb, data);
}

int mnl_attr_parse_payload(const void* payload, size_t payload_len, mnl_attr_cb_t cb, void* data) {
    const auto* begin = static_cast<const char*>(payload);
    return parse_range(begin, begin + payload_len, cb, data);
}

void mnl_attr_put(nlmsghdr* nlh, uint16_t type, size_t len, const void* data) {
    auto* attr = static_cast<nlattr*>(mnl_nlmsg_get_payload_tail(nlh));
    const std::size_t attr_len = MNL_ATTR_HDRLEN + len;
    attr->nla_type = type;
    attr->nla_len = static_cast<std::uint16_t>(attr_len);
    if (len != 0) std::memcpy(mnl_attr_get_payload(attr), data, len);
    std::memset(static_cast<char*>(mnl_attr_get_payload(attr)) + len, 0, MNL_ALIGN(len) - len);
    nlh->nlmsg_len += MNL_ALIGN(attr_len);
}

bool mnl_attr_put_check(nlmsghdr* nlh, size_t buflen, uint16_t type, size_t len, const void* data) {
    if (nlh->nlmsg_len + MNL_ATTR_HDRLEN + MNL_ALIGN(len) > buflen) return false;
    mnl_attr_put(nlh, type, len, data);
    return true;
}

nlattr* mnl_attr_nest_start(nlmsghdr* nlh, uint16_t type) {
    auto* start = static_cast<nlattr*>(mnl_nlmsg_get_payload_tail(nlh));
    start->nla_type = NLA_F_NESTED | type;
    nlh->nlmsg_len += MNL_ALIGN(sizeof(nlattr));
    return start;
}

nlattr* mnl_attr_nest_start_check(nlmsghdr* nlh, size_t buflen, uint16_t type) {
    if (nlh->nlmsg_len + MNL_ATTR_HDRLEN > buflen) return nullptr;
    return mnl_attr_nest_start(nlh, type);
}

void mnl_attr_nest_end(nlmsghdr* nlh, nlattr* start) {
    start->nla_len = static_cast<std::uint16_t>(bytes(mnl_nlmsg_get_payload_tail(nlh)) - bytes(start));
}

// Sockets.

mnl_socket* mnl_socket_open2(int bus, int flags) {
    auto* nl = new (std::nothrow) mnl_socket{};
    if (nl == nullptr) {
        errno = ENOMEM;
        return nullptr;
    }
    nl->fd = socket(AF_NETLINK, SOCK_RAW | flags, bus);
    if (nl->fd < 0) {
        const int saved = errno;
        delete nl;
        errno = saved;
        return nullptr;
    }
    return nl;
}

int mnl_socket_bind(mnl_socket* nl, unsigned int groups, pid_t pid) {
    nl->addr = sockaddr_nl{};
    nl->addr.nl_family = AF_NETLINK;
    nl->addr.nl_groups = groups;
    nl->addr.nl_pid = static_cast<std::uint32_t>(pid);
    if (bind(nl->fd, reinterpret_cast<const sockaddr*>(&nl->addr), sizeof(nl->addr)) < 0) return -1;
    // The kernel chose the port id (MNL_SOCKET_AUTOPID): read it back.
    socklen_t length = sizeof(nl->addr);
    if (getsockname(nl->fd, reinterpret_cast<sockaddr*>(&nl->addr), &length) < 0) return -1;
    if (length != sizeof(nl->addr) || nl->addr.nl_family != AF_NETLINK) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int mnl_socket_close(mnl_socket* nl) {
    const int result = close(nl->fd);
    delete nl;
    return result;
}

int mnl_socket_get_fd(const mnl_socket* nl) { return nl->fd; }

unsigned int mnl_socket_get_portid(const mnl_socket* nl) { return nl->addr.nl_pid; }

ssize_t mnl_socket_sendto(const mnl_socket* nl, const void* req, size_t siz) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    return sendto(nl->fd, req, siz, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof(kernel));
}

ssize_t mnl_socket_recvfrom(const mnl_socket* nl, void* buf, size_t siz) {
    sockaddr_nl from{};
    iovec iov{.iov_base = buf, .iov_len = siz};
    msghdr message{};
    message.msg_name = &from;
    message.msg_namelen = sizeof(from);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    const ssize_t received = recvmsg(nl->fd, &message, 0);
    if (received < 0) return received;
    if ((message.msg_flags & MSG_TRUNC) != 0) {
        errno = ENOSPC;
        return -1;
    }
    if (message.msg_namelen != sizeof(from)) {
        errno = EINVAL;
        return -1;
    }
    return received;
}

int mnl_socket_setsockopt(const mnl_socket* nl, int type, void* buf, socklen_t len) {
    return setsockopt(nl->fd, SOL_NETLINK, type, buf, len);
}

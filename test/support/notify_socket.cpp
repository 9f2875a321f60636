#include "test/support/notify_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace anycast::test {

NotifySocket::NotifySocket(std::string address) : address_(std::move(address)) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (address_.empty() || address_.size() >= sizeof sa.sun_path)
        throw std::invalid_argument("bad notify socket address");
    std::memcpy(sa.sun_path, address_.data(), address_.size());
    const bool abstract = address_.front() == '@';
    if (abstract) sa.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() + (abstract ? 0 : 1));
    fd_ = common::UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd_.valid() || ::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&sa), length) != 0) {
        throw std::runtime_error("notify socket " + address_ + ": " + std::strerror(errno));
    }
    if (const char* previous = std::getenv("NOTIFY_SOCKET")) previous_env_ = previous;
    ::setenv("NOTIFY_SOCKET", address_.c_str(), 1);
}

NotifySocket::~NotifySocket() {
    if (previous_env_) {
        ::setenv("NOTIFY_SOCKET", previous_env_->c_str(), 1);
    } else {
        ::unsetenv("NOTIFY_SOCKET");
    }
    if (address_.front() != '@') ::unlink(address_.c_str());
}

std::optional<std::string> NotifySocket::receive(std::chrono::milliseconds limit) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(limit.count())) <= 0) return std::nullopt;
    char buffer[4096];
    const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (n < 0) throw std::runtime_error("notify socket " + address_ + ": " + std::strerror(errno));
    return std::string(buffer, static_cast<std::size_t>(n));
}

}  // namespace anycast::test

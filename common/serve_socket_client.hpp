// One exchange on serve's local socket (<stateDir>/serve.sock, common/pod_lookup_protocol.hpp):
// connect, send one line, read one line, all within a deadline. The CNI plugin's annotation
// lookup and the `drain` / `undrain` commands use it.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace anycast::common {

// No socket, refused, closed unanswered, or no answer within the deadline: serve may be
// starting, restarting or busy, so asking again later may work.
class ServeSocketError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Sends `line` (with its '\n') to `socket_path`; returns serve's answer line without its '\n'.
std::string serve_socket_exchange(const std::string& socket_path, const std::string& line,
                                  std::chrono::milliseconds deadline);

}  // namespace anycast::common

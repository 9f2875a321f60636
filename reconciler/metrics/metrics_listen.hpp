// Parses `metrics.listen` ("127.0.0.1:9641", "[::1]:9641"; empty disables the endpoint).
#pragma once

#include "common/ip_address.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace anycast::reconciler {

struct ListenAddress {
    common::IpAddress host;
    std::uint16_t port = 0;  // 0: the kernel picks one (tests)
};

// nullopt for an empty string (endpoint disabled); std::invalid_argument naming the text and
// the problem otherwise. The host must be an IP literal: resolving names would block the loop.
std::optional<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace anycast::reconciler

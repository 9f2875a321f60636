#include "reconciler/metrics/metrics_listen.hpp"

#include <fmt/format.h>

#include <charconv>

namespace anycast::reconciler {

std::optional<ListenAddress> parse_listen_address(std::string_view text) {
    if (text.empty()) return std::nullopt;
    const auto fail = [&](std::string_view problem) {
        throw std::invalid_argument(fmt::format("metrics.listen \"{}\": {}", text, problem));
    };
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) fail("expected host:port");
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        if (host.find(':') == std::string_view::npos) fail("brackets are for IPv6 addresses");
    } else if (host.find(':') != std::string_view::npos) {
        fail("an IPv6 address needs brackets, e.g. [::1]:9641");
    }
    const auto address = common::IpAddress::parse(host);
    if (!address) fail("host is not an IP address");
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
        fail("port is not a number from 0 to 65535");
    }
    return ListenAddress{*address, static_cast<std::uint16_t>(port)};
}

}  // namespace anycast::reconciler

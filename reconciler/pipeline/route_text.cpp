#include "reconciler/pipeline/route_text.hpp"

#include <fmt/format.h>

namespace anycast::reconciler {

namespace {

void append_hop(std::string& text, bool first, const common::IpAddress& via, const std::string& iface) {
    text += first ? " " : ", ";
    text += fmt::format("via {} dev {}", via, iface);
}

}  // namespace

std::string route_text(const DesiredRoute& route) {
    std::string text = route.destination.to_string();
    bool first = true;
    for (const auto& hop : route.hops) {
        append_hop(text, first, hop.via, hop.iface);
        first = false;
    }
    return text;
}

std::string route_text(const common::netlink::Route& route, const LinkTable& links) {
    std::string text = route.destination.to_string();
    bool first = true;
    for (const auto& hop : route.hops) {
        append_hop(text, first, hop.gateway, links.name_of(hop.ifindex));
        first = false;
    }
    return text;
}

}  // namespace anycast::reconciler

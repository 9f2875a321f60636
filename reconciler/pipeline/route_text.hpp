// Routes as text, the way `ip route` would name them, for logs, plan and status:
// "10.255.53.53/32 via 10.0.0.12 dev veth-a, via 10.0.0.13 dev veth-b".
#pragma once

#include "common/netlink/route.hpp"
#include "reconciler/pipeline/desired_route.hpp"
#include "reconciler/pipeline/link_table.hpp"

#include <string>

namespace anycast::reconciler {

std::string route_text(const DesiredRoute& route);
// Interface indexes are named through `links` ("if<N>" when unknown).
std::string route_text(const common::netlink::Route& route, const LinkTable& links);

}  // namespace anycast::reconciler

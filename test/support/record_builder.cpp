#include "test/support/record_builder.hpp"

#include <stdexcept>
#include <utility>

namespace anycast::test {

namespace {

common::IpAddress parse_ip(std::string_view text) {
    const auto address = common::IpAddress::parse(text);
    if (!address) throw std::invalid_argument("RecordBuilder: not an IP address: \"" + std::string(text) + "\"");
    return *address;
}

}  // namespace

RecordBuilder::RecordBuilder(std::string network, std::string container_id, std::string ifname) {
    record_.network = std::move(network);
    record_.container_id = std::move(container_id);
    record_.ifname = std::move(ifname);
}

RecordBuilder& RecordBuilder::netns(std::string path) {
    record_.netns = std::move(path);
    return *this;
}

RecordBuilder& RecordBuilder::pod(std::string namespace_, std::string name, std::string uid) {
    record_.pod = common::PodRef{std::move(namespace_), std::move(name), std::move(uid)};
    return *this;
}

RecordBuilder& RecordBuilder::ip(std::string_view address) {
    record_.ips.push_back(parse_ip(address));
    return *this;
}

RecordBuilder& RecordBuilder::ips(const std::vector<std::string>& addresses) {
    for (const auto& address : addresses) ip(address);
    return *this;
}

RecordBuilder& RecordBuilder::nexthop(std::string_view via, std::string host_iface) {
    const common::IpAddress address = parse_ip(via);
    record_.nexthops.push_back(common::NextHopRecord{address.family(), address, std::move(host_iface)});
    return *this;
}

RecordBuilder& RecordBuilder::created(std::string rfc3339) {
    record_.created = std::move(rfc3339);
    return *this;
}

}  // namespace anycast::test

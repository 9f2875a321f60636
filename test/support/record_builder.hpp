// Allocation records (common/store/record.hpp) for tests, field by field:
//   RecordBuilder("k8s", "c-a").pod("dns", "a").ip("10.255.53.53").nexthop("10.0.0.12", "veth-a").build()
// A field the test does not set stays as Record{} leaves it, so a record holds exactly the
// data its test spells out.
#pragma once

#include "common/store/record.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace anycast::test {

class RecordBuilder {
public:
    RecordBuilder(std::string network, std::string container_id, std::string ifname = "eth0");

    RecordBuilder& netns(std::string path);
    RecordBuilder& pod(std::string namespace_, std::string name, std::string uid = "");
    // Appended to the record's IPs, in call order; throws std::invalid_argument on a bad address.
    RecordBuilder& ip(std::string_view address);
    RecordBuilder& ips(const std::vector<std::string>& addresses);
    // Appended to the next hops; the family is the address's.
    RecordBuilder& nexthop(std::string_view via, std::string host_iface);
    RecordBuilder& created(std::string rfc3339);

    common::Record build() const { return record_; }

private:
    common::Record record_;
};

}  // namespace anycast::test

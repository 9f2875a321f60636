#include "cni/pod_ip.hpp"

#include "cni/spec/cni_error.hpp"
#include "common/json_reader.hpp"

#include <fmt/format.h>

namespace anycast::cni {

using common::IpAddress;
using common::JsonReader;

namespace {

// How well an IP entry fits "the pod's interface": 0 = not the pod's.
int score(const JsonReader& entry, const boost::json::array* interfaces, const std::string& ifname) {
    const auto index = entry.member("interface");
    if (!index) return 1;
    const auto i = static_cast<std::size_t>(index->as_int(0, 1 << 20));
    if (!interfaces || i >= interfaces->size()) index->fail("no interface with this index");
    const JsonReader interface((*interfaces)[i], fmt::format("prevResult.interfaces[{}]", i));
    if (interface.string_or("sandbox", "").empty()) return 0;
    return interface.string_or("name", "") == ifname ? 3 : 2;
}

}  // namespace

std::optional<IpAddress> pod_ip(const boost::json::object& result, common::Family family, const std::string& ifname) {
    try {
        const boost::json::value doc = result;
        const JsonReader root(doc, "prevResult");
        const auto ips = root.member("ips");
        if (!ips) return std::nullopt;
        const boost::json::array* interfaces = nullptr;
        if (auto list = root.member("interfaces")) {
            list->elements();  // must be an array
            interfaces = &list->value().get_array();
        }
        std::optional<IpAddress> best;
        int best_score = 0;
        for (const auto& entry : ips->elements()) {
            const auto address = entry.required("address");
            const std::string text = address.as_string();
            std::string why;
            const auto prefix = text.find('/');
            const auto ip = IpAddress::parse(std::string_view(text).substr(0, prefix));
            if (!ip || prefix == std::string::npos)
                address.fail(fmt::format("not an address with prefix length: \"{}\"", text));
            if (ip->family() != family) continue;
            const int s = score(entry, interfaces, ifname);
            if (s > best_score) {
                best = *ip;
                best_score = s;
            }
        }
        return best;
    } catch (const common::JsonError& e) {
        throw CniError(cni_code::invalid_config, e.what());
    }
}

}  // namespace anycast::cni

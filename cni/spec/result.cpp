#include "cni/spec/result.hpp"

#include "cni/spec/versions.hpp"

#include <fmt/format.h>

namespace anycast::cni {

namespace json = boost::json;
using common::IpAddress;

namespace {

bool has_ip_version_field(std::string_view version) { return !version_at_least(version, "1.0.0"); }

// "4" or "6" from an address like "10.0.0.2/24"; empty when it cannot tell.
std::string family_of(const json::value& address) {
    if (!address.is_string()) return {};
    const std::string_view text = address.get_string();
    const auto ip = IpAddress::parse(text.substr(0, text.find('/')));
    if (!ip) return {};
    return ip->is_v4() ? "4" : "6";
}

void erase_all(json::object& object, std::initializer_list<std::string_view> keys) {
    for (const auto key : keys) object.erase(key);
}

json::array* array_member(json::object& object, std::string_view key) {
    auto* value = object.if_contains(key);
    return value && value->is_array() ? &value->get_array() : nullptr;
}

}  // namespace

json::object convert_result(json::object result, std::string_view version) {
    result["cniVersion"] = version;
    const bool versioned_ips = has_ip_version_field(version);
    if (auto* ips = array_member(result, "ips")) {
        for (auto& entry : *ips) {
            if (!entry.is_object()) continue;
            auto& ip = entry.get_object();
            if (!versioned_ips) {
                ip.erase("version");
            } else if (!ip.contains("version")) {
                if (const auto family = family_of(ip["address"]); !family.empty()) ip["version"] = family;
            }
        }
    }
    if (!version_at_least(version, "1.1.0")) {
        if (auto* interfaces = array_member(result, "interfaces")) {
            for (auto& entry : *interfaces) {
                if (entry.is_object()) erase_all(entry.get_object(), {"mtu", "socketPath", "pciID"});
            }
        }
        if (auto* routes = array_member(result, "routes")) {
            for (auto& entry : *routes) {
                if (entry.is_object()) erase_all(entry.get_object(), {"mtu", "advmss", "priority", "table", "scope"});
            }
        }
    }
    return result;
}

}  // namespace anycast::cni

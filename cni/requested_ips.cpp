#include "cni/requested_ips.hpp"

#include "cni/spec/cni_error.hpp"
#include "common/json_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace anycast::cni {

using common::IpAddress;

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& problem) {
    throw CniError(cni_code::invalid_config, fmt::format("{}: {}", where, problem));
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// "ip,ip, ip" → addresses; empty items are skipped.
void add_list(std::string_view text, const std::string& where, std::vector<IpAddress>& out) {
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty()) continue;
        auto ip = IpAddress::parse(item);
        if (!ip) bad(where, fmt::format("not an IP address: \"{}\"", item));
        out.push_back(*ip);
    }
}

}  // namespace

std::vector<IpAddress> requested_ips(const IpRequest& request) {
    std::vector<IpAddress> ips;
    if (request.static_ips) ips = *request.static_ips;
    if (request.runtime_config) {
        if (const auto* value = request.runtime_config->if_contains("anycastIPs"); value && !value->is_null()) {
            try {
                for (const auto& element : common::JsonReader(*value, "runtimeConfig.anycastIPs").elements()) {
                    ips.push_back(element.as_ip());
                }
            } catch (const common::JsonError& e) {
                throw CniError(cni_code::invalid_config, e.what());
            }
        }
    }
    if (request.cni_args) add_list(*request.cni_args, "CNI_ARGS ANYCAST_IPS", ips);
    if (request.annotation) add_list(*request.annotation, "annotation " + request.annotation_name, ips);
    std::sort(ips.begin(), ips.end());
    ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
    if (ips.size() > k_max_anycast_ips) {
        throw CniError(cni_code::invalid_config,
                       fmt::format("too many anycast IPs: {} requested, at most {} per attachment", ips.size(),
                                   k_max_anycast_ips));
    }
    return ips;
}

}  // namespace anycast::cni

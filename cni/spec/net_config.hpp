// The network configuration on stdin: the plugin entry of a conflist as the runtime passes it
// (CNI spec 1.1, "Network configuration"), with the node config it points at (docs/architecture.md
// section 3): `configFile` (default /etc/flock-anycast/config.json when it exists) and any
// node-config field inline, inline winning.
#pragma once

#include "common/config/node_config.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::cni {

struct Attachment {
    std::string container_id;
    std::string ifname;
    friend auto operator<=>(const Attachment&, const Attachment&) = default;
};

struct NetConfig {
    std::string cni_version;
    std::string name;                                // the network name
    std::optional<boost::json::object> prev_result;  // the previous plugin's result
    boost::json::object runtime_config;              // runtimeConfig (capabilities)
    // `anycastIPs` of the plugin entry itself: every attachment of this network asks for them
    // (runtimes without Kubernetes: containerd's `ctr run --cni`, nerdctl, podman's CNI backend).
    std::vector<common::IpAddress> static_ips;
    std::vector<Attachment> valid_attachments;  // cni.dev/valid-attachments (GC)
    common::NodeConfig node;
};

// Parses stdin. Errors (CniError): empty stdin or invalid JSON → code 6; a missing field,
// wrong type or bad value → code 7 naming the field (node-config errors name the file or
// "network config"); cniVersion not supported → code 1. `default_config_path` is read only
// when it exists and the entry names no configFile.
NetConfig parse_net_config(std::string_view text,
                           const std::string& default_config_path = common::k_default_config_path);

// The cniVersion to answer errors in: the config's when it can be read and is supported,
// else ours. Never throws.
std::string error_version(std::string_view text);

}  // namespace anycast::cni

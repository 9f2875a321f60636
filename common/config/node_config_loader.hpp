// Reads the node config (docs/architecture.md section 3) with errors that name the file and the field.
#pragma once

#include "common/config/node_config.hpp"

#include <boost/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace anycast::common {

// "<source>: <field path>: <problem>", e.g.
// "/etc/flock-anycast/config.json: policy.allowedPrefixes[2]: not an IP prefix: ...".
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses a node config object. Unknown fields are ignored; a wrong type or bad value is a
// ConfigError naming `source` and the field. Fields absent from `doc` keep the defaults.
NodeConfig parse_node_config(const boost::json::value& doc, std::string_view source);

// Reads and parses a file; a missing or unreadable file is a ConfigError naming the path.
NodeConfig load_node_config(const std::string& path);

// Reads a file as JSON without interpreting it (to merge inline overrides over it);
// ConfigError naming the path when it cannot be read or is not JSON.
boost::json::value read_config_document(const std::string& path);

// Merges `overrides` (an object) over `base` (an object), recursively for objects: inline
// fields in a CNI network config win over the node config file.
boost::json::value merge_config(const boost::json::value& base, const boost::json::value& overrides);

// The members of `doc` that are node-config fields (a CNI plugin entry carries other keys too:
// type, name, prevResult, ...). Used to take inline overrides from a network config.
boost::json::object node_config_fields(const boost::json::object& doc);

// The node name when the config leaves it empty: $NODE_NAME, then the hostname.
std::string default_node_name();

}  // namespace anycast::common

// CNI results (spec 1.1 "Success" and the 0.3.x/0.4.0 layouts): the prevResult converted to
// the version the runtime asked for, plus the pod's `lo` with the anycast IPs.
#pragma once

#include "common/ip_address.hpp"

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace anycast::cni {

// Rewrites a result object into `version`'s layout: cniVersion set; each IP carries
// "version": "4"|"6" for 0.3.x/0.4.0 and none for 1.x; fields that only 1.1.0 defines
// (interface mtu/socketPath/pciID, route mtu/advmss/priority/table/scope) are dropped for
// older versions. A libcni 1.1 runtime rejects a 1.1.0 result for a 1.0.0 config, so the
// answer is always in the config's version.
boost::json::object convert_result(boost::json::object result, std::string_view version);

}  // namespace anycast::cni

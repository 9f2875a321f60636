// Reads the node config's `bgp` section (common/config/bgp_settings.hpp), every field checked
// so that nothing from the config can break or extend the generated bird.conf.
#pragma once

#include "common/config/bgp_settings.hpp"
#include "common/json_reader.hpp"

namespace anycast::common {

// JsonError naming the field for anything out of range, of the wrong type, or unsafe to write
// into bird.conf (a name that is not a plain symbol, a password with a quote).
BgpSettings parse_bgp(const JsonReader& reader);

}  // namespace anycast::common

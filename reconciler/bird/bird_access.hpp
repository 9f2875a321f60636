// What serve needs from a BIRD of the operator's own (bird.config empty): write access to the
// include's directory (Debian's /etc/bird is bird:bird 0750, and a container's root without
// CAP_DAC_OVERRIDE is refused there) and BIRD's control socket (bird:bird 0660 under
// /run/bird). Checked at start so a node that cannot announce says so in one clear line per
// problem, not only through failed reloads later.
#pragma once

#include "common/config/node_config.hpp"

#include <string>
#include <vector>

namespace anycast::reconciler {

// One sentence per problem, naming the path, the error and what to change; empty when serve
// can write the include and reach the socket (as this process, with its capabilities).
std::vector<std::string> bird_access_problems(const common::BirdSettings& bird);

}  // namespace anycast::reconciler

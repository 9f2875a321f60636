// The complete bird.conf of a BIRD that runs beside serve (issue 17; `flock-anycast
// bird-config`, and serve when `bird.config` names a file): the rendered sets included from
// `bird.fragment`, learn-only kernel protocols on our own kernel table feeding our own BIRD
// tables, and one BGP session per peer of the node config's `bgp` section exporting only the
// rendered prefixes (docs/bird.md, "Generated config"). Pure: the same config gives the same
// bytes, so serve reloads BIRD only when the text changed.
#pragma once

#include "common/config/node_config.hpp"

#include <string>
#include <string_view>

namespace anycast::reconciler {

// BFD timers of the generated config: a silent node is declared down after
// k_bfd_multiplier × k_bfd_interval_ms (300 ms), well under the 1 s a drain target allows.
inline constexpr int k_bfd_interval_ms = 100;
inline constexpr int k_bfd_multiplier = 3;

// `config.bgp` must be enabled (the loader has validated every field that is written into
// the text). `source` names the node config in the header comment.
std::string render_bird_conf(const common::NodeConfig& config, std::string_view source);

}  // namespace anycast::reconciler

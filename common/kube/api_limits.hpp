// Bounds on what the apiserver may make us hold in memory.
#pragma once

#include <cstddef>

namespace anycast::common::kube {

// One response body (a pod, a list page). etcd refuses objects over 1.5 MiB by default, so a
// page of pods larger than this is a page with too many pods: the watcher asks for fewer.
inline constexpr std::size_t k_default_body_limit = 16 << 20;

}  // namespace anycast::common::kube

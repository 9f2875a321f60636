// What serve knows of one pod, whichever readiness source told it (Kubernetes, a file, or
// "always"). Eligibility to take traffic = known, uid matches, ready, not deleting.
#pragma once

#include <string>

namespace anycast::common {

struct PodState {
    std::string namespace_;
    std::string name;
    std::string uid;
    bool ready = false;
    bool deleting = false;  // DeletionTimestamp set: SIGTERM has been sent

    friend bool operator==(const PodState&, const PodState&) = default;
};

}  // namespace anycast::common

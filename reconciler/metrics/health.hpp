// What /healthz and /readyz answer. Liveness needs no state: the endpoint's handlers run on
// serve's loop, so any answer proves the loop turns. Readiness = the first reconcile pass is
// done (routes adopted or repaired) and the readiness source has synced (e.g. the first pod
// list arrived), so an agent that cannot yet know which pods are Ready reports not ready.
#pragma once

#include <optional>
#include <string>

namespace anycast::reconciler {

class Health {
public:
    void set_first_pass_done() { first_pass_done_ = true; }
    // `synced` false with `reason` (e.g. "apiserver unreachable: ...") shown by /readyz.
    void set_readiness_synced(bool synced, std::string reason = {});

    bool ready() const { return !not_ready_reason().has_value(); }
    // Why /readyz answers 503; nullopt when ready.
    std::optional<std::string> not_ready_reason() const;

private:
    bool first_pass_done_ = false;
    bool readiness_synced_ = false;
    std::string readiness_reason_ = "readiness source has not synced yet";
};

}  // namespace anycast::reconciler

// What /healthz and /readyz answer. Liveness needs no state: the endpoint's handlers run on
// serve's loop, so any answer proves the loop turns. Readiness = the first reconcile pass is
// done (routes adopted or repaired) and the readiness source has synced (e.g. the first pod
// list arrived), so an agent that cannot yet know which pods are Ready reports not ready; and
// the routes it installs reach BIRD (include written, `configure` taken), so an agent whose
// announcements are stuck says so instead of looking healthy.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace anycast::reconciler {

class Health {
public:
    void set_first_pass_done() { first_pass_done_ = true; }
    // `synced` false with `reason` (e.g. "apiserver unreachable: ...") shown by /readyz.
    void set_readiness_synced(bool synced, std::string reason = {});

    // Asked at every /readyz: why the installed routes do not reach BIRD, nullopt when they do.
    void set_publisher_check(std::function<std::optional<std::string>()> check) { publisher_check_ = std::move(check); }

    bool ready() const { return !not_ready_reason().has_value(); }
    // Why /readyz answers 503; nullopt when ready.
    std::optional<std::string> not_ready_reason() const;

private:
    bool first_pass_done_ = false;
    bool readiness_synced_ = false;
    std::string readiness_reason_ = "readiness source has not synced yet";
    std::function<std::optional<std::string>()> publisher_check_;
};

}  // namespace anycast::reconciler

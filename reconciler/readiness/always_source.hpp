// The `always` readiness source: every record's pod counts as known, Ready and not deleting,
// for nodes without an apiserver or readiness file, and for tests.
#pragma once

#include "reconciler/readiness/readiness_source.hpp"

namespace anycast::reconciler {

class AlwaysSource : public ReadinessSource {
public:
    AlwaysSource() { snapshot_.all_ready = true; }
    void start(ChangedHandler) override {}
    void stop() override {}
    const ReadinessSnapshot& snapshot() const override { return snapshot_; }
    bool synced() const override { return true; }
    std::string_view name() const override { return "always"; }

private:
    ReadinessSnapshot snapshot_;
};

}  // namespace anycast::reconciler

// The publisher serve uses when BIRD is disabled (bird.enabled = false) or in --dry-run: it
// only logs the installed set, so the loop has one code path either way.
#pragma once

#include "reconciler/pipeline/route_publisher.hpp"

#include <string>

namespace anycast::reconciler {

class LoggingPublisher : public RoutePublisher {
public:
    explicit LoggingPublisher(std::string why) : why_(std::move(why)) {}
    void publish(const std::vector<common::Prefix>& installed) override;

private:
    std::string why_;
};

}  // namespace anycast::reconciler

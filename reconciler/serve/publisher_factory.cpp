#include "reconciler/serve/publisher_factory.hpp"

#include "reconciler/bird/bird_publisher.hpp"
#include "reconciler/bird/bird_render.hpp"
#include "reconciler/serve/logging_publisher.hpp"

namespace anycast::reconciler {

std::unique_ptr<RoutePublisher> make_publisher(boost::asio::io_context& io, const common::NodeConfig& config,
                                               bool dry_run) {
    if (dry_run) return std::make_unique<LoggingPublisher>("dry run");
    if (!config.bird.enabled) return std::make_unique<LoggingPublisher>("bird.enabled is false");
    BirdPublisherSettings settings;
    settings.fragment_path = config.bird.fragment;
    settings.socket_path = config.bird.socket;
    settings.attributes = render_bird_attributes(config.bgp);
    return std::make_unique<BirdPublisher>(io, std::move(settings));
}

}  // namespace anycast::reconciler

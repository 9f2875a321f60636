#include "reconciler/readiness/readiness_factory.hpp"

#include "common/config/node_config_loader.hpp"
#include "reconciler/readiness/always_source.hpp"
#include "reconciler/readiness/file_source.hpp"
#include "reconciler/readiness/kubernetes_source.hpp"

namespace anycast::reconciler {

std::unique_ptr<ReadinessSource> make_readiness_source(boost::asio::io_context& io, const common::NodeConfig& config) {
    switch (config.readiness.source) {
        case common::ReadinessSourceKind::file: return std::make_unique<FileSource>(io, config.readiness.file);
        case common::ReadinessSourceKind::always: return std::make_unique<AlwaysSource>();
        case common::ReadinessSourceKind::kubernetes: return make_kubernetes_source(io, config);
    }
    throw common::ConfigError("readiness.source: unknown value");
}

std::string describe_readiness(const common::NodeConfig& config) {
    switch (config.readiness.source) {
        case common::ReadinessSourceKind::file: return "file " + config.readiness.file;
        case common::ReadinessSourceKind::always: return "always";
        case common::ReadinessSourceKind::kubernetes: return "kubernetes node " + config.node;
    }
    return "unknown";
}

}  // namespace anycast::reconciler

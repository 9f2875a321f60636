#include "reconciler/cli/bird_query.hpp"

#include "reconciler/bird/bird_control_client.hpp"

#include <boost/asio/io_context.hpp>

namespace anycast::reconciler {

namespace {

// One command's reply text; throws std::runtime_error when BIRD does not answer or refuses.
std::string ask(const std::string& socket, const std::string& command, std::chrono::milliseconds timeout) {
    boost::asio::io_context io;
    BirdControlClient client(io, socket, timeout);
    boost::system::error_code failure;
    BirdReply reply;
    client.async_command(command, [&](const boost::system::error_code& error, BirdReply answer) {
        failure = error;
        reply = std::move(answer);
    });
    io.run();
    if (failure) throw std::runtime_error(failure.message());
    constexpr int k_network_not_found = 8001;  // `show route` of a prefix the table lacks
    if (reply.code() == k_network_not_found) return {};
    if (is_bird_error(reply.code())) throw std::runtime_error("`" + command + "`: " + reply.text());
    return reply.text();
}

}  // namespace

BirdView query_bird(const common::NodeConfig& config, const common::Prefix& prefix, std::chrono::milliseconds timeout) {
    BirdView view;
    const bool v4 = prefix.family() == common::Family::v4;
    view.table = v4 ? "flock4" : "flock6";
    try {
        const std::string route = "show route " + prefix.to_string() + " table " + view.table;
        view.learnt = bird_lists_route(ask(config.bird.socket, route, timeout), prefix);
        // The sessions of the generated config are ours to name; a BIRD of the operator's own
        // has its own protocol names.
        if (!config.bird.config.empty()) {
            for (const auto& peer : config.bgp.peers) {
                if (peer.address.is_v4() != v4) continue;
                const std::string session = "bgp_" + peer.name;
                view.exports.emplace_back(
                    session, bird_lists_route(ask(config.bird.socket, route + " export " + session, timeout), prefix));
            }
        }
    } catch (const std::exception& e) {
        view.error = e.what();
    }
    return view;
}

}  // namespace anycast::reconciler

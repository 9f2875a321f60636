#include "common/serve_socket_client.hpp"

#include "common/pod_lookup_protocol.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <optional>

namespace anycast::common {

namespace net = boost::asio;
using local = net::local::stream_protocol;

std::string serve_socket_exchange(const std::string& socket_path, const std::string& line,
                                  std::chrono::milliseconds deadline) {
    net::io_context io;
    local::socket socket(io);
    net::streambuf reply(k_pod_lookup_line_limit);
    std::optional<boost::system::error_code> outcome;
    std::size_t length = 0;
    socket.async_connect(local::endpoint(socket_path), [&](boost::system::error_code ec) {
        if (ec) {
            outcome = ec;
            return;
        }
        net::async_write(socket, net::buffer(line), [&](boost::system::error_code ec, std::size_t) {
            if (ec) {
                outcome = ec;
                return;
            }
            net::async_read_until(socket, reply, '\n', [&](boost::system::error_code ec, std::size_t n) {
                outcome = ec;
                length = n;
            });
        });
    });
    io.run_for(deadline);
    if (!outcome) {
        throw ServeSocketError("serve did not answer on " + socket_path + " within " +
                               std::to_string(deadline.count()) + " ms");
    }
    if (*outcome) {
        throw ServeSocketError("asking serve on " + socket_path + ": " + outcome->message() +
                               " (is flock-anycast serve running on this node?)");
    }
    return {net::buffers_begin(reply.data()), net::buffers_begin(reply.data()) + length - 1};
}

}  // namespace anycast::common

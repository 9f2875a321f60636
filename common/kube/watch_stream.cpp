#include "common/kube/watch_stream.hpp"

#include "common/kube/api_request.hpp"
#include "common/kube/watch_event.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <vector>

namespace anycast::common::kube {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using net::use_awaitable;

namespace {

// A watch is allowed this much longer than its server-side timeout before we call it dead.
constexpr std::chrono::seconds k_watch_grace{30};

}  // namespace

// GCC 12 inlines Asio's frame allocation (aligned_alloc) and deallocation into this coroutine
// and then mistakes them for a mismatched pair (GCC PR 109224, coroutines with a class-specific
// operator new/delete); the same body as a member coroutine did not trip it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
net::awaitable<WatchEnd> async_watch_stream(TlsStream& stream, KubeConfig& config, const std::string& target,
                                            const WatchStreamHooks& hooks) {
    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(hooks.request_timeout);
    co_await async_open(stream, config);
    const auto request = make_get(config, target);

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);  // a watch is an endless body
    {
        auto [ec, n] = co_await http::async_write(stream, request, net::as_tuple(use_awaitable));
        if (!ec)
            std::tie(ec, n) = co_await http::async_read_header(stream, buffer, parser, net::as_tuple(use_awaitable));
        if (ec) throw ApiTransportError("watch " + hooks.what + " at " + config.server() + ": " + ec.message(), false);
    }
    const unsigned status = parser.get().result_int();

    // The server's silence is bounded by its own timeout; past that (plus grace) it is dead.
    tcp.expires_after(std::chrono::seconds(hooks.watch_timeout_seconds) + k_watch_grace);
    std::array<char, 16384> chunk;
    std::string refusal;    // the body of a non-200 answer
    LineSplitter splitter;  // per stream: a line cut by a broken stream is dropped with it
    std::vector<std::string> lines;
    if (status == 200 && hooks.opened) hooks.opened();
    while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, net::as_tuple(use_awaitable));
        if (hooks.stopped()) co_return WatchEnd::closed;
        if (ec && ec != http::error::need_buffer) {
            throw ApiTransportError("watch stream from " + config.server() + " broken: " + ec.message() +
                                        " (resuming from resourceVersion " + hooks.resource_version + ")",
                                    false);
        }
        const std::string_view got(chunk.data(), chunk.size() - parser.get().body().size);
        if (status != 200) {
            if (refusal.size() < 65536) refusal.append(got);
            continue;
        }
        lines.clear();
        splitter.append(got, lines);
        for (const auto& line : lines) {
            if (auto end = hooks.line(line)) co_return *end;
            if (hooks.stopped()) co_return WatchEnd::closed;
        }
    }
    if (status == 410) co_return WatchEnd::gone;
    if (status != 200) {
        throw std::runtime_error("watch " + hooks.what + ": HTTP " + std::to_string(status) + ": " +
                                 api_status_message(ApiResponse{.status = status, .body = refusal}));
    }
    co_return WatchEnd::closed;
}
#pragma GCC diagnostic pop

}  // namespace anycast::common::kube

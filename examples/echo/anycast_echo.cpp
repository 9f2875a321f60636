// anycast-echo: the demo's and the lab tests' traffic. `serve NAME PORT` answers every UDP
// datagram with NAME (IPv4 and IPv6, any local address, so also the anycast IPs on lo).
// `ask ADDRESS PORT COUNT` sends COUNT requests, each from a fresh socket (a new source port,
// so an L4 multipath hash spreads them over the pods) and prints who answered, e.g.
// "pod-a=3 pod-b=5 none=0". Built on Boost.Asio like the rest of the project.
#include <boost/asio.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

int serve(const std::string& name, unsigned short port) {
    asio::io_context io;
    udp::socket socket(io);
    socket.open(udp::v6());
    socket.set_option(asio::ip::v6_only(false));
    socket.bind(udp::endpoint(udp::v6(), port));
    char buf[512];
    for (;;) {
        udp::endpoint peer;
        boost::system::error_code ec;
        socket.receive_from(asio::buffer(buf), peer, 0, ec);
        if (ec) continue;
        socket.send_to(asio::buffer(name), peer, 0, ec);
    }
}

// One request with a deadline; returns the answer or "none".
std::string ask_once(asio::io_context& io, const udp::endpoint& target, std::chrono::milliseconds timeout) {
    udp::socket socket(io, target.protocol());
    std::string answer = "none";
    char buf[512];
    socket.async_receive(asio::buffer(buf), [&](boost::system::error_code ec, std::size_t n) {
        if (!ec) answer.assign(buf, n);
    });
    boost::system::error_code ec;
    socket.send_to(asio::buffer("ping", 4), target, 0, ec);
    if (ec) return "no-route";
    io.restart();
    io.run_for(timeout);
    return answer;
}

int ask(const std::string& address, unsigned short port, int count, int timeout_ms) {
    asio::io_context io;
    const udp::endpoint target(asio::ip::make_address(address), port);
    std::map<std::string, int> tally;
    for (int i = 0; i < count; ++i) ++tally[ask_once(io, target, std::chrono::milliseconds(timeout_ms))];
    std::string line;
    for (const auto& [who, n] : tally) line += fmt::format("{}{}={}", line.empty() ? "" : " ", who, n);
    fmt::print("{}\n", line);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "serve" && argc == 4) return serve(argv[2], static_cast<unsigned short>(std::atoi(argv[3])));
        if (mode == "ask" && (argc == 5 || argc == 6)) {
            return ask(argv[2], static_cast<unsigned short>(std::atoi(argv[3])), std::atoi(argv[4]),
                       argc == 6 ? std::atoi(argv[5]) : 300);
        }
        fmt::print(stderr, "usage: anycast-echo serve NAME PORT | ask ADDRESS PORT COUNT [TIMEOUT_MS]\n");
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "anycast-echo: {}\n", e.what());
        return 1;
    }
}

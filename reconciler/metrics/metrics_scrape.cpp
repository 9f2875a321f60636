#include "reconciler/metrics/metrics_scrape.hpp"

#include "reconciler/metrics/metrics_listen.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <limits>
#include <stdexcept>

namespace anycast::reconciler {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// The end of `{...}` starting at `open`, skipping braces inside quoted label values.
std::size_t closing_brace(std::string_view line, std::size_t open) {
    bool quoted = false;
    for (std::size_t i = open + 1; i < line.size(); ++i) {
        if (quoted && line[i] == '\\') {
            ++i;
        } else if (line[i] == '"') {
            quoted = !quoted;
        } else if (!quoted && line[i] == '}') {
            return i;
        }
    }
    return std::string_view::npos;
}

bool parse_number(std::string_view text, double& out) {
    if (text == "+Inf" || text == "Inf") {
        out = std::numeric_limits<double>::infinity();
    } else if (text == "-Inf") {
        out = -std::numeric_limits<double>::infinity();
    } else if (text == "NaN") {
        out = std::numeric_limits<double>::quiet_NaN();
    } else {
        // Boost.JSON's number grammar is the text format's (minus Inf/NaN, handled above);
        // std::from_chars for double would pull libstdc++'s floating_from_chars, which needs
        // libm, loaded by every exec of the CNI plugin for this one call in `status`.
        boost::system::error_code ec;
        const boost::json::value number = boost::json::parse(text, ec);
        if (ec || !number.is_number()) return false;
        out = number.to_number<double>(ec);
        return !ec;
    }
    return true;
}

}  // namespace

std::map<std::string, double> parse_exposition(std::string_view text) {
    std::map<std::string, double> samples;
    while (!text.empty()) {
        const auto newline = text.find('\n');
        const std::string_view line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        if (line.empty() || line.front() == '#') continue;
        const auto fail = [&] { throw std::invalid_argument(fmt::format("not a sample line: \"{}\"", line)); };
        std::size_t series_end = line.find_first_of("{ ");
        // A series starts with its metric name: " 1" or "{a=\"b\"} 1" has none (it would be
        // read as a series named "" or "{...}"; found by the metrics_scrape fuzz target).
        if (series_end == 0) fail();
        if (series_end != std::string_view::npos && line[series_end] == '{') {
            series_end = closing_brace(line, series_end);
            if (series_end == std::string_view::npos) fail();
            ++series_end;
        }
        if (series_end == std::string_view::npos || series_end >= line.size() || line[series_end] != ' ') fail();
        std::string_view value = line.substr(series_end + 1);
        value = value.substr(0, value.find(' '));  // an optional timestamp follows
        double number = 0;
        if (!parse_number(value, number)) fail();
        samples[std::string(line.substr(0, series_end))] = number;
    }
    return samples;
}

HttpAnswer http_get(const std::string& listen, const std::string& target, std::chrono::milliseconds timeout) {
    const auto address = parse_listen_address(listen);
    if (!address) throw std::runtime_error("metrics.listen is empty: the endpoint is disabled");
    const std::string where = fmt::format("http://{}{}", listen, target);

    asio::io_context io;
    beast::tcp_stream stream(io);
    beast::flat_buffer buffer;
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, listen);
    request.keep_alive(false);
    http::response<http::string_body> response;
    beast::error_code failure;
    std::string_view step = "connect to";

    // One deadline for the whole exchange; each step starts the next.
    stream.expires_after(timeout);
    stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address(address->host.to_string()), address->port),
                         [&](beast::error_code ec) {
                             if (ec) return void(failure = ec);
                             step = "send a request to";
                             http::async_write(stream, request, [&](beast::error_code write_ec, std::size_t) {
                                 if (write_ec) return void(failure = write_ec);
                                 step = "read the answer of";
                                 http::async_read(stream, buffer, response,
                                                  [&](beast::error_code read_ec, std::size_t) { failure = read_ec; });
                             });
                         });
    io.run();
    if (failure) throw std::runtime_error(fmt::format("scrape: {} {}: {}", step, where, failure.message()));
    return {response.result_int(), std::move(response.body())};
}

std::string fetch_metrics(const std::string& listen, std::chrono::milliseconds timeout) {
    HttpAnswer answer = http_get(listen, "/metrics", timeout);
    if (answer.status != 200) {
        throw std::runtime_error(fmt::format("scrape http://{}/metrics: HTTP {}", listen, answer.status));
    }
    return std::move(answer.body);
}

}  // namespace anycast::reconciler

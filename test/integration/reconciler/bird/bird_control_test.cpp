// The control-socket client, reloader and publisher against a real BIRD 2 (Debian bird2) in a
// namespace; and the shipped example configs checked by BIRD's own parser.
#include "common/ip_address.hpp"
#include "reconciler/bird/bird_control_client.hpp"
#include "reconciler/bird/bird_publisher.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <fstream>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace anycast::reconciler;
using namespace anycast::test;
using anycast::common::Prefix;

namespace {

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

// Runs the loop while polling `done` (BIRD answers in about a millisecond; restarts and
// retries take longer).
bool pump_until(asio::io_context& io, const std::function<bool()>& done) {
    return wait_until(
        [&] {
            io.restart();
            io.poll();
            return done();
        },
        30s, 5ms);
}

}  // namespace

TEST_CASE("the example BIRD configs parse with BIRD's own parser", "[bird]") {
    TempDir dir;
    write_text(dir.file("flock-anycast.conf"), empty_bird_sets());
    write_text(dir.file("flock.conf"), example_bird_config("flock.conf", dir.path(), "flock.log"));
    for (const char* name : {"node-bird.conf", "router-bird.conf"}) {
        INFO(name);
        write_text(dir.file(name), example_bird_config(name, dir.path(), "bird.log"));
        const auto result = run_process({"bird", "-p", "-c", dir.file(name)});
        CHECK(result.exit_code == 0);
        CHECK(result.err == "");
    }
    // And with a populated include as the renderer writes it.
    write_text(dir.file("flock-anycast.conf"),
               "define FLOCK_ANYCAST_V4 = [ 10.255.0.1/32, 10.255.53.53/32 ];\n"
               "define FLOCK_ANYCAST_V6 = [ fd00:255::53/128 ];\n");
    CHECK(run_process({"bird", "-p", "-c", dir.file("node-bird.conf")}).exit_code == 0);
}

TEST_CASE("configure against real BIRD: applied, rejected keeping the old config, retried across a restart",
          "[netns][bird]") {
    PrivateNetns netns;
    NamedNetns node("nd");
    TempDir dir;
    node.exec(
        "ip link add d0 type veth peer name d1 && ip link set d1 up && ip link set d0 up && ip addr add 10.1.1.1/24 "
        "dev d0 && "
        "ip addr add fd00:1:1::1/64 dev d0 nodad");
    node.exec(
        "ip route add 10.255.53.53/32 via 10.1.1.2 dev d0 proto 241 table 241 && "
        "ip -6 route add fd00:255::53/128 via fd00:1:1::2 dev d0 proto 241 table 241 && "
        "ip route add 10.255.53.54/32 via 10.1.1.2 dev d0 proto 241 table 241");
    const std::string fragment = dir.file("flock-anycast.conf");
    write_text(fragment, empty_bird_sets());
    write_text(dir.file("flock.conf"), example_bird_config("flock.conf", dir.path(), "flock.log"));
    BirdDaemon bird(node.name(), dir.path(), "node", example_bird_config("node-bird.conf", dir.path(), "node.log"));
    bird.start();
    auto learnt = [&](const char* table) { return bird.birdc(std::string("show route table ") + table); };

    asio::io_context io;
    BirdControlClient client(io, bird.socket(), 2s);
    auto command = [&](const std::string& text) {
        std::optional<std::pair<boost::system::error_code, BirdReply>> result;
        client.async_command(text,
                             [&](const boost::system::error_code& ec, BirdReply reply) { result.emplace(ec, reply); });
        REQUIRE(pump_until(io, [&] { return result.has_value(); }));
        return *result;
    };

    SECTION("configure check and configure succeed with 0020 and 0003") {
        const auto [check_error, check] = command("configure check");
        REQUIRE_FALSE(check_error);
        CHECK(check.code() == 20);
        const auto [error, reply] = command("configure");
        REQUIRE_FALSE(error);
        CHECK(reply.code() == 3);
        CHECK(reply.text().find("Reading configuration from " + bird.config_path()) != std::string::npos);
        const auto [bad_error, bad] = command("no such command");
        REQUIRE_FALSE(bad_error);
        CHECK(bad.code() / 1000 == 9);
    }

    SECTION("the publisher's sets decide what BIRD learns, a broken include keeps the old config") {
        BirdPublisher publisher(io, BirdPublisherSettings{fragment, bird.socket(), 2s, BirdReloadOptions{20ms, 200ms}});
        const std::vector<Prefix> set{*Prefix::parse("10.255.53.53/32"), *Prefix::parse("fd00:255::53/128")};
        publisher.publish(set);
        REQUIRE(pump_until(io, [&] { return publisher.reload_stats().succeeded == 1; }));
        CHECK(learnt("flock4").find("10.255.53.53/32") != std::string::npos);
        CHECK(learnt("flock4").find("10.255.53.54/32") == std::string::npos);  // in the table, not the set
        CHECK(learnt("flock6").find("fd00:255::53/128") != std::string::npos);

        write_text(fragment, "define FLOCK_ANYCAST_V4 = [ 10.255.53.53/33 ];\ndefine FLOCK_ANYCAST_V6 = [ ];\n");
        const auto [error, reply] = command("configure");
        REQUIRE_FALSE(error);
        CHECK(reply.code() == 8002);
        CHECK(reply.text().find(fragment) != std::string::npos);
        CHECK(reply.text().find("Invalid prefix length 33") != std::string::npos);
        // The old configuration keeps running: both prefixes still learnt.
        CHECK(learnt("flock4").find("10.255.53.53/32") != std::string::npos);
        CHECK(learnt("flock6").find("fd00:255::53/128") != std::string::npos);

        // Through the reloader the rejection is counted with BIRD's text, not retried.
        publisher.reloader().request();
        REQUIRE(pump_until(io, [&] { return publisher.reload_stats().rejected == 1 && !publisher.reloader().busy(); }));
        CHECK(publisher.reload_stats().last_error.find("Invalid prefix length 33") != std::string::npos);
        CHECK(publisher.reload_stats().attempts == 2);

        // The next publish rewrites the include (its text differs from the broken one).
        publisher.publish({*Prefix::parse("10.255.53.54/32")});
        REQUIRE(pump_until(io, [&] { return publisher.reload_stats().succeeded == 2; }));
        CHECK(learnt("flock4").find("10.255.53.54/32") != std::string::npos);
        CHECK(learnt("flock4").find("10.255.53.53/32") == std::string::npos);
        CHECK(learnt("flock6").find("fd00:255::53/128") == std::string::npos);
    }

    SECTION("BIRD killed: kernel routes stay and reloads retry; restarted: the reload lands") {
        BirdPublisher publisher(io, BirdPublisherSettings{fragment, bird.socket(), 2s, BirdReloadOptions{20ms, 200ms}});
        publisher.publish({*Prefix::parse("10.255.53.53/32")});
        REQUIRE(pump_until(io, [&] { return publisher.reload_stats().succeeded == 1; }));

        bird.kill_hard();
        CHECK(node.exec("ip route show table 241 proto 241").find("10.255.53.53") != std::string::npos);
        publisher.publish({*Prefix::parse("10.255.53.53/32"), *Prefix::parse("10.255.53.54/32")});
        REQUIRE(pump_until(io, [&] { return publisher.reload_stats().transport_failures >= 3; }));
        CHECK(publisher.reload_stats().succeeded == 1);
        CHECK(publisher.reloader().busy());  // still retrying
        CHECK(node.exec("ip route show table 241 proto 241").find("10.255.53.53") != std::string::npos);

        bird.start();
        REQUIRE(pump_until(io, [&] { return publisher.reload_stats().succeeded == 2; }));
        CHECK_FALSE(publisher.reloader().busy());
        CHECK(learnt("flock4").find("10.255.53.54/32") != std::string::npos);
    }
}

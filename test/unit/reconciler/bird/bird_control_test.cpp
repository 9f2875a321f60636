// The control-socket client, the reloader and the publisher against a scripted BIRD: a unix
// stream server on the same io_context that plays one scripted exchange per connection.
#include "reconciler/bird/bird_control_client.hpp"
#include "reconciler/bird/bird_publisher.hpp"
#include "reconciler/bird/bird_reloader.hpp"
#include "reconciler/bird/bird_render.hpp"

#include "test/support/bird_lab.hpp"
#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;
using namespace std::chrono_literals;
using namespace anycast::reconciler;
using anycast::common::Prefix;
using anycast::test::read_text_file;
using anycast::test::TempDir;

namespace {

// One connection's part of the script.
struct Exchange {
    std::string greeting = "0001 BIRD 2.0.12 ready.\n";
    std::string reply = "0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n";
    bool hang_before_greeting = false;  // accept, then say nothing
    bool hang_after_command = false;    // greet, read the command, then say nothing
    bool close_after_greeting = false;  // greet, then drop the connection
};

class ScriptedBird {
public:
    ScriptedBird(asio::io_context& io, std::string path, std::deque<Exchange> script = {})
        : io_(io), path_(std::move(path)), acceptor_(io), script_(std::move(script)) {
        ::unlink(path_.c_str());
        acceptor_.open();
        acceptor_.bind(stream::endpoint(path_));
        acceptor_.listen();
        accept();
    }
    ~ScriptedBird() {
        for (auto& conn : connections_) {
            boost::system::error_code ignored;
            conn->socket.close(ignored);
        }
        ::unlink(path_.c_str());
    }

    std::vector<std::string> commands;
    int connections = 0;
    // Called when a command arrived, before the reply is sent.
    std::function<void(const std::string&)> on_command;

private:
    struct Conn {
        explicit Conn(asio::io_context& io) : socket(io) {}
        stream::socket socket;
        std::string buffer;
        Exchange exchange;
    };

    void accept() {
        auto conn = std::make_shared<Conn>(io_);
        acceptor_.async_accept(conn->socket, [this, conn](const boost::system::error_code& ec) {
            if (ec) return;
            ++connections;
            if (!script_.empty()) {
                conn->exchange = script_.front();
                script_.pop_front();
            }
            connections_.push_back(conn);
            serve(conn);
            accept();
        });
    }

    void serve(const std::shared_ptr<Conn>& conn) {
        if (conn->exchange.hang_before_greeting) return;
        asio::write(conn->socket, asio::buffer(conn->exchange.greeting));
        if (conn->exchange.close_after_greeting) return conn->socket.close();
        asio::async_read_until(conn->socket, asio::dynamic_buffer(conn->buffer), '\n',
                               [this, conn](const boost::system::error_code& ec, std::size_t n) {
                                   if (ec) return;
                                   const std::string command = conn->buffer.substr(0, n - 1);
                                   commands.push_back(command);
                                   if (on_command) on_command(command);
                                   if (conn->exchange.hang_after_command) return;
                                   asio::write(conn->socket, asio::buffer(conn->exchange.reply));
                               });
    }

    asio::io_context& io_;
    std::string path_;
    stream::acceptor acceptor_;
    std::deque<Exchange> script_;
    std::vector<std::shared_ptr<Conn>> connections_;
};

// Runs the loop until `done` holds; the limit only stops a broken test from hanging.
template <typename Pred>
bool run_until(asio::io_context& io, Pred done) {
    const auto limit = std::chrono::steady_clock::now() + 20s;
    while (!done() && std::chrono::steady_clock::now() < limit) {
        if (io.stopped()) io.restart();
        io.run_for(5ms);
    }
    return done();
}

struct CommandResult {
    bool finished = false;
    boost::system::error_code error;
    BirdReply reply;
};

CommandResult run_command(asio::io_context& io, BirdControlClient& client, const std::string& command) {
    CommandResult result;
    client.async_command(command, [&](const boost::system::error_code& ec, BirdReply reply) {
        result = CommandResult{true, ec, std::move(reply)};
    });
    REQUIRE(run_until(io, [&] { return result.finished; }));
    return result;
}

const BirdReloadOptions k_fast_retry{1ms, 20ms};

}  // namespace

TEST_CASE("the client reads the greeting, sends one command and returns the whole reply", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    Exchange show;
    show.reply = "1007-Table master4:\n 10.255.0.1/32 unicast [flock_krt4] * (10)\n \tvia 10.0.1.2 on n-p1\n0000 \n";
    ScriptedBird bird(io, dir.file("bird.ctl"), {Exchange{}, show});
    BirdControlClient client(io, dir.file("bird.ctl"), 2s);

    const auto configured = run_command(io, client, "configure");
    REQUIRE_FALSE(configured.error);
    CHECK(configured.reply.code() == 3);
    CHECK(configured.reply.text() == "Reading configuration from /etc/bird/bird.conf\nReconfigured");

    const auto shown = run_command(io, client, "show route");
    REQUIRE_FALSE(shown.error);
    CHECK(shown.reply.code() == 0);
    REQUIRE(shown.reply.lines.size() == 4);
    CHECK(shown.reply.lines[2].text == "\tvia 10.0.1.2 on n-p1");
    CHECK(bird.commands == std::vector<std::string>{"configure", "show route"});
    CHECK(bird.connections == 2);
}

TEST_CASE("the client reports transport failures as errors", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    const std::string path = dir.file("bird.ctl");

    SECTION("no socket: BIRD absent") {
        BirdControlClient client(io, path, 2s);
        const auto result = run_command(io, client, "configure");
        CHECK(result.error == boost::system::errc::no_such_file_or_directory);
    }
    SECTION("a socket path too long for sun_path") {
        BirdControlClient client(io, "/" + std::string(200, 'x'), 2s);
        CHECK(run_command(io, client, "configure").error == boost::system::errc::filename_too_long);
    }
    SECTION("a greeting other than 0001") {
        Exchange busy;
        busy.greeting = "8003 Too many clients\n";
        ScriptedBird bird(io, path, {busy});
        BirdControlClient client(io, path, 2s);
        CHECK(run_command(io, client, "configure").error == boost::system::errc::protocol_error);
        CHECK(bird.commands.empty());
    }
    SECTION("a line of no known shape") {
        Exchange garbled;
        garbled.reply = "HTTP/1.1 400 Bad Request\n";
        ScriptedBird bird(io, path, {garbled});
        BirdControlClient client(io, path, 2s);
        CHECK(run_command(io, client, "configure").error == boost::system::errc::protocol_error);
    }
    SECTION("the connection drops before the reply") {
        Exchange dropped;
        dropped.close_after_greeting = true;
        ScriptedBird bird(io, path, {dropped});
        BirdControlClient client(io, path, 2s);
        const auto result = run_command(io, client, "configure");
        CHECK(result.error);
        CHECK(result.reply.lines.empty());
    }
    SECTION("a reply cut off after a DDDD- line") {
        Exchange cut;
        cut.reply = "0002-Reading configuration from /etc/bird/bird.conf\n";
        ScriptedBird bird(io, path, {cut});
        BirdControlClient client(io, path, 200ms);
        CHECK(run_command(io, client, "configure").error == boost::system::errc::timed_out);
    }
}

TEST_CASE("a hung socket times out, before the greeting or after the command", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    Exchange silent;
    silent.hang_before_greeting = true;
    Exchange stuck;
    stuck.hang_after_command = true;
    ScriptedBird bird(io, dir.file("bird.ctl"), {silent, stuck});
    BirdControlClient client(io, dir.file("bird.ctl"), 100ms);
    CHECK(run_command(io, client, "configure").error == boost::system::errc::timed_out);
    CHECK(run_command(io, client, "configure").error == boost::system::errc::timed_out);
    CHECK(bird.commands == std::vector<std::string>{"configure"});
}

TEST_CASE("the reloader counts every configure reply shape as success or rejection", "[unit][bird]") {
    struct Row {
        std::string reply;
        bool success;
    };
    const Row rows[] = {
        {"0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n", true},
        {"0004 Reconfiguration in progress\n", true},
        {"0005 Reconfiguration already in progress, queueing new config\n", true},
        {"0002-Reading configuration from /etc/bird/bird.conf\n0020 Configuration OK\n", true},
        {"0002-Reading configuration from /x/node.conf\n8002 /x/flock-anycast.conf:1:55 Invalid prefix length 33\n",
         false},
        {"9001 syntax error, unexpected CF_SYM_UNDEFINED\n", false},
        {"0000 \n", false},  // not an answer to configure
    };
    for (const auto& row : rows) {
        INFO(row.reply);
        asio::io_context io;
        TempDir dir;
        Exchange exchange;
        exchange.reply = row.reply;
        ScriptedBird bird(io, dir.file("bird.ctl"), {exchange});
        BirdControlClient client(io, dir.file("bird.ctl"), 2s);
        BirdReloader reloader(io, client, k_fast_retry);
        reloader.request();
        REQUIRE(run_until(io, [&] { return !reloader.busy(); }));
        const auto& stats = reloader.stats();
        CHECK(stats.attempts == 1);  // a rejected config is not retried
        CHECK(stats.succeeded == (row.success ? 1u : 0u));
        CHECK(stats.rejected == (row.success ? 0u : 1u));
        CHECK(stats.transport_failures == 0);
        if (!row.success && row.reply.find("8002") != std::string::npos) {
            CHECK(stats.last_error.find("Invalid prefix length 33") != std::string::npos);
        }
        CHECK(bird.commands == std::vector<std::string>{"configure"});
    }
}

TEST_CASE("a rejected config is retried on the next request", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    Exchange rejected;
    rejected.reply = "8002 /x/flock-anycast.conf:1:1 syntax error\n";
    ScriptedBird bird(io, dir.file("bird.ctl"), {rejected});
    BirdControlClient client(io, dir.file("bird.ctl"), 2s);
    BirdReloader reloader(io, client, k_fast_retry);
    reloader.request();
    REQUIRE(run_until(io, [&] { return reloader.stats().rejected == 1 && !reloader.busy(); }));
    reloader.request();
    REQUIRE(run_until(io, [&] { return reloader.stats().succeeded == 1; }));
    CHECK(reloader.stats().attempts == 2);
    CHECK(reloader.stats().last_error.empty());
}

TEST_CASE("BIRD absent, then appearing: the reload is retried until it lands", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    BirdControlClient client(io, dir.file("bird.ctl"), 2s);
    BirdReloader reloader(io, client, k_fast_retry);
    std::unique_ptr<ScriptedBird> bird;
    // BIRD "starts" after the third failed attempt.
    reloader.on_attempt_finished([&] {
        if (reloader.stats().transport_failures == 3 && !bird)
            bird = std::make_unique<ScriptedBird>(io, dir.file("bird.ctl"));
    });
    reloader.request();
    REQUIRE(run_until(io, [&] { return reloader.stats().succeeded == 1; }));
    CHECK(reloader.stats().transport_failures == 3);
    CHECK(reloader.stats().attempts == 4);
    CHECK(bird->commands == std::vector<std::string>{"configure"});
    CHECK_FALSE(reloader.busy());
}

TEST_CASE("a hung BIRD is retried after the timeout", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    Exchange stuck;
    stuck.hang_after_command = true;
    ScriptedBird bird(io, dir.file("bird.ctl"), {stuck});
    BirdControlClient client(io, dir.file("bird.ctl"), 50ms);
    BirdReloader reloader(io, client, k_fast_retry);
    reloader.request();
    REQUIRE(run_until(io, [&] { return reloader.stats().succeeded == 1; }));
    CHECK(reloader.stats().transport_failures == 1);
    CHECK(reloader.stats().last_error.empty());
    CHECK(bird.commands.size() == 2);
}

TEST_CASE("a burst of requests in one turn makes one reload", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    ScriptedBird bird(io, dir.file("bird.ctl"));
    BirdControlClient client(io, dir.file("bird.ctl"), 2s);
    BirdReloader reloader(io, client, k_fast_retry);
    for (int i = 0; i < 10; ++i) reloader.request();
    REQUIRE(run_until(io, [&] { return !reloader.busy(); }));
    CHECK(reloader.stats().requests == 10);
    CHECK(reloader.stats().attempts == 1);
    CHECK(bird.commands.size() == 1);
}

TEST_CASE("requests made while a reload is in flight make exactly one more", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    ScriptedBird bird(io, dir.file("bird.ctl"));
    BirdControlClient client(io, dir.file("bird.ctl"), 2s);
    BirdReloader reloader(io, client, k_fast_retry);
    bird.on_command = [&](const std::string&) {
        if (bird.commands.size() == 1) {
            for (int i = 0; i < 5; ++i) reloader.request();
        }
    };
    reloader.request();
    REQUIRE(run_until(io, [&] { return reloader.stats().succeeded == 2 && !reloader.busy(); }));
    CHECK(reloader.stats().attempts == 2);
    CHECK(bird.commands.size() == 2);
}

TEST_CASE("requests made while backing off join the retry", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    BirdControlClient client(io, dir.file("bird.ctl"), 2s);
    BirdReloader reloader(io, client, BirdReloadOptions{50ms, 50ms});
    std::unique_ptr<ScriptedBird> bird;
    reloader.on_attempt_finished([&] {
        if (reloader.stats().transport_failures == 1 && !bird) {
            for (int i = 0; i < 5; ++i) reloader.request();
            bird = std::make_unique<ScriptedBird>(io, dir.file("bird.ctl"));
        }
    });
    reloader.request();
    REQUIRE(run_until(io, [&] { return reloader.stats().succeeded == 1 && !reloader.busy(); }));
    CHECK(reloader.stats().attempts == 2);
    CHECK(bird->commands.size() == 1);
}

TEST_CASE("the publisher writes the rendered set and reloads only on a change", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    ScriptedBird bird(io, dir.file("bird.ctl"));
    const std::string fragment = dir.file("flock-anycast.conf");
    BirdPublisher publisher(io, BirdPublisherSettings{fragment, dir.file("bird.ctl"), 2s, k_fast_retry});
    const std::vector<Prefix> one{*Prefix::parse("10.255.53.53/32")};
    const std::vector<Prefix> two{*Prefix::parse("10.255.53.53/32"), *Prefix::parse("fd00:255::53/128")};

    publisher.publish(one);
    CHECK(read_text_file(fragment) == render_bird_sets(one));
    REQUIRE(run_until(io, [&] { return publisher.reload_stats().succeeded == 1; }));

    publisher.publish(one);  // unchanged: no reload
    REQUIRE(run_until(io, [&] { return !publisher.reloader().busy(); }));
    CHECK(publisher.reload_stats().attempts == 1);

    publisher.publish(two);
    REQUIRE(run_until(io, [&] { return publisher.reload_stats().succeeded == 2; }));
    CHECK(read_text_file(fragment) == render_bird_sets(two));

    publisher.publish({});
    REQUIRE(run_until(io, [&] { return publisher.reload_stats().succeeded == 3; }));
    CHECK(read_text_file(fragment).find("define FLOCK_ANYCAST_V4 = [ ];") != std::string::npos);
    CHECK(bird.commands.size() == 3);
}

TEST_CASE("a set that only shrank is written a moment later, and not at all if it grows back", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    ScriptedBird bird(io, dir.file("bird.ctl"));
    const std::string fragment = dir.file("flock-anycast.conf");
    BirdPublisher publisher(io, BirdPublisherSettings{fragment, dir.file("bird.ctl"), 2s, k_fast_retry, 100ms});
    const std::vector<Prefix> one{*Prefix::parse("10.255.53.53/32")};
    const std::vector<Prefix> two{*Prefix::parse("10.255.53.53/32"), *Prefix::parse("fd00:255::53/128")};
    const auto idle_for = [&](std::chrono::milliseconds span) {
        const auto until = std::chrono::steady_clock::now() + span;
        run_until(io, [&] { return std::chrono::steady_clock::now() >= until; });
    };

    publisher.publish(two);  // grew: at once
    CHECK(read_text_file(fragment) == render_bird_sets(two));
    REQUIRE(run_until(io, [&] { return publisher.reload_stats().succeeded == 1; }));

    publisher.publish(one);  // shrank, then back before the delay: nothing written or reloaded
    CHECK(read_text_file(fragment) == render_bird_sets(two));
    publisher.publish(two);
    idle_for(250ms);
    CHECK(read_text_file(fragment) == render_bird_sets(two));
    CHECK(publisher.reload_stats().attempts == 1);

    const auto shrunk_at = std::chrono::steady_clock::now();
    publisher.publish(one);
    publisher.publish({});  // shrinks further while waiting: the latest set is written, once
    REQUIRE(run_until(io, [&] { return publisher.reload_stats().succeeded == 2; }));
    CHECK(std::chrono::steady_clock::now() - shrunk_at >= 100ms);
    CHECK(read_text_file(fragment) == render_bird_sets({}));

    publisher.publish(one);  // grew again: at once
    CHECK(read_text_file(fragment) == render_bird_sets(one));
    REQUIRE(run_until(io, [&] { return publisher.reload_stats().succeeded == 3; }));
}

TEST_CASE("a shrink still waiting when the publisher goes is written, without a reload", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    ScriptedBird bird(io, dir.file("bird.ctl"));
    const std::string fragment = dir.file("flock-anycast.conf");
    const std::vector<Prefix> one{*Prefix::parse("10.255.53.53/32")};
    {
        BirdPublisher publisher(io, BirdPublisherSettings{fragment, dir.file("bird.ctl"), 2s, k_fast_retry, 10s});
        publisher.publish(one);
        REQUIRE(run_until(io, [&] { return publisher.reload_stats().succeeded == 1; }));
        publisher.publish({});
        CHECK(read_text_file(fragment) == render_bird_sets(one));
    }
    CHECK(read_text_file(fragment) == render_bird_sets({}));
    CHECK(bird.commands.size() == 1);
}

TEST_CASE("the publisher tells whether the include left behind announces nothing", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    const std::string fragment = dir.file("flock-anycast.conf");
    const auto left_behind = [&] {
        return BirdPublisher(io, BirdPublisherSettings{fragment, dir.file("bird.ctl"), 2s, k_fast_retry})
            .announces_nothing_yet();
    };
    CHECK(left_behind());  // no include at all
    std::ofstream(fragment) << render_bird_sets({}, "function flock_prefix_attributes()\n{\n}\n");
    CHECK(left_behind());  // empty sets, whatever the attributes
    std::ofstream(fragment) << render_bird_sets({*Prefix::parse("fd00:255::53/128")});
    CHECK_FALSE(left_behind());
    std::ofstream(fragment) << "# edited by hand\n";
    CHECK_FALSE(left_behind());  // not what serve writes: cannot tell
}

TEST_CASE("the first publish reloads even when the include already holds the set", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    ScriptedBird bird(io, dir.file("bird.ctl"));
    const std::string fragment = dir.file("flock-anycast.conf");
    std::ofstream(fragment) << render_bird_sets({});
    BirdPublisher publisher(io, BirdPublisherSettings{fragment, dir.file("bird.ctl"), 2s, k_fast_retry});
    publisher.publish({});
    REQUIRE(run_until(io, [&] { return publisher.reload_stats().succeeded == 1; }));
}

TEST_CASE("a burst of publishes makes one reload of the latest set", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    ScriptedBird bird(io, dir.file("bird.ctl"));
    const std::string fragment = dir.file("flock-anycast.conf");
    BirdPublisher publisher(io, BirdPublisherSettings{fragment, dir.file("bird.ctl"), 2s, k_fast_retry});
    // What BIRD would read at `configure` time.
    std::vector<std::string> seen_by_bird;
    bird.on_command = [&](const std::string&) { seen_by_bird.push_back(read_text_file(fragment)); };
    std::vector<Prefix> set;
    for (int i = 1; i <= 20; ++i) {
        set.push_back(*Prefix::parse("10.255.0." + std::to_string(i) + "/32"));
        publisher.publish(set);
    }
    REQUIRE(run_until(io, [&] { return !publisher.reloader().busy() && publisher.reload_stats().succeeded >= 1; }));
    CHECK(publisher.reload_stats().attempts == 1);
    REQUIRE(seen_by_bird.size() == 1);
    CHECK(seen_by_bird[0] == render_bird_sets(set));
}

TEST_CASE("a failed write does not reload and the next publish writes again", "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    ScriptedBird bird(io, dir.file("bird.ctl"));
    const std::string fragment = (std::filesystem::path(dir.path()) / "sub" / "flock-anycast.conf").string();
    BirdPublisher publisher(io, BirdPublisherSettings{fragment, dir.file("bird.ctl"), 2s, k_fast_retry});
    const std::vector<Prefix> one{*Prefix::parse("10.255.53.53/32")};
    publisher.publish(one);
    CHECK_FALSE(publisher.last_write_ok());
    CHECK_FALSE(publisher.reloader().busy());
    std::filesystem::create_directory(std::filesystem::path(dir.path()) / "sub");
    publisher.publish(one);
    CHECK(publisher.last_write_ok());
    REQUIRE(run_until(io, [&] { return publisher.reload_stats().succeeded == 1; }));
    CHECK(read_text_file(fragment) == render_bird_sets(one));
}

TEST_CASE("a failed write of the include is retried with backoff until it succeeds, the newest set first, and counted",
          "[unit][bird]") {
    asio::io_context io;
    TempDir dir;
    ScriptedBird bird(io, dir.file("bird.ctl"));
    const std::string fragment = (std::filesystem::path(dir.path()) / "sub" / "flock-anycast.conf").string();
    BirdPublisherSettings settings{fragment, dir.file("bird.ctl"), 2s, k_fast_retry};
    settings.write_retry_initial = 10ms;
    settings.write_retry_max = 40ms;
    BirdPublisher publisher(io, settings);
    const std::vector<Prefix> one{*Prefix::parse("10.255.53.53/32")};
    const std::vector<Prefix> two{*Prefix::parse("10.255.53.53/32"), *Prefix::parse("fd00:255::53/128")};
    publisher.publish(one);
    publisher.publish(two);  // replaces `one`, which never gets written
    CHECK(publisher.write_failures() == 2);
    // No further publish: the retries alone keep trying (and counting) while the directory is missing.
    REQUIRE(run_until(io, [&] { return publisher.write_failures() >= 4; }));
    CHECK_FALSE(publisher.last_write_ok());
    CHECK(publisher.reload_stats().attempts == 0);
    CHECK(publisher.reload_counts()->include_write_failures == publisher.write_failures());

    std::filesystem::create_directory(std::filesystem::path(dir.path()) / "sub");
    REQUIRE(run_until(io, [&] { return publisher.last_write_ok() && publisher.reload_stats().succeeded == 1; }));
    CHECK(read_text_file(fragment) == render_bird_sets(two));
    const auto failures = publisher.write_failures();
    io.run_for(100ms);  // written: no retry is left armed
    CHECK(publisher.write_failures() == failures);
    CHECK(publisher.reload_stats().attempts == 1);
}

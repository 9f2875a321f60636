// The soak (issue 15 item B.4): serve beside a real BIRD that peers with a second BIRD (the BIRD
// lab, test/support/bird_lab.hpp, in private namespaces), under random churn for a given time,
// with invariants checked after every round of churn. Run by test/soak.sh; usage:
//   soak_driver --minutes M [--seed N] [--kill-every SECONDS] [--settle-ms N] [--bird-settle-ms N]
//               [--keep DIR]   (DIR gets the lab's logs when a violation was seen)
//
// Churn: attachments added and removed by the real CNI plugin (ADD/DEL run as a runtime runs
// them, in the node's namespace) and through the record store (put, re-put with other
// addresses, remove); readiness flips (ready, not ready, deleting); our routes tampered with
// by hand (deleted, replaced with other hops, one hop of an IPv6 multipath route deleted);
// foreign routes added and removed (table 241 with another protocol, the main table on one of
// our destinations, protocol 241 in another table); kill -9 of serve and of the node's BIRD,
// each restarted; SIGHUP with and without a changed config.
//
// Invariants, after every round (each waited for up to a settle bound, never slept on):
//   kernel  our routes (table 241, protocol 241) == the routes the driver's own model wants;
//   bird    the node's BIRD exports over BGP, and the router installs, exactly those prefixes;
//   foreign every foreign route is still there, byte for byte;
//   serve   alive (not crashed), fds and VmRSS within a bound of its first sample.
// Prints a summary; exits 1 on any violation, 2 when the lab cannot be set up.
#include "test/reliability/soak.hpp"

namespace anycast::test::soak {

std::atomic<bool> g_stop{false};

namespace {
extern "C" void on_stop_signal(int) { g_stop = true; }
}  // namespace

int Soak::run() {
    const auto begin = Clock::now();
    const auto end = begin + std::chrono::milliseconds(static_cast<long>(options_.minutes * 60000));
    PrivateNetns netns;  // even when run without unshare: nothing here touches the host's namespace
    try {
        lab_ = std::make_unique<BirdLab>();
        for (int i = 3; i <= k_pods; ++i) add_pod(i);
        state_dir_ = lab_->dir.file("state");
        pods_.assign(k_pods, PodModel{});
        write_config(60);
        write_readiness();
        // The foreign routes of the start: one of each kind.
        for (int i = 0; i < 4; ++i) add_foreign();
        std::cout << fmt::format("soak: {} foreign routes at the start", foreign_.size()) << std::endl;
        churn_.clear();
        start_serve();
    } catch (const std::exception& e) {
        std::cerr << "soak: lab set-up failed: " << e.what() << std::endl;
        return 2;
    }
    std::cout << fmt::format("soak: {:.1f} minutes, seed {}, lab {} (serve log {})", options_.minutes, options_.seed,
                             lab_->dir.path(), lab_->dir.file("serve.log"))
              << std::endl;
    auto next_progress = Clock::now() + 30s;
    int passed_rounds = 0;
    try {
        check_round();
        next_kill_serve_ = next_kill(Clock::now());
        next_kill_bird_ = next_kill(Clock::now());
        while (Clock::now() < end && !g_stop) {
            ++iterations_;
            restart_due();
            if (!serve_down_until_ && Clock::now() >= next_kill_serve_) {
                op_kill_serve();
                next_kill_serve_ = next_kill(Clock::now());
            }
            if (!bird_down_until_ && Clock::now() >= next_kill_bird_) {
                op_kill_bird();
                next_kill_bird_ = next_kill(Clock::now());
            }
            for (int i = 1 + pick(3); i > 0; --i) churn_once();
            if (check_round()) ++passed_rounds;
            if (Clock::now() >= next_progress) {
                next_progress += 30s;
                std::cout << fmt::format("soak: {:.0f} s, {} rounds, {} violations",
                                         std::chrono::duration<double>(Clock::now() - begin).count(), iterations_,
                                         violations_)
                          << std::endl;
            }
        }
        // A last round with serve and BIRD both up, whatever was down when the time ran out.
        if (serve_down_until_) serve_down_until_ = Clock::now();
        if (bird_down_until_) bird_down_until_ = Clock::now();
        restart_due();
        ++iterations_;
        if (check_round()) ++passed_rounds;
    } catch (const std::exception& e) {
        violation("driver", std::string("the driver failed: ") + e.what());
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();

    // The store after all this: no record quarantined (nothing half-written was ever read),
    // no temp file left behind by a writer.
    for (const char* sub : {"quarantine", "tmp"}) {
        const std::string left = sh_result("ls -A " + state_dir_ + "/" + sub + " 2>/dev/null").out;
        if (left.empty()) {
            ++passed_["store"];
        } else {
            violation("store", std::string(sub) + "/ holds:\n" + left);
        }
    }

    // Serve's log: errors and warnings by message.
    std::map<std::string, int> log_errors, log_warnings;
    {
        std::istringstream lines(read_text_file(lab_->dir.file("serve.log")));
        for (std::string line; std::getline(lines, line);) {
            const auto at = line.find(" msg=");
            if (at == std::string::npos) continue;
            auto msg = line.substr(at + 5);
            msg = msg[0] == '"' ? msg.substr(0, msg.find('"', 1) + 1) : msg.substr(0, msg.find(' '));
            if (line.find(" level=error ") != std::string::npos) ++log_errors[msg];
            if (line.find(" level=warn ") != std::string::npos) ++log_warnings[msg];
        }
    }
    // Temp files of the include left by a killed serve (written beside it, renamed over it).
    int include_temps = 0;
    {
        const std::string listing = sh_result("ls -a " + lab_->dir.path()).out;
        std::istringstream names(listing);
        for (std::string name; std::getline(names, name);) {
            if (name.rfind("flock-anycast.conf.tmp", 0) == 0) ++include_temps;
        }
    }

    // Summary.
    int operations = 0;
    std::string churn_text;
    for (const auto& [kind, n] : churn_) {
        operations += n;
        churn_text += fmt::format(" {}={}", kind, n);
    }
    std::string checks_text;
    int checks_passed = 0, checks_failed = 0;
    for (const char* kind : {"kernel", "bird", "bird-dead", "foreign", "serve-alive", "store"}) {
        checks_passed += passed_[kind];
        checks_text += fmt::format(" {} {}/{}", kind, passed_[kind], passed_[kind] + failed_[kind]);
    }
    for (const auto& [kind, n] : failed_) checks_failed += n;
    const auto percentile = [](std::vector<long> v, double p) -> long {
        if (v.empty()) return -1;
        std::sort(v.begin(), v.end());
        return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
    };
    const Instance& first = instances_.front();
    const Instance& last = instances_.back();
    const Instance* longest = &instances_.front();
    for (const auto& instance : instances_) {
        if (instance.samples > longest->samples) longest = &instance;
    }
    std::cout << "\n=== soak summary\n";
    std::cout << fmt::format("run: {:.1f} s ({:.1f} minutes asked), seed {}\n", elapsed, options_.minutes,
                             options_.seed);
    std::cout << fmt::format("iterations: {} rounds, {} churn operations ({} rounds clean)\n", iterations_, operations,
                             passed_rounds);
    std::cout << "churn:" << churn_text << "\n";
    std::cout << fmt::format(
        "routed set per round: mean {:.1f} routes with {:.1f} hops, max {} routes; "
        "{} rounds had a multipath route\n",
        static_cast<double>(model_routes_total_) / std::max(1, iterations_ + 1),
        static_cast<double>(model_hops_total_) / std::max(1, iterations_ + 1), model_routes_max_, multipath_rounds_);
    std::cout << fmt::format(
        "kills survived: serve {} (kill -9, restarted), bird {} (kill -9, restarted); "
        "serve crashes {}\n",
        serve_kills_, bird_kills_, serve_crashes_);
    std::cout << fmt::format("invariant checks: {} passed, {} failed;{}\n", checks_passed, checks_failed, checks_text);
    std::cout << fmt::format("settle: kernel median {} ms, p99 {} ms, max {} ms; bird median {} ms, max {} ms\n",
                             percentile(settle_ms_, 0.5), percentile(settle_ms_, 0.99), percentile(settle_ms_, 1.0),
                             percentile(bird_settle_ms_, 0.5), percentile(bird_settle_ms_, 1.0));
    std::cout << fmt::format("serve fds: first {}, last {} (max {}); VmRSS: first {} KiB, last {} KiB (max {} KiB)\n",
                             first.first.fds, last.last.fds, last.max.fds, first.first.rss_kib, last.last.rss_kib,
                             last.max.rss_kib);
    std::cout << fmt::format(
        "longest-lived serve (pid {}, {} samples, {:.0f} s): fds {} -> {} (max {}), "
        "VmRSS {} -> {} KiB (max {})\n",
        longest->pid, longest->samples,
        std::chrono::duration<double>((longest == &instances_.back() ? Clock::now() : (longest + 1)->started) -
                                      longest->started)
            .count(),
        longest->first.fds, longest->last.fds, longest->max.fds, longest->first.rss_kib, longest->last.rss_kib,
        longest->max.rss_kib);
    std::cout << fmt::format("serve instances: {}; include temp files left by killed serves: {}\n", instances_.size(),
                             include_temps);
    std::cout << "serve log errors:";
    for (const auto& [msg, n] : log_errors) std::cout << " " << msg << " x" << n << ";";
    std::cout << "\nserve log warnings:";
    for (const auto& [msg, n] : log_warnings) std::cout << " " << msg << " x" << n << ";";
    std::cout << "\n";
    for (const auto& line : violation_log_) std::cout << line << "\n";
    if (violations_ > 0 && !options_.keep_dir.empty()) {
        // The lab's directory goes with the lab: keep what explains the failure.
        sh_result("mkdir -p " + options_.keep_dir + " && cp -a " + lab_->dir.path() + "/. " + options_.keep_dir);
        std::cout << "lab files (serve.log, BIRD logs, config, pods.json, state) kept in " << options_.keep_dir << "\n";
    }
    std::cout << (violations_ == 0 ? "result: PASS" : fmt::format("result: FAIL ({} violations)", violations_))
              << std::endl;
    serve_.reset();
    lab_.reset();
    return violations_ == 0 ? 0 : 1;
}

}  // namespace anycast::test::soak

using namespace anycast::test::soak;

int main(int argc, char** argv) {
    Options options;
    options.seed = std::random_device{}();
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "soak_driver: " << arg << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--minutes") {
            options.minutes = std::stod(value());
        } else if (arg == "--seed") {
            options.seed = std::stoull(value());
        } else if (arg == "--settle-ms") {
            options.settle = std::chrono::milliseconds(std::stol(value()));
        } else if (arg == "--keep") {
            options.keep_dir = value();
        } else if (arg == "--kill-every") {
            options.kill_every_seconds = std::stod(value());
        } else if (arg == "--bird-settle-ms") {
            options.bird_settle = std::chrono::milliseconds(std::stol(value()));
        } else {
            std::cerr << "usage: soak_driver --minutes M [--seed N] [--kill-every SECONDS] [--settle-ms N] "
                         "[--bird-settle-ms N] [--keep DIR]\n";
            return 2;
        }
    }
    if (::geteuid() != 0) {
        std::cerr << "soak_driver: needs root (network namespaces, BIRD)\n";
        return 2;
    }
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    return Soak(options).run();
}

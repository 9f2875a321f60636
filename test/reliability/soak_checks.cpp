// The soak's invariants and the serve figures it samples (test/reliability/soak.hpp).
#include "test/reliability/soak.hpp"

namespace anycast::test::soak {

// The prefixes the BIRD include lists ("define FLOCK_ANYCAST_V4 = [ 10.255.60.1/32, ... ];").
std::set<std::string> Soak::include_prefixes() const {
    std::set<std::string> out;
    std::istringstream words(read_text_file(lab_->fragment_path));
    for (std::string word; words >> word;) {
        while (!word.empty() && (word.back() == ',' || word.back() == ';')) word.pop_back();
        if (word.find('/') != std::string::npos) out.insert(word);
    }
    return out;
}

RouteMap Soak::kernel() const {
    std::string text;
    for (const char* family : {"-4", "-6"}) {
        // "FIB table does not exist": no route of that family in table 241 yet.
        text += ServeLab::show(node_ip(std::string("-o ") + family + " route show table 241 proto 241"));
    }
    return parse_routes(text);
}

std::set<std::string> Soak::router_set() const {
    return anycast_destinations(lab_->router.exec("ip -4 route show proto bird; ip -6 route show proto bird"));
}

std::set<std::string> Soak::node_export_set() const {
    std::set<std::string> out;
    for (const char* protocol : {"router4", "router6"}) {
        const auto result =
            run_process({"birdc", "-s", lab_->node_bird->socket(), std::string("show route export ") + protocol});
        if (result.exit_code != 0) return {"(birdc failed)"};
        const auto prefixes = bird_prefixes(result.out);
        out.insert(prefixes.begin(), prefixes.end());
    }
    return out;
}

void Soak::violation(const std::string& kind, const std::string& text) {
    ++violations_;
    ++failed_[kind];
    const std::string line = fmt::format("VIOLATION [{}] round {}: {}", kind, iterations_, text);
    violation_log_.push_back(line);
    std::cerr << line << std::endl;
}

void Soak::sample_serve() {
    Instance& instance = instances_.back();
    const ProcessSample now = sample_process(instance.pid);
    if (now.fds < 0 || now.rss_kib < 0) return;
    if (instance.samples++ == 0) instance.first = instance.max = now;
    instance.last = now;
    instance.max.fds = std::max(instance.max.fds, now.fds);
    instance.max.rss_kib = std::max(instance.max.rss_kib, now.rss_kib);
    // Bounds: a few fds in flight (a BIRD control connection, a scrape); memory may settle
    // a little above its first converged figure, never grow with the churn.
    const long fd_bound = instance.first.fds + 8;
    const long rss_bound = instance.first.rss_kib + std::max(8L * 1024, instance.first.rss_kib / 2);
    if (now.fds > fd_bound) {
        violation("serve", fmt::format("serve pid {} holds {} fds, first {} (bound {})", instance.pid, now.fds,
                                       instance.first.fds, fd_bound));
    }
    if (now.rss_kib > rss_bound) {
        violation("serve", fmt::format("serve pid {} VmRSS {} KiB, first {} KiB (bound {})", instance.pid, now.rss_kib,
                                       instance.first.rss_kib, rss_bound));
    }
}

bool Soak::check_round() {
    const int before = violations_;
    // serve alive: a crash is a violation; it is restarted so the soak goes on.
    const bool serve_down = serve_down_until_.has_value();
    siginfo_t info{};
    const std::string how =
        ::waitid(P_PID, static_cast<id_t>(serve_->pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0
            ? (info.si_code == CLD_EXITED ? fmt::format("exit status {}", info.si_status)
                                          : fmt::format("signal {}", strsignal(info.si_status)))
            : std::string("?");
    if (serve_down) {
        // Killed on purpose; restarted by restart_due().
    } else if (!serve_->alive()) {
        ++serve_crashes_;
        violation("serve",
                  fmt::format("serve pid {} exited on its own ({}); its log's last lines:\n{}", instances_.back().pid,
                              how, sh_result("tail -n 15 " + lab_->dir.file("serve.log")).out));
        start_serve();
        restarted_this_round_ = true;
    } else {
        ++passed_["serve-alive"];
    }

    // kernel == model.
    const RouteMap want = desired();
    model_routes_total_ += static_cast<long>(want.size());
    model_routes_max_ = std::max(model_routes_max_, want.size());
    bool multipath = false;
    for (const auto& [destination, hops] : want) {
        model_hops_total_ += static_cast<long>(hops.size());
        multipath = multipath || hops.size() > 1;
    }
    if (multipath) ++multipath_rounds_;
    RouteMap have;
    const auto started = Clock::now();
    if (serve_down) {
        // Nobody converges the kernel now; BIRD must still announce exactly what it holds.
        have = kernel();
    } else if (wait_until(
                   [&] {
                       have = kernel();
                       return have == want;
                   },
                   options_.settle, 25ms)) {
        ++passed_["kernel"];
        settle_ms_.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
    } else {
        violation("kernel", "table 241 differs from the model after " + std::to_string(options_.settle.count()) +
                                " ms\nwanted:\n" + describe(want) + "kernel:\n" + describe(have));
    }

    // BIRD == the installed set: the model's, which the kernel now holds. While serve is down,
    // what BIRD may announce is what the kernel holds and the include (as serve left it)
    // lists: a route tampered into the kernel meanwhile is not announced until serve is back.
    // While the node's BIRD is dead the router must have nothing.
    std::set<std::string> prefixes = keys(want);
    if (serve_down) {
        const std::set<std::string> listed = include_prefixes();
        prefixes.clear();
        for (const auto& destination : keys(have)) {
            if (listed.contains(destination)) prefixes.insert(destination);
        }
    }
    std::set<std::string> exported, received;
    const auto bird_started = Clock::now();
    if (bird_down_until_) {
        if (wait_until([&] { return (received = router_set()).empty(); }, options_.bird_settle, 50ms)) {
            ++passed_["bird-dead"];
        } else {
            violation("bird-dead", "the node's BIRD is dead but the router still has " + join(received));
        }
    } else if (wait_until(
                   [&] {
                       exported = node_export_set();
                       if (exported != prefixes) return false;
                       received = router_set();
                       return received == prefixes;
                   },
                   restarted_this_round_ ? options_.restart_settle : options_.bird_settle, 50ms)) {
        ++passed_["bird"];
        bird_settle_ms_.push_back(
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - bird_started).count());
    } else {
        received = router_set();
        const auto birdc = [&](const std::string& command) {
            const auto result = run_process({"birdc", "-s", lab_->node_bird->socket(), command});
            return "  $ birdc " + command + "\n" + result.out + result.err;
        };
        violation("bird",
                  fmt::format("installed {}\n  node BIRD exports {}\n  router received {}\n{}{}{}{}  include:\n{}"
                              "  kernel:\n{}",
                              join(prefixes), join(exported), join(received), birdc("show route table flock4"),
                              birdc("show route table flock6"), birdc("show route table master4"),
                              birdc("show protocols"), read_text_file(lab_->fragment_path), describe(kernel())));
    }

    // Foreign routes untouched.
    bool foreign_ok = true;
    for (const auto& foreign : foreign_) {
        const std::string now = sh_result(foreign.show).out;
        if (now != foreign.expected) {
            foreign_ok = false;
            violation("foreign", "`" + foreign.show + "` printed\n" + now + "instead of\n" + foreign.expected);
        }
    }
    if (foreign_ok) ++passed_["foreign"];

    if (!serve_down) sample_serve();
    restarted_this_round_ = false;
    return violations_ == before;
}

}  // namespace anycast::test::soak

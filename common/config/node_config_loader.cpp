#include "common/config/node_config_loader.hpp"

#include "common/config/bgp_settings_loader.hpp"
#include "common/config/policy.hpp"
#include "common/json_reader.hpp"
#include "common/log.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace anycast::common {

namespace json = boost::json;

namespace {

Policy parse_policy(const JsonReader& reader) {
    Policy policy;
    if (auto allowed = reader.member("allowedPrefixes")) {
        for (const auto& element : allowed->elements()) policy.allowed_prefixes.push_back(element.as_prefix());
    }
    if (auto namespaces = reader.member("namespaces")) {
        for (const auto& [name, prefixes] : namespaces->members()) {
            if (name.empty()) prefixes.fail("namespace name is empty");
            auto& list = policy.namespaces[name];
            // A listed namespace with null or [] may claim nothing: keep the (empty) entry.
            if (prefixes.is_null()) continue;
            for (const auto& element : prefixes.elements()) list.push_back(element.as_prefix());
        }
        // A listed namespace's prefixes are exclusive to it: two cannot share one.
        if (auto overlap = overlapping_namespaces(policy)) {
            namespaces->fail(*overlap + ": a listed namespace's prefixes are its alone");
        }
    }
    return policy;
}

RouteSettings parse_routes(const JsonReader& reader) {
    RouteSettings routes;
    // Kernel route protocol numbers are one byte; 0-4 are reserved for the kernel and boot.
    routes.protocol = static_cast<int>(reader.int_or("protocol", routes.protocol, 5, 255));
    // Table 0 is "unspecified" and 255 the kernel's local table: neither can hold our routes.
    routes.table =
        static_cast<std::uint32_t>(reader.int_or("table", routes.table, 1, std::numeric_limits<std::uint32_t>::max()));
    if (routes.table == 255) reader.required("table").fail("255 is the kernel's local table");
    routes.rule_priority = static_cast<std::uint32_t>(
        reader.int_or("rulePriority", routes.rule_priority, 1, std::numeric_limits<std::uint32_t>::max()));
    if (auto ecmp = reader.member("ecmp")) {
        const std::string text = ecmp->as_string();
        if (text == "resilient") {
            routes.ecmp = EcmpMode::resilient;
        } else if (text == "multipath") {
            routes.ecmp = EcmpMode::multipath;
        } else {
            ecmp->fail(fmt::format("unknown ECMP mode \"{}\" (resilient or multipath)", text));
        }
    }
    // NHA_RES_GROUP_BUCKETS is 16 bits; fewer buckets than pods would leave pods without
    // traffic, and a coarse table balances badly.
    routes.resilient_buckets =
        static_cast<std::uint16_t>(reader.int_or("resilientBuckets", routes.resilient_buckets, 16, 65535));
    // The kernel keeps the timer in clock ticks (USER_HZ 100) in 32 bits; an hour is plenty.
    routes.resilient_idle_seconds =
        static_cast<std::uint32_t>(reader.int_or("resilientIdleSeconds", routes.resilient_idle_seconds, 0, 3600));
    return routes;
}

ReadinessSettings parse_readiness(const JsonReader& reader) {
    ReadinessSettings readiness;
    if (auto source = reader.member("source")) {
        const std::string text = source->as_string();
        if (text == "kubernetes") {
            readiness.source = ReadinessSourceKind::kubernetes;
        } else if (text == "file") {
            readiness.source = ReadinessSourceKind::file;
        } else if (text == "always") {
            readiness.source = ReadinessSourceKind::always;
        } else {
            source->fail(fmt::format("unknown readiness source \"{}\" (kubernetes, file or always)", text));
        }
    }
    readiness.file = reader.string_or("file", readiness.file);
    if (readiness.source == ReadinessSourceKind::file && readiness.file.empty()) {
        reader.fail("file: empty, but source is \"file\"");
    }
    return readiness;
}

BirdSettings parse_bird(const JsonReader& reader) {
    BirdSettings bird;
    bird.enabled = reader.bool_or("enabled", bird.enabled);
    bird.fragment = reader.string_or("fragment", bird.fragment);
    bird.socket = reader.string_or("socket", bird.socket);
    bird.config = reader.string_or("config", bird.config);
    return bird;
}

// "key" or "key:Effect", as kubectl writes a taint without its value.
DrainTaint parse_drain_taint(const JsonReader& reader) {
    const std::string text = reader.as_string();
    const auto colon = text.rfind(':');
    DrainTaint taint{text.substr(0, colon), colon == std::string::npos ? "" : text.substr(colon + 1)};
    if (taint.key.empty() || taint.key.find_first_of(" \t=") != std::string::npos) {
        reader.fail(fmt::format("\"{}\": expected a taint key, optionally with \":<effect>\"", text));
    }
    if (colon != std::string::npos && taint.effect != "NoSchedule" && taint.effect != "PreferNoSchedule" &&
        taint.effect != "NoExecute") {
        reader.fail(
            fmt::format("unknown taint effect \"{}\" (NoSchedule, PreferNoSchedule or NoExecute)", taint.effect));
    }
    return taint;
}

DrainSettings parse_drain(const JsonReader& reader) {
    DrainSettings drain;
    drain.local_preference = static_cast<std::uint32_t>(
        reader.int_or("localPreference", drain.local_preference, 0, std::numeric_limits<std::uint32_t>::max()));
    drain.graceful_seconds = static_cast<int>(reader.int_or("gracefulSeconds", drain.graceful_seconds, 0, 3600));
    if (auto watch = reader.member("watchNode")) drain.watch_node = watch->as_bool();
    if (auto taints = reader.member("taints")) {
        for (const auto& element : taints->elements()) {
            DrainTaint taint = parse_drain_taint(element);
            if (std::find(drain.taints.begin(), drain.taints.end(), taint) != drain.taints.end())
                element.fail("listed twice");
            drain.taints.push_back(std::move(taint));
        }
    }
    return drain;
}

std::string parse_log_level(const JsonReader& reader) {
    auto level = reader.member("logLevel");
    if (!level) return "info";
    const std::string text = level->as_string();
    log::Level parsed{};
    if (!log::parse_level(text, parsed)) {
        level->fail(fmt::format("unknown log level \"{}\" (debug, info, warn or error)", text));
    }
    return text;
}

NodeConfig parse_fields(const JsonReader& root) {
    root.as_object();  // "expected an object" for anything else
    NodeConfig config;
    config.node = root.string_or("node", "");
    config.state_dir = root.string_or("stateDir", config.state_dir);
    if (config.state_dir.empty()) root.required("stateDir").fail("must not be empty");
    if (auto policy = root.member("policy")) config.policy = parse_policy(*policy);
    config.annotation = root.string_or("annotation", config.annotation);
    config.kubeconfig = root.string_or("kubeconfig", config.kubeconfig);
    if (auto routes = root.member("routes")) config.routes = parse_routes(*routes);
    if (auto readiness = root.member("readiness")) config.readiness = parse_readiness(*readiness);
    if (auto bird = root.member("bird")) config.bird = parse_bird(*bird);
    if (auto bgp = root.member("bgp")) config.bgp = parse_bgp(*bgp);
    if (auto drain = root.member("drain")) config.drain = parse_drain(*drain);
    config.resync_seconds = static_cast<int>(root.int_or("resyncSeconds", config.resync_seconds, 1, 86400));
    if (auto metrics = root.member("metrics"))
        config.metrics.listen = metrics->string_or("listen", config.metrics.listen);
    config.log_file = root.string_or("logFile", config.log_file);
    config.log_level = parse_log_level(root);
    if (config.node.empty()) config.node = default_node_name();
    // The Node object is read with the readiness source's Kubernetes access: without it there
    // is nothing to watch.
    if (config.drain.watch_node.value_or(false) && config.readiness.source != ReadinessSourceKind::kubernetes) {
        root.required("drain").required("watchNode").fail("true needs readiness.source \"kubernetes\"");
    }
    return config;
}

}  // namespace

NodeConfig parse_node_config(const json::value& doc, std::string_view source) {
    try {
        return parse_fields(JsonReader(doc));
    } catch (const JsonError& e) {
        const std::string path = e.path().empty() ? "(top level)" : e.path();
        throw ConfigError(fmt::format("{}: {}: {}", source, path, e.problem()));
    }
}

json::value read_config_document(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ConfigError(fmt::format("{}: read failed: {}", path, std::strerror(errno)));
    try {
        return parse_json(text.str(), path);
    } catch (const JsonError& e) {
        throw ConfigError(e.what());
    }
}

NodeConfig load_node_config(const std::string& path) { return parse_node_config(read_config_document(path), path); }

json::value merge_config(const json::value& base, const json::value& overrides) {
    if (!base.is_object() || !overrides.is_object()) return overrides;
    json::object merged = base.get_object();
    for (const auto& [key, value] : overrides.get_object()) {
        if (auto* existing = merged.if_contains(key); existing && existing->is_object() && value.is_object()) {
            *existing = merge_config(*existing, value);
        } else {
            merged[key] = value;
        }
    }
    return merged;
}

json::object node_config_fields(const json::object& doc) {
    static constexpr std::string_view k_fields[] = {
        "node", "stateDir", "policy", "annotation",    "kubeconfig", "routes",  "readiness",
        "bird", "bgp",      "drain",  "resyncSeconds", "metrics",    "logFile", "logLevel",
    };
    json::object fields;
    for (const auto name : k_fields) {
        if (const auto* value = doc.if_contains(name)) fields[name] = *value;
    }
    return fields;
}

std::string default_node_name() {
    if (const char* env = std::getenv("NODE_NAME"); env && *env) return env;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return {};
    return host;
}

}  // namespace anycast::common

#include "cni/spec/environment.hpp"

#include "cni/spec/cni_error.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>

namespace anycast::cni {

EnvLookup process_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (!value) return std::nullopt;
        return std::string(value);
    };
}

namespace {

[[noreturn]] void bad(std::string_view variable, const std::string& problem) {
    throw CniError(cni_code::invalid_environment, fmt::format("{}: {}", variable, problem));
}

Verb parse_verb(const std::string& command) {
    if (command == "ADD") return Verb::add;
    if (command == "DEL") return Verb::del;
    if (command == "CHECK") return Verb::check;
    if (command == "GC") return Verb::gc;
    if (command == "STATUS") return Verb::status;
    if (command == "VERSION") return Verb::version;
    throw CniError(
        cni_code::invalid_environment,
        command.empty() ? "CNI_COMMAND: missing" : fmt::format("CNI_COMMAND: unknown command \"{}\"", command),
        "supported: ADD, DEL, CHECK, GC, STATUS, VERSION");
}

std::string require(const EnvLookup& env, const char* name) {
    auto value = env(name);
    if (!value || value->empty()) bad(name, "missing");
    return *value;
}

// Spec: the container ID is alphanumeric plus '_', '.' and '-', starting with alphanumeric.
void check_container_id(const std::string& id) {
    if (!std::isalnum(static_cast<unsigned char>(id.front())))
        bad("CNI_CONTAINERID", fmt::format("\"{}\" must start with a letter or digit", id));
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
            bad("CNI_CONTAINERID",
                fmt::format("\"{}\" contains '{}' (allowed: letters, digits, '_', '.', '-')", id, c));
        }
    }
}

// Linux interface names: at most 15 bytes, no '/', ':' or whitespace, not "." or "..".
void check_ifname(const std::string& name) {
    if (name.size() > 15) bad("CNI_IFNAME", fmt::format("\"{}\" is longer than 15 characters", name));
    if (name == "." || name == "..") bad("CNI_IFNAME", fmt::format("\"{}\" is not an interface name", name));
    for (char c : name) {
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) {
            bad("CNI_IFNAME", fmt::format("\"{}\" contains an invalid character", name));
        }
    }
}

}  // namespace

CniEnvironment read_environment(const EnvLookup& env) {
    CniEnvironment result;
    result.command = env("CNI_COMMAND").value_or("");
    result.verb = parse_verb(result.command);
    const bool attachment = result.verb == Verb::add || result.verb == Verb::del || result.verb == Verb::check;
    if (attachment) {
        result.container_id = require(env, "CNI_CONTAINERID");
        check_container_id(result.container_id);
        result.ifname = require(env, "CNI_IFNAME");
        check_ifname(result.ifname);
        if (result.verb == Verb::del) {
            result.netns = env("CNI_NETNS").value_or("");
        } else {
            result.netns = require(env, "CNI_NETNS");
        }
        result.args = parse_cni_args(env("CNI_ARGS").value_or(""));
    }
    return result;
}

}  // namespace anycast::cni

#include "cni/spec/net_config.hpp"

#include "cni/spec/versions.hpp"
#include "cni/spec/cni_error.hpp"
#include "common/json_reader.hpp"
#include "common/config/node_config_loader.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

namespace anycast::cni {

namespace json = boost::json;
using common::JsonError;
using common::JsonReader;
namespace code = cni_code;

namespace {

constexpr std::string_view k_valid_attachments = "cni.dev/valid-attachments";

bool blank(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; });
}

std::string supported_list() {
    std::string list;
    for (auto v : k_supported_versions) list += (list.empty() ? "" : ", ") + std::string(v);
    return "supported: " + list;
}

std::vector<Attachment> read_attachments(const JsonReader& reader) {
    std::vector<Attachment> result;
    for (const auto& element : reader.elements()) {
        result.push_back(
            Attachment{element.required("containerID").as_string(), element.required("ifname").as_string()});
    }
    return result;
}

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

// The node config: the file (named or default), then the inline fields over it. Each part is
// validated alone first so an error names where the bad value came from.
common::NodeConfig read_node_config(const JsonReader& root, const std::string& default_config_path) {
    json::value file_doc = json::object{};
    std::string source;
    if (auto named = root.member("configFile")) {
        source = named->as_string();
        if (source.empty()) named->fail("must not be empty");
    } else if (file_exists(default_config_path)) {
        source = default_config_path;
    }
    if (!source.empty()) {
        try {
            file_doc = common::read_config_document(source);
            common::parse_node_config(file_doc, source);
        } catch (const common::ConfigError& e) {
            throw CniError(code::invalid_config, fmt::format("configFile: {}", e.what()));
        }
    }
    const json::value inline_doc = common::node_config_fields(root.as_object());
    try {
        common::parse_node_config(inline_doc, "network config");
        return common::parse_node_config(common::merge_config(file_doc, inline_doc),
                                         source.empty() ? "network config" : source + " + network config");
    } catch (const common::ConfigError& e) {
        throw CniError(code::invalid_config, e.what());
    }
}

NetConfig parse_fields(const JsonReader& root, const std::string& default_config_path) {
    root.as_object();
    NetConfig config;
    config.cni_version = root.required("cniVersion").as_string();
    if (!is_supported_version(config.cni_version)) {
        throw CniError(code::incompatible_version,
                       fmt::format("cniVersion: unsupported version \"{}\"", config.cni_version), supported_list());
    }
    if (auto versions = root.member("cniVersions")) versions->as_string_list();
    config.name = root.required("name").as_string();
    if (config.name.empty()) root.required("name").fail("must not be empty");
    if (auto prev = root.member("prevResult")) config.prev_result = prev->as_object();
    if (auto runtime = root.member("runtimeConfig")) config.runtime_config = runtime->as_object();
    if (auto ips = root.member("anycastIPs")) {
        for (const auto& ip : ips->elements()) config.static_ips.push_back(ip.as_ip());
    }
    if (auto attachments = root.member(k_valid_attachments)) config.valid_attachments = read_attachments(*attachments);
    config.node = read_node_config(root, default_config_path);
    return config;
}

}  // namespace

NetConfig parse_net_config(std::string_view text, const std::string& default_config_path) {
    if (blank(text)) {
        throw CniError(code::decoding_failure, "stdin: empty, expected the network configuration JSON");
    }
    json::value doc;
    try {
        doc = common::parse_json(text, "stdin");
    } catch (const JsonError& e) {
        throw CniError(code::decoding_failure, e.what());
    }
    try {
        return parse_fields(JsonReader(doc), default_config_path);
    } catch (const JsonError& e) {
        throw CniError(code::invalid_config, fmt::format("network config: {}", e.what()));
    }
}

std::string error_version(std::string_view text) {
    boost::system::error_code ec;
    const json::value doc = json::parse(text, ec);
    if (!ec && doc.is_object()) {
        if (const auto* version = doc.get_object().if_contains("cniVersion"); version && version->is_string()) {
            const std::string_view v = version->get_string();
            if (is_supported_version(v)) return std::string(v);
        }
    }
    return std::string(k_current_version);
}

}  // namespace anycast::cni

#include "common/pod_lookup_protocol.hpp"

#include "common/json_reader.hpp"

#include <boost/json.hpp>

namespace anycast::common {

namespace json = boost::json;

std::string serve_socket_path(const std::string& state_dir) {
    return state_dir + "/" + std::string(k_serve_socket_name);
}

PodLookupAnswer PodLookupAnswer::found(std::optional<std::string> value, std::string from) {
    return {.ok = true, .value = std::move(value), .error = {}, .transient = false, .from = std::move(from)};
}

PodLookupAnswer PodLookupAnswer::failed(std::string error, bool transient) {
    return {.ok = false, .value = std::nullopt, .error = std::move(error), .transient = transient, .from = {}};
}

std::string encode_request(const PodLookupRequest& request) {
    const json::object line{{"namespace", request.namespace_},
                            {"name", request.name},
                            {"uid", request.uid},
                            {"annotation", request.annotation}};
    return json::serialize(line) + "\n";
}

namespace {

// Kubernetes names are DNS labels and subdomains: never empty, at most 253 bytes.
std::string read_name(const JsonReader& object, std::string_view field) {
    const JsonReader member = object.required(field);
    std::string value = member.as_string();
    if (value.empty() || value.size() > 253) member.fail("must be 1 to 253 bytes");
    return value;
}

}  // namespace

PodLookupRequest parse_request(std::string_view line) {
    const json::value document = parse_json(line, "pod lookup request");
    const JsonReader reader(document, "request");
    reader.as_object();
    PodLookupRequest request;
    request.namespace_ = read_name(reader, "namespace");
    request.name = read_name(reader, "name");
    request.uid = reader.string_or("uid", "");
    request.annotation = read_name(reader, "annotation");
    return request;
}

std::string encode_answer(const PodLookupAnswer& answer) {
    json::object line;
    line["ok"] = answer.ok;
    if (answer.ok) {
        if (answer.value) line["value"] = *answer.value;
        line["from"] = answer.from;
    } else {
        line["error"] = answer.error;
        line["transient"] = answer.transient;
    }
    return json::serialize(line) + "\n";
}

PodLookupAnswer parse_answer(std::string_view line) {
    const json::value document = parse_json(line, "serve's answer");
    const JsonReader reader(document, "answer");
    reader.as_object();
    if (reader.required("ok").as_bool()) {
        std::optional<std::string> value;
        if (const auto member = reader.member("value")) value = member->as_string();
        return PodLookupAnswer::found(std::move(value), reader.string_or("from", ""));
    }
    return PodLookupAnswer::failed(reader.required("error").as_string(), reader.bool_or("transient", false));
}

std::optional<std::string> parse_command(std::string_view line) {
    const json::value document = parse_json(line, "serve.sock request");
    const JsonReader reader(document, "request");
    reader.as_object();
    const auto command = reader.member("command");
    if (!command) return std::nullopt;
    return command->as_string();
}

std::string encode_command(std::string_view command) {
    return json::serialize(json::object{{"command", command}}) + "\n";
}

std::string encode_command_answer(const ServeCommandAnswer& answer) {
    json::object line{{"ok", answer.ok}};
    if (answer.ok) {
        line["state"] = answer.state;
        line["reason"] = answer.reason;
        line["since"] = answer.since;
        json::array reasons;
        for (const auto& reason : answer.reasons)
            reasons.push_back(json::object{{"cause", reason.cause}, {"text", reason.text}, {"since", reason.since}});
        line["reasons"] = std::move(reasons);
        if (!answer.note.empty()) line["note"] = answer.note;
    } else {
        line["error"] = answer.error;
    }
    return json::serialize(line) + "\n";
}

ServeCommandAnswer parse_command_answer(std::string_view line) {
    const json::value document = parse_json(line, "serve's answer");
    const JsonReader reader(document, "answer");
    reader.as_object();
    ServeCommandAnswer answer;
    answer.ok = reader.required("ok").as_bool();
    if (answer.ok) {
        answer.state = reader.required("state").as_string();
        answer.reason = reader.string_or("reason", "");
        answer.since = reader.string_or("since", "");
        if (auto reasons = reader.member("reasons")) {
            for (const auto& reason : reasons->elements()) {
                answer.reasons.push_back({reason.string_or("cause", ""), reason.required("text").as_string(),
                                          reason.string_or("since", "")});
            }
        }
        answer.note = reader.string_or("note", "");
    } else {
        answer.error = reader.required("error").as_string();
    }
    return answer;
}

}  // namespace anycast::common

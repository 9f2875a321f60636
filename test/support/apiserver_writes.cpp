#include "test/support/apiserver_writes.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <regex>

namespace anycast::test {

namespace json = boost::json;

namespace {

const char* const k_media_types =
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
    "application/strategic-merge-patch+json";

// RFC 7386: null removes, objects merge, anything else replaces.
void merge_patch(json::object& target, const json::object& patch) {
    for (const auto& [key, value] : patch) {
        if (value.is_null()) {
            target.erase(key);
        } else if (value.is_object() && target.contains(key) && target.at(key).is_object()) {
            merge_patch(target.at(key).as_object(), value.as_object());
        } else {
            target[key] = value;
        }
    }
}

// Kubernetes' strategic merge for PodStatus: `conditions` is a list merged by `type`, the rest
// as a JSON merge patch. A condition element without `type` is the patch's error.
std::string strategic_merge_status(json::object& status, const json::object& patch) {
    for (const auto& [key, value] : patch) {
        if (key.starts_with("$setElementOrder/")) continue;  // ordering directive: no state
        if (key != "conditions" || !value.is_array()) {
            json::object single{{key, value}};
            merge_patch(status, single);
            continue;
        }
        if (!status.contains("conditions") || !status.at("conditions").is_array()) status["conditions"] = json::array{};
        auto& conditions = status.at("conditions").as_array();
        for (const auto& element : value.as_array()) {
            if (!element.is_object() || !element.as_object().contains("type")) {
                return "map: " + json::serialize(element) + " does not contain declared merge key: type";
            }
            const auto& wanted = element.as_object();
            auto found = std::find_if(conditions.begin(), conditions.end(),
                                      [&](const json::value& c) { return c.at("type") == wanted.at("type"); });
            if (found == conditions.end()) {
                conditions.push_back(wanted);
            } else {
                merge_patch(found->as_object(), wanted);
            }
        }
    }
    return {};
}

bool qualified_name(const std::string& text) {
    static const std::regex name(
        R"(^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$)");
    return text.size() <= 316 && std::regex_match(text, name);
}

bool rfc3339(const json::value& value) {
    static const std::regex time(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$)");
    return value.is_null() || (value.is_string() && std::regex_match(std::string(value.as_string()), time));
}

// The validation of status.conditions that matters here (apiserver: 422 Invalid).
std::string invalid_condition(const json::object& pod) {
    const auto* conditions = pod.at("status").as_object().if_contains("conditions");
    if (conditions == nullptr) return {};
    for (std::size_t i = 0; i < conditions->as_array().size(); ++i) {
        const auto& c = conditions->as_array()[i].as_object();
        const std::string field = fmt::format("status.conditions[{}]", i);
        const auto* type = c.if_contains("type");
        if (type == nullptr || !type->is_string() || !qualified_name(std::string(type->as_string()))) {
            return field + ".type: Invalid value: must be a qualified name";
        }
        const auto* status = c.if_contains("status");
        if (status == nullptr || !status->is_string() ||
            (*status != "True" && *status != "False" && *status != "Unknown")) {
            return field + ".status: Unsupported value: supported values: \"True\", \"False\", \"Unknown\"";
        }
        for (const char* time : {"lastTransitionTime", "lastProbeTime"}) {
            if (const auto* t = c.if_contains(time); t != nullptr && !rfc3339(*t)) {
                return field + "." + time + ": Invalid value: not RFC 3339";
            }
        }
    }
    return {};
}

}  // namespace

WriteOutcome patch_pod_status(json::object& pod, std::string_view content_type, std::string_view body) {
    const bool strategic = content_type == "application/strategic-merge-patch+json";
    if (!strategic && content_type != "application/merge-patch+json") {
        // json-patch and apply are real patch types, but nothing here sends them.
        return {415, "UnsupportedMediaType", k_media_types};
    }
    boost::system::error_code ec;
    const json::value patch = json::parse(body, ec);
    if (ec || !patch.is_object()) return {400, "BadRequest", "the patch is not a JSON object"};
    const auto& object = patch.as_object();
    if (const auto* uid =
            object.if_contains("metadata") ? object.at("metadata").as_object().if_contains("uid") : nullptr;
        uid != nullptr && *uid != pod.at("metadata").at("uid")) {
        return {409, "Conflict",
                fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                            json::serialize(*uid), json::serialize(pod.at("metadata").at("uid")))};
    }
    json::object patched = pod;
    if (const auto* status = object.if_contains("status"); status != nullptr && status->is_object()) {
        if (!patched.contains("status")) patched["status"] = json::object{};
        if (strategic) {
            if (auto error = strategic_merge_status(patched["status"].as_object(), status->as_object());
                !error.empty()) {
                return {400, "BadRequest", error};
            }
        } else {
            json::object single{{"status", *status}};
            merge_patch(patched, single);
        }
    }
    // Everything but status is ignored on the status subresource.
    if (auto invalid = invalid_condition(patched); !invalid.empty()) {
        return {422, "Invalid",
                fmt::format("Pod \"{}\" is invalid: {}", json::serialize(pod.at("metadata").at("name")), invalid)};
    }
    pod = std::move(patched);
    return {};
}

std::optional<std::string> condition_of(const json::object& pod, std::string_view type) {
    const auto* status = pod.if_contains("status");
    const auto* conditions =
        status != nullptr && status->is_object() ? status->as_object().if_contains("conditions") : nullptr;
    if (conditions == nullptr || !conditions->is_array()) return std::nullopt;
    for (const auto& c : conditions->as_array()) {
        if (c.at("type").is_string() && c.at("type").as_string() == type)
            return std::string(c.at("status").as_string());
    }
    return std::nullopt;
}

void kubelet_sync_ready(json::object& pod) {
    std::string missing;
    if (const auto* gates = pod.at("spec").as_object().if_contains("readinessGates")) {
        for (const auto& gate : gates->as_array()) {
            const std::string type(gate.at("conditionType").as_string());
            if (condition_of(pod, type) != "True" && missing.empty()) missing = type;
        }
    }
    const bool ready = condition_of(pod, "ContainersReady") == "True" && missing.empty();
    for (auto& c : pod["status"].as_object()["conditions"].as_array()) {
        auto& condition = c.as_object();
        if (condition["type"] != "Ready") continue;
        condition["status"] = ready ? "True" : "False";
        if (!ready && !missing.empty()) {
            condition["reason"] = "ReadinessGatesNotReady";
            condition["message"] = "corresponding condition of pod readiness gate \"" + missing + "\" is not True";
        } else {
            condition.erase("reason");
            condition.erase("message");
        }
    }
}

WriteOutcome check_event(const std::string& namespace_, std::string_view content_type, std::string_view body,
                         json::object& event) {
    if (content_type != "application/json") return {415, "UnsupportedMediaType", "unsupported media type"};
    boost::system::error_code ec;
    const json::value parsed = json::parse(body, ec);
    if (ec || !parsed.is_object()) return {400, "BadRequest", "the body is not a JSON object"};
    event = parsed.as_object();
    const auto text = [&](const json::object& object, const char* key) -> std::string {
        const auto* value = object.if_contains(key);
        return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
    };
    if (text(event, "kind") != "Event" || text(event, "apiVersion") != "v1") {
        return {400, "BadRequest", "the object is not a v1 Event"};
    }
    const auto* metadata = event.if_contains("metadata");
    if (metadata == nullptr || !metadata->is_object() || text(metadata->as_object(), "name").empty()) {
        return {422, "Invalid", "metadata.name: Required value"};
    }
    if (text(metadata->as_object(), "namespace") != namespace_) {
        return {400, "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request"};
    }
    const auto* involved = event.if_contains("involvedObject");
    if (involved == nullptr || !involved->is_object() || text(involved->as_object(), "namespace") != namespace_ ||
        text(involved->as_object(), "name").empty() || text(involved->as_object(), "kind").empty()) {
        return {422, "Invalid", "involvedObject.namespace: Invalid value: does not match event.namespace"};
    }
    if (text(event, "type") != "Normal" && text(event, "type") != "Warning") {
        return {422, "Invalid", "type: Invalid value: has invalid value, must be Normal or Warning"};
    }
    if (text(event, "reason").empty() || text(event, "reason").size() > 128) {
        return {422, "Invalid", "reason: Invalid value: must be 1 to 128 characters"};
    }
    if (text(event, "message").size() > 1024) return {422, "Invalid", "message: Too long: at most 1024 bytes"};
    return {201, {}, {}};
}

}  // namespace anycast::test

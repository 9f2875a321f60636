#include "common/kube/watch_event.hpp"

#include "common/json_reader.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace anycast::common::kube {

WatchEnvelope parse_watch_envelope(std::string_view line,
                                   const std::function<std::string(const boost::json::value&)>& parse_object) {
    const boost::json::value doc = parse_json(line, "watch event");
    const JsonReader root(doc, "event");
    const std::string type = root.required("type").as_string();
    const JsonReader object = root.required("object");
    WatchEnvelope event;
    if (type == "ADDED" || type == "MODIFIED" || type == "DELETED") {
        event.type = type == "ADDED"      ? WatchEventType::added
                     : type == "MODIFIED" ? WatchEventType::modified
                                          : WatchEventType::deleted;
        event.resource_version = parse_object(object.value());
    } else if (type == "BOOKMARK") {
        // A bookmark carries an otherwise empty object whose only meaningful field is the
        // resourceVersion the watch may resume from.
        event.type = WatchEventType::bookmark;
        event.resource_version = object.required("metadata").required("resourceVersion").as_string();
    } else if (type == "ERROR") {
        event.type = WatchEventType::error;
        event.error_code = static_cast<int>(object.int_or("code", 0, 0, 999));
        event.error_message = object.string_or("message", "");
    } else {
        root.required("type").fail("unknown watch event type \"" + type + "\"");
    }
    return event;
}

WatchEvent parse_watch_event(std::string_view line, std::string_view keep_annotation) {
    WatchEvent event;
    WatchEnvelope envelope = parse_watch_envelope(line, [&](const boost::json::value& object) {
        event.pod = parse_pod(object, keep_annotation);
        return event.pod.resource_version;
    });
    event.type = envelope.type;
    event.resource_version = std::move(envelope.resource_version);
    event.error_code = envelope.error_code;
    event.error_message = std::move(envelope.error_message);
    return event;
}

void LineSplitter::append(std::string_view bytes, std::vector<std::string>& lines) {
    while (!bytes.empty()) {
        const auto newline = bytes.find('\n');
        if (newline == std::string_view::npos) {
            partial_.append(bytes);
            break;
        }
        partial_.append(bytes.substr(0, newline));
        bytes.remove_prefix(newline + 1);
        if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
        if (!partial_.empty()) lines.push_back(std::move(partial_));
        partial_.clear();
    }
    if (partial_.size() > k_max_line) {
        partial_.clear();
        throw std::length_error("watch stream: line longer than 16 MiB");
    }
}

}  // namespace anycast::common::kube

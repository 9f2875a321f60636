// The watch stream's wire format: one JSON object per line, `{"type": ..., "object": ...}`,
// delivered over chunked encoding whose chunk boundaries have nothing to do with lines.
#pragma once

#include "common/kube/pod_info.hpp"

#include <boost/json/fwd.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::common::kube {

enum class WatchEventType { added, modified, deleted, bookmark, error };

struct WatchEvent {
    WatchEventType type = WatchEventType::added;
    PodInfo pod;                   // added / modified / deleted
    std::string resource_version;  // the event's resourceVersion (pod's, or the bookmark's)
    int error_code = 0;            // error: the Status object's code (410 = history compacted)
    std::string error_message;     // error: the Status object's message
};

// The envelope every resource's event line shares. `parse_object` reads the object of an
// ADDED, MODIFIED or DELETED event (the caller keeps what it parsed) and returns its
// resourceVersion; bookmarks and errors need no object parser. JsonError when the line is not
// a well-formed event.
struct WatchEnvelope {
    WatchEventType type = WatchEventType::added;
    std::string resource_version;
    int error_code = 0;
    std::string error_message;
};
WatchEnvelope parse_watch_envelope(std::string_view line,
                                   const std::function<std::string(const boost::json::value&)>& parse_object);

// Parses one pod event line; JsonError when it is not a well-formed event. The pod keeps only
// the annotation `keep_annotation`.
WatchEvent parse_watch_event(std::string_view line, std::string_view keep_annotation = k_ips_annotation);

// Reassembles lines from arbitrary byte pieces. A partial line left when a stream breaks is
// dropped by starting a new splitter for the next stream, never glued to the next stream.
class LineSplitter {
public:
    // A line longer than this is an error (a runaway stream, not a pod).
    static constexpr std::size_t k_max_line = 16 * 1024 * 1024;

    // Appends `bytes` and moves every completed line (without '\n' or '\r') into `lines`.
    // Throws std::length_error when a line exceeds k_max_line.
    void append(std::string_view bytes, std::vector<std::string>& lines);
    std::size_t pending() const { return partial_.size(); }

private:
    std::string partial_;
};

}  // namespace anycast::common::kube

// The pod lookup on serve's local socket, `<stateDir>/serve.sock` (docs/cni.md, "How ADD
// learns the annotation"): the CNI plugin sends one request line, serve answers one line and
// closes. Both are JSON objects; this header holds their types and the pure encode/parse of
// each side, so the plugin (cni/) and serve (reconciler/serve/) share one definition.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::common {

// The socket's name in the state directory.
inline constexpr std::string_view k_serve_socket_name = "serve.sock";
std::string serve_socket_path(const std::string& state_dir);

// A line longer than this is refused unread (either side): names are at most 253 bytes, an
// annotation value at most 256 addresses.
inline constexpr std::size_t k_pod_lookup_line_limit = 64 * 1024;

// "Which anycast IPs does pod namespace/name (uid) ask for, in annotation `annotation`?"
// `uid` may be empty (runtimes that do not pass K8S_POD_UID): then any uid matches.
struct PodLookupRequest {
    std::string namespace_;
    std::string name;
    std::string uid;
    std::string annotation;

    friend bool operator==(const PodLookupRequest&, const PodLookupRequest&) = default;
};

// serve's answer. `ok`: `value` is the annotation's text (nullopt: the pod has none);
// otherwise `error` says why not and `transient` whether asking again may help (the
// plugin's code 11) or not (102).
struct PodLookupAnswer {
    bool ok = false;
    std::optional<std::string> value;
    std::string error;
    bool transient = false;
    std::string from;  // "cache" | "apiserver": where serve found the pod (logs only)

    static PodLookupAnswer found(std::optional<std::string> value, std::string from);
    static PodLookupAnswer failed(std::string error, bool transient);

    friend bool operator==(const PodLookupAnswer&, const PodLookupAnswer&) = default;
};

// One reason a drain holds (the Node cordoned, `flock-anycast drain`, ...).
struct ServeDrainReason {
    std::string cause;  // "manual" | "signal" | "cordon" | "label" | "taint" | "annotation"
    std::string text;
    std::string since;  // RFC 3339 UTC

    friend bool operator==(const ServeDrainReason&, const ServeDrainReason&) = default;
};

// A command to serve on the same socket (issue 18: `flock-anycast drain` / `undrain`):
// {"command":"drain"}; the answer says the drain state afterwards.
struct ServeCommandAnswer {
    bool ok = false;
    std::string state;                      // "announcing" | "draining" | "drained"
    std::string reason;                     // the reasons holding, or what ended the drain
    std::string error;                      // !ok: why not (an unknown command, say)
    std::string since;                      // when `state` began, RFC 3339 UTC
    std::vector<ServeDrainReason> reasons;  // every reason holding now
    std::string note;                       // e.g. an undrain that left the drain on, and why

    friend bool operator==(const ServeCommandAnswer&, const ServeCommandAnswer&) = default;
};

// The command of a command line ("drain"), nullopt for a pod lookup request; JsonError for
// a line that is not a JSON object or whose `command` is not a string.
std::optional<std::string> parse_command(std::string_view line);
std::string encode_command(std::string_view command);
std::string encode_command_answer(const ServeCommandAnswer& answer);
ServeCommandAnswer parse_command_answer(std::string_view line);

// One line each, '\n' included. parse_* take the line without its '\n' and throw JsonError
// naming the field (a request without namespace, an answer neither ok nor failed, ...).
std::string encode_request(const PodLookupRequest& request);
PodLookupRequest parse_request(std::string_view line);
std::string encode_answer(const PodLookupAnswer& answer);
PodLookupAnswer parse_answer(std::string_view line);

}  // namespace anycast::common

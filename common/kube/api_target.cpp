#include "common/kube/api_target.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>

namespace anycast::common::kube {

namespace urls = boost::urls;

namespace {

// Keys and values are escaped down to RFC 3986's unreserved characters, as Go's
// url.QueryEscape does. Boost.URL's params() would leave '+' and '=' as they are (both are
// legal in a query), but the apiserver reads the query with Go's url.ParseQuery, where '+' is
// a space; and the selector's own '=' stays unambiguous as %3D.
void add_param(urls::url& target, std::string_view key, std::string_view value) {
    const std::string encoded_key = urls::encode(key, urls::unreserved_chars);
    const std::string encoded_value = urls::encode(value, urls::unreserved_chars);
    target.encoded_params().append({urls::pct_string_view(encoded_key), urls::pct_string_view(encoded_value)});
}

urls::url node_pods(std::string_view node) {
    urls::url target;
    target.set_encoded_path("/api/v1/pods");
    add_param(target, "fieldSelector", "spec.nodeName=" + std::string(node));
    return target;
}

urls::url node_named(std::string_view node) {
    urls::url target;
    target.set_encoded_path("/api/v1/nodes");
    add_param(target, "fieldSelector", "metadata.name=" + std::string(node));
    return target;
}

void add_watch_params(urls::url& target, std::string_view resource_version, unsigned timeout_seconds) {
    add_param(target, "watch", "true");
    add_param(target, "allowWatchBookmarks", "true");
    add_param(target, "resourceVersion", resource_version);
    add_param(target, "timeoutSeconds", std::to_string(timeout_seconds));
}

}  // namespace

std::string pod_target(std::string_view namespace_, std::string_view name) {
    urls::url target;
    target.set_encoded_path("/api/v1/namespaces");
    auto segments = target.segments();  // each segment percent-encoded, '/' included
    segments.push_back(namespace_);
    segments.push_back("pods");
    segments.push_back(name);
    return std::string(target.buffer());
}

std::string namespace_events_target(std::string_view namespace_) {
    urls::url target;
    target.set_encoded_path("/api/v1/namespaces");
    auto segments = target.segments();
    segments.push_back(namespace_);
    segments.push_back("events");
    return std::string(target.buffer());
}

std::string node_pods_list_target(std::string_view node, unsigned limit, std::string_view continue_token) {
    urls::url target = node_pods(node);
    add_param(target, "limit", std::to_string(limit));
    if (!continue_token.empty()) add_param(target, "continue", continue_token);
    return std::string(target.buffer());
}

std::string node_pods_watch_target(std::string_view node, std::string_view resource_version, unsigned timeout_seconds) {
    urls::url target = node_pods(node);
    add_watch_params(target, resource_version, timeout_seconds);
    return std::string(target.buffer());
}

std::string node_list_target(std::string_view node) { return std::string(node_named(node).buffer()); }

std::string node_watch_target(std::string_view node, std::string_view resource_version, unsigned timeout_seconds) {
    urls::url target = node_named(node);
    add_watch_params(target, resource_version, timeout_seconds);
    return std::string(target.buffer());
}

}  // namespace anycast::common::kube

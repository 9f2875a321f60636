// The request targets (path and query) this agent sends to the apiserver, built with
// Boost.URL so that names and values are percent-encoded. The config's base path is not
// included: make_get prepends it.
#pragma once

#include <string>
#include <string_view>

namespace anycast::common::kube {

// /api/v1/namespaces/<namespace>/pods/<name>
std::string pod_target(std::string_view namespace_, std::string_view name);

// /api/v1/namespaces/<namespace>/events
std::string namespace_events_target(std::string_view namespace_);

// One page of the node's pods:
// /api/v1/pods?fieldSelector=spec.nodeName%3D<node>&limit=<limit>[&continue=<token>]
std::string node_pods_list_target(std::string_view node, unsigned limit, std::string_view continue_token);

// A watch of the node's pods from `resource_version`, with bookmarks, ended by the server after
// `timeout_seconds`: /api/v1/pods?fieldSelector=...&watch=true&allowWatchBookmarks=true
// &resourceVersion=<rv>&timeoutSeconds=<s>
std::string node_pods_watch_target(std::string_view node, std::string_view resource_version, unsigned timeout_seconds);

// The node's own Node object, as a list of at most one (a list gives the resourceVersion a
// watch resumes from): /api/v1/nodes?fieldSelector=metadata.name%3D<node>
std::string node_list_target(std::string_view node);
// Its watch, like node_pods_watch_target.
std::string node_watch_target(std::string_view node, std::string_view resource_version, unsigned timeout_seconds);

}  // namespace anycast::common::kube

// A Kubernetes apiserver stand-in for tests: HTTPS on 127.0.0.1 with a throwaway CA made by
// the openssl CLI, the real wire format (Pod JSON, PodList pages with continue tokens, watch
// streams as line-delimited JSON over chunked encoding, Status objects for errors), and a
// resourceVersion history so watches resume and expire (410) like the real thing. Runs on its
// own thread; every method is thread-safe. Scripts the failures a client must survive.
#pragma once

#include "common/kube/kube_config.hpp"
#include "test/support/apiserver_writes.hpp"  // condition_of
#include "test/support/temp_dir.hpp"
#include "test/support/test_apiserver_nodes.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace anycast::test {

// A CA and a server certificate made with the openssl CLI in a temporary directory, removed
// with the TestPki (tests may put more files there: a kubeconfig, a service account).
struct TestPki {
    TempDir dir{"pki"};
    std::string ca_pem;
    std::string ca_path;
    std::string cert_path;
    std::string key_path;
    // `sans` as for openssl's subjectAltName, e.g. {"IP:127.0.0.1", "DNS:localhost"}.
    static TestPki make(const std::vector<std::string>& sans);
};

// How list pages carry their continue token: honestly, or as a broken server might.
enum class ContinueMode {
    honest,   // a token while items remain
    repeat,   // every page answers with the first page's token again
    endless,  // a new token on every page, past the end, forever
};

// A write the server took or refused: method, target and the status it answered.
struct ApiWrite {
    std::string method;
    std::string target;
    unsigned status = 0;
};

struct ApiserverOptions {
    std::string token = "test-token";  // the only bearer token accepted
    std::vector<std::string> sans = {"IP:127.0.0.1", "DNS:localhost"};
};

class TestApiserver {
public:
    explicit TestApiserver(ApiserverOptions options = {});
    ~TestApiserver();
    TestApiserver(const TestApiserver&) = delete;
    TestApiserver& operator=(const TestApiserver&) = delete;

    unsigned short port() const;
    const TestPki& pki() const;
    // A client config for this server: its CA, 127.0.0.1, the given token (default: the
    // accepted one).
    common::kube::KubeConfig client_config(std::optional<std::string> token = std::nullopt) const;
    // Writes a kubeconfig for this server (CA and token inline) and returns its path.
    std::string write_kubeconfig(const std::string& path, std::optional<std::string> token = std::nullopt) const;

    // State changes, each one a new resourceVersion and an event to the matching watches.
    void put_pod(boost::json::object pod);                                    // ADDED when new, else MODIFIED
    void delete_pod(const std::string& namespace_, const std::string& name);  // DELETED
    // The node's own Node object (test_apiserver_nodes.hpp makes one): list and watch of
    // /api/v1/nodes with fieldSelector=metadata.name, in the same history as the pods.
    void put_node(boost::json::object node);  // ADDED when new, else MODIFIED
    void delete_node(const std::string& name);
    // Another node's pod changed: the resourceVersion moves, our node's watches see nothing.
    void change_elsewhere();
    // Stream scripting.
    void send_bookmark();                     // BOOKMARK at the current resourceVersion
    void send_raw(const std::string& bytes);  // e.g. a malformed line
    // put_pod whose event line is cut in the middle of a chunk on every open watch, whose
    // connections then drop (the event is in the history: a resumed watch receives it).
    void put_pod_cut_mid_event(boost::json::object pod);
    void end_watches();  // a clean end (terminal chunk), as when timeoutSeconds elapses
    // Forgets the history: watches from an older resourceVersion get ERROR 410 Gone.
    void compact();
    void set_continue_mode(ContinueMode mode);
    // Refuses connections (closes the listener and every connection) / listens again.
    void go_away();
    void come_back();

    // Observation.
    // Open watches of "pods" (the default) or "nodes".
    std::size_t open_watches(const std::string& resource = "pods") const;
    std::vector<std::string> requests() const;  // request targets in arrival order
    std::string resource_version() const;
    // Writes (test/support/apiserver_writes.hpp): pods/status patches, answered like the real
    // apiserver (the kubelet's Ready follows at once), and Events, kept in arrival order.
    std::vector<boost::json::object> events() const;
    std::vector<ApiWrite> writes() const;
    std::optional<boost::json::object> pod(const std::string& namespace_, const std::string& name) const;
    // Every write answered with `status` (e.g. 503) from now on; 0 takes them again.
    void fail_writes(unsigned status);

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// A Pod object in the apiserver's full shape (the fixture pod_ready.json) with this identity,
// scheduled on `node`, Ready as given, and the anycast annotation when `ips` is not empty.
boost::json::object make_pod(const std::string& namespace_, const std::string& name, const std::string& node,
                             bool ready, const std::string& ips = {});
// Sets the Ready and ContainersReady conditions.
void set_ready(boost::json::object& pod, bool ready);
// Adds spec.readinessGates[{conditionType}]; Ready then follows the kubelet's rule.
void add_readiness_gate(boost::json::object& pod, const std::string& condition_type = "anycast.flock.io/announced");
// Sets ContainersReady, and Ready as the kubelet would (with the pod's readiness gates).
void set_containers_ready(boost::json::object& pod, bool ready);
// Sets metadata.deletionTimestamp (kubectl delete: SIGTERM sent, grace period running).
void set_deleting(boost::json::object& pod);

}  // namespace anycast::test

// What the test apiserver is set up with (declared in test/support/test_apiserver.hpp): its
// throwaway PKI, and the Pod objects tests put into it, with their conditions as the kubelet
// sets them.
#include "test/support/apiserver_writes.hpp"
#include "test/support/process.hpp"
#include "test/support/test_apiserver.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace anycast::test {

namespace json = boost::json;

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TestPki TestPki::make(const std::vector<std::string>& sans) {
    TestPki pki;
    std::string san_list;
    for (const auto& san : sans) san_list += (san_list.empty() ? "" : ",") + san;
    sh(
        fmt::format("cd '{0}' && "
                    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                    "  -subj /CN=flock-test-ca -keyout ca.key -out ca.crt 2>/dev/null && "
                    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                    "  -subj /CN=kube-apiserver -keyout server.key -out server.csr 2>/dev/null && "
                    "printf 'subjectAltName=%s\\nextendedKeyUsage=serverAuth\\n' '{1}' > server.ext && "
                    "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
                    "  -extfile server.ext -out server.crt 2>/dev/null",
                    pki.dir.path(), san_list));
    pki.ca_path = pki.dir.file("ca.crt");
    pki.cert_path = pki.dir.file("server.crt");
    pki.key_path = pki.dir.file("server.key");
    pki.ca_pem = read_text(pki.ca_path);
    return pki;
}

json::object make_pod(const std::string& namespace_, const std::string& name, const std::string& node, bool ready,
                      const std::string& ips) {
    json::object pod = json::parse(read_text(std::string(FLOCK_KUBE_FIXTURES) + "/pod_ready.json")).as_object();
    auto& metadata = pod["metadata"].as_object();
    metadata["namespace"] = namespace_;
    metadata["name"] = name;
    metadata["uid"] = "uid-" + namespace_ + "-" + name;
    auto& annotations = metadata["annotations"].as_object();
    if (ips.empty()) {
        annotations.erase("anycast.flock.io/ips");
    } else {
        annotations["anycast.flock.io/ips"] = ips;
    }
    pod["spec"].as_object()["nodeName"] = node;
    set_ready(pod, ready);
    return pod;
}

void set_ready(json::object& pod, bool ready) {
    for (auto& condition : pod["status"].as_object()["conditions"].as_array()) {
        auto& c = condition.as_object();
        if (c["type"] == "Ready" || c["type"] == "ContainersReady") c["status"] = ready ? "True" : "False";
    }
}

void add_readiness_gate(json::object& pod, const std::string& condition_type) {
    auto& spec = pod["spec"].as_object();
    if (!spec.contains("readinessGates")) spec["readinessGates"] = json::array{};
    spec["readinessGates"].as_array().push_back(json::object{{"conditionType", condition_type}});
    kubelet_sync_ready(pod);
}

void set_containers_ready(json::object& pod, bool ready) {
    for (auto& condition : pod["status"].as_object()["conditions"].as_array()) {
        auto& c = condition.as_object();
        if (c["type"] == "ContainersReady") c["status"] = ready ? "True" : "False";
    }
    kubelet_sync_ready(pod);
}

void set_deleting(json::object& pod) {
    auto& metadata = pod["metadata"].as_object();
    metadata["deletionTimestamp"] = "2026-11-24T10:12:40Z";
    metadata["deletionGracePeriodSeconds"] = 30;
}

}  // namespace anycast::test

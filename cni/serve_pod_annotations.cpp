#include "cni/serve_pod_annotations.hpp"

#include "cni/spec/cni_error.hpp"
#include "common/json_reader.hpp"
#include "common/pod_lookup_protocol.hpp"

#include "common/serve_socket_client.hpp"

#include <optional>

namespace anycast::cni {

namespace {

class ServePodAnnotations final : public PodAnnotationSource {
public:
    ServePodAnnotations(std::string socket_path, std::chrono::milliseconds deadline)
        : socket_path_(std::move(socket_path)), deadline_(deadline) {}

    std::optional<std::string> annotation(const common::PodRef& pod, std::string_view key) override {
        const common::PodLookupRequest request{
            .namespace_ = pod.namespace_, .name = pod.name, .uid = pod.uid, .annotation = std::string(key)};
        const std::string line = exchange(common::encode_request(request));
        common::PodLookupAnswer answer;
        try {
            answer = common::parse_answer(line);
        } catch (const common::JsonError& e) {
            throw CniError(cni_code::kubernetes_lookup_failed, "pod " + pod.namespace_ + "/" + pod.name +
                                                                   ": serve's answer on " + socket_path_ +
                                                                   " is not one: " + e.what());
        }
        if (!answer.ok) {
            throw CniError(answer.transient ? cni_code::try_again_later : cni_code::kubernetes_lookup_failed,
                           "pod " + pod.namespace_ + "/" + pod.name + ": serve's lookup failed: " + answer.error);
        }
        return answer.value;
    }

private:
    // One request, one answer line; no answer in time or no serve at all passes (code 11), so
    // the runtime's retry may succeed.
    std::string exchange(const std::string& request) const {
        try {
            return common::serve_socket_exchange(socket_path_, request, deadline_);
        } catch (const common::ServeSocketError& e) {
            throw CniError(cni_code::try_again_later, std::string(e.what()) + " (pod annotation lookup)");
        }
    }

    std::string socket_path_;
    std::chrono::milliseconds deadline_;
};

}  // namespace

std::unique_ptr<PodAnnotationSource> make_serve_pod_annotations(std::string socket_path,
                                                                std::chrono::milliseconds deadline) {
    return std::make_unique<ServePodAnnotations>(std::move(socket_path), deadline);
}

}  // namespace anycast::cni

#include "cni/serve_pod_annotations.hpp"

#include "cni/spec/cni_error.hpp"
#include "common/json_reader.hpp"
#include "common/pod_lookup_protocol.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <optional>

namespace anycast::cni {

namespace {

namespace net = boost::asio;
using local = net::local::stream_protocol;

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
    // One request, one answer line (without its '\n'); all of it within the deadline.
    std::string exchange(const std::string& request) const {
        net::io_context io;
        local::socket socket(io);
        net::streambuf reply(common::k_pod_lookup_line_limit);
        std::optional<boost::system::error_code> outcome;
        std::size_t length = 0;
        socket.async_connect(local::endpoint(socket_path_), [&](boost::system::error_code ec) {
            if (ec) {
                outcome = ec;
                return;
            }
            net::async_write(socket, net::buffer(request), [&](boost::system::error_code ec, std::size_t) {
                if (ec) {
                    outcome = ec;
                    return;
                }
                net::async_read_until(socket, reply, '\n', [&](boost::system::error_code ec, std::size_t n) {
                    outcome = ec;
                    length = n;
                });
            });
        });
        io.run_for(deadline_);
        if (!outcome) {
            throw CniError(cni_code::try_again_later, "serve did not answer the pod lookup on " + socket_path_ +
                                                          " within " + std::to_string(deadline_.count()) + " ms");
        }
        if (*outcome) {
            // No socket (serve not started yet), refused (serve gone), closed unanswered (serve
            // busy or restarting): all pass, so the runtime's retry may succeed.
            throw CniError(cni_code::try_again_later, "asking serve for the pod's annotation on " + socket_path_ +
                                                          ": " + outcome->message() +
                                                          " (is flock-anycast serve running on this node?)");
        }
        return {net::buffers_begin(reply.data()), net::buffers_begin(reply.data()) + length - 1};
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

// Fuzz target pod_lookup: the lines of serve.sock (common/pod_lookup_protocol), a request as
// serve reads it from a local client and an answer as the CNI plugin reads it from serve.
// Expected: JsonError; whatever parses encodes back to a line that parses to the same value.
#include "common/json_reader.hpp"
#include "common/pod_lookup_protocol.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <string>

namespace {

using namespace anycast;
using anycast::fuzz::require;

std::string_view without_newline(const std::string& line) { return std::string_view(line).substr(0, line.size() - 1); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::quiet_logs();
    const std::string_view text = fuzz::as_text(data, size);
    try {
        const auto request = common::parse_request(text);
        require(common::parse_request(without_newline(common::encode_request(request))) == request,
                "a request reads back as encoded");
    } catch (const common::JsonError&) {}
    try {
        const auto answer = common::parse_answer(text);
        require(common::parse_answer(without_newline(common::encode_answer(answer))) == answer,
                "an answer reads back as encoded");
    } catch (const common::JsonError&) {}
    return 0;
}

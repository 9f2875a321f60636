// Base64 as kubeconfig's `*-data` fields hold it: the standard alphabet with padding
// (RFC 4648 section 4), which is what kubectl writes and client-go (Go's
// base64.StdEncoding) reads. OpenSSL's EVP encoder does the work.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace anycast::common::kube {

// The decoded bytes, or nullopt when `text` is not padded standard base64. Line breaks and
// spaces are skipped (a long value may be folded over several YAML lines).
std::optional<std::string> base64_decode(std::string_view text);

// Padded standard base64 on one line.
std::string base64_encode(std::string_view bytes);

}  // namespace anycast::common::kube

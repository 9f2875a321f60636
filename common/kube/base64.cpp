#include "common/kube/base64.hpp"

#include <openssl/evp.h>

#include <climits>
#include <stdexcept>

namespace anycast::common::kube {

std::optional<std::string> base64_decode(std::string_view text) {
    std::string clean;
    clean.reserve(text.size());
    for (char c : text) {
        if (c != '\n' && c != '\r' && c != ' ') clean += c;
    }
    // EVP_DecodeBlock decodes '=' as zero bits wherever it stands and silently drops trailing
    // characters it takes for line ends or EOF ('-', as in PEM): the padding is checked here,
    // and the length it reports must cover every 4-character group.
    const std::size_t data_end = clean.find_last_not_of('=') + 1;  // npos + 1 == 0: all '=' or empty
    const std::size_t pad = clean.size() - data_end;
    if (clean.size() % 4 != 0 || pad > 2 || clean.find('=') < data_end || clean.size() > INT_MAX) {
        return std::nullopt;
    }
    std::string out(clean.size() / 4 * 3, '\0');
    const int written =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
    // The length it returns includes the zero bytes decoded from the padding.
    if (written < 0 || static_cast<std::size_t>(written) != out.size()) return std::nullopt;
    out.resize(out.size() - pad);
    return out;
}

std::string base64_encode(std::string_view bytes) {
    if (bytes.size() > INT_MAX / 4 * 3) throw std::length_error("base64_encode: input too large");
    // EVP_EncodeBlock writes 4 characters per started 3-byte group, then a NUL.
    std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
    const int written =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

}  // namespace anycast::common::kube

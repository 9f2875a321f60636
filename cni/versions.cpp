#include "cni/versions.hpp"

#include <algorithm>

namespace anycast::cni {

bool is_supported_version(std::string_view version) {
    return std::find(k_supported_versions.begin(), k_supported_versions.end(), version) != k_supported_versions.end();
}

}  // namespace anycast::cni

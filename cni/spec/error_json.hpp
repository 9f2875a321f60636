// The spec's error result: {"cniVersion","code","msg","details"}.
#pragma once

#include <string>
#include <string_view>

namespace anycast::cni {

std::string error_json(std::string_view cni_version, int code, std::string_view msg, std::string_view details);

}  // namespace anycast::cni

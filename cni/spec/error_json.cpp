#include "cni/spec/error_json.hpp"

#include <boost/json.hpp>

namespace anycast::cni {

std::string error_json(std::string_view cni_version, int code, std::string_view msg, std::string_view details) {
    boost::json::object error;
    error["cniVersion"] = cni_version;
    error["code"] = code;
    error["msg"] = msg;
    if (!details.empty()) error["details"] = details;
    return boost::json::serialize(error);
}

}  // namespace anycast::cni

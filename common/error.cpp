#include "common/error.hpp"

#include <cstring>

namespace anycast::common {

SystemError::SystemError(int err, const std::string& context)
    : std::runtime_error(context + ": " + std::strerror(err)), errno_(err) {}

void throw_errno_value(int err, const std::string& context) { throw SystemError(err, context); }

}  // namespace anycast::common

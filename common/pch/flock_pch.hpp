// The precompiled header of the project's libraries (cpp_pch in their meson.build): the
// external headers nearly every source includes, Boost.JSON's and fmt's above all, parsed once
// per library instead of once per file. Only external headers belong here, so no source can
// come to depend on it for the project's own declarations; a build with -Db_pch=false (the
// sanitizer build test/run.sh makes) compiles every file without it. It cut the normal
// build's compile of cni/ from 39.6 to 28.3 CPU seconds (docs/reliability.md, "Suite time").
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

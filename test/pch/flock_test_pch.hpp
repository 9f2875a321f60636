// The test binaries' precompiled header (normal build only; the sanitizer build is a unity build
// without one: test/sanitize.ini). Catch2's single header, Boost.JSON and fmt are what nearly
// every test file includes: about 1.9 s of parsing per file at -Og, once per binary instead
// (docs/reliability.md, "Suite time"). External headers only, so a test file that forgets an
// include of the project still fails to compile.

#include "common/pch/flock_pch.hpp"

#include <catch2/catch.hpp>

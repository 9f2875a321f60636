// The CNI_* environment of one invocation (CNI spec 1.1, "Parameters"), validated per verb.
#pragma once

#include "cni/spec/cni_args.hpp"

#include <functional>
#include <optional>
#include <string>

namespace anycast::cni {

// The process environment as the plugin sees it; a function so tests can pass a map.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

EnvLookup process_environment();

enum class Verb { add, del, check, gc, status, version };

struct CniEnvironment {
    Verb verb = Verb::version;
    std::string command;       // CNI_COMMAND as given
    std::string container_id;  // CNI_CONTAINERID
    std::string netns;         // CNI_NETNS (may be empty for DEL)
    std::string ifname;        // CNI_IFNAME
    CniArgs args;              // CNI_ARGS
};

// Reads and checks what the verb needs: ADD and CHECK need CNI_CONTAINERID, CNI_NETNS and
// CNI_IFNAME; DEL needs CNI_CONTAINERID and CNI_IFNAME; GC, STATUS and VERSION none.
// A missing or malformed variable is CniError code 4 naming it.
CniEnvironment read_environment(const EnvLookup& env);

}  // namespace anycast::cni

// CNI plugin mode: the verbs of CNI spec 1.1, dispatched on CNI_COMMAND.
#pragma once

#include "cni/pod_annotations.hpp"
#include "cni/spec/environment.hpp"

#include <string>

namespace anycast::cni {

// Runs one CNI invocation: reads the network config from `stdin_text`, writes the result or
// the spec's error JSON to `out`. Returns the process exit code (0 success, 1 error).
// `annotations` makes the pod annotation source (default: make_pod_annotation_source).
int run_plugin(const EnvLookup& env, const std::string& stdin_text, std::string& out,
               const PodAnnotationFactory& annotations = make_pod_annotation_source);

}  // namespace anycast::cni

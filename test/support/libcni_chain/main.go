// libcni_chain runs a conflist through libcni, the library containerd and CRI-O embed (Debian's
// golang-github-appc-cni-dev, 1.1.x): ADD, CHECK and DEL exactly as a runtime calls them, with
// libcni's result cache, so CHECK hands every plugin the chain's cached final result.
//
// Usage: libcni_chain add|check|del CONFLIST CONTAINER_ID NETNS IFNAME CACHE_DIR [K=V;K=V]
// Plugins are found in $CNI_PATH. ADD prints the result; a failure prints the plugin's error
// ("code N: msg") on stderr and exits 1.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
)

func fail(err error) {
	if e, ok := err.(*types.Error); ok {
		fmt.Fprintf(os.Stderr, "code %d: %s\n", e.Code, e.Msg)
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(1)
}

func main() {
	if len(os.Args) < 7 {
		fmt.Fprintln(os.Stderr, "usage: libcni_chain add|check|del CONFLIST CONTAINER_ID NETNS IFNAME CACHE_DIR [K=V;K=V]")
		os.Exit(2)
	}
	command, conflist, id, netns, ifname, cacheDir := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6]
	list, err := libcni.ConfListFromFile(conflist)
	if err != nil {
		fail(err)
	}
	runtime := &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: ifname}
	if len(os.Args) > 7 && os.Args[7] != "" {
		for _, pair := range strings.Split(os.Args[7], ";") {
			kv := strings.SplitN(pair, "=", 2)
			if len(kv) == 2 {
				runtime.Args = append(runtime.Args, [2]string{kv[0], kv[1]})
			}
		}
	}
	cni := libcni.NewCNIConfigWithCacheDir(strings.Split(os.Getenv("CNI_PATH"), ":"), cacheDir, nil)
	ctx := context.Background()
	switch command {
	case "add":
		result, err := cni.AddNetworkList(ctx, list, runtime)
		if err != nil {
			fail(err)
		}
		if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
			fail(err)
		}
	case "check":
		if err := cni.CheckNetworkList(ctx, list, runtime); err != nil {
			fail(err)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, runtime); err != nil {
			fail(err)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown command", command)
		os.Exit(2)
	}
}

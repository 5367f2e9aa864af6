// kstatus: prints the status that sigs.k8s.io/cli-utils/pkg/kstatus computes for each object of a
// JSON List read from stdin, one `name status message` line per object. These are the rules Flux,
// kpt and the cli-utils appliers use; e2e/kstatus/kstatus.test.ts runs them over our objects.
package main

import (
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kstatus: reading stdin:", err)
		os.Exit(2)
	}
	list := &unstructured.UnstructuredList{}
	// The unstructured decoder keeps integers as int64, as kstatus expects (encoding/json would
	// make them float64).
	if err := list.UnmarshalJSON(data); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus: reading a JSON List from stdin:", err)
		os.Exit(2)
	}
	for i := range list.Items {
		u := &list.Items[i]
		res, err := status.Compute(u)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kstatus:", u.GetName(), err)
			os.Exit(1)
		}
		fmt.Printf("%s %s %s\n", u.GetName(), res.Status, res.Message)
	}
}

// Command gantrain trains generative adversarial networks on the CPU.
//
// See doc.go for the manual, or run `gantrain --help`.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
